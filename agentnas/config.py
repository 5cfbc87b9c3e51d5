"""Run settings from a TOML file plus command-line overrides, into one typed RunConfig.

Precedence: built-in defaults < ``--config FILE.toml`` (keys as in :class:`RunConfig`,
top level or under ``[run]``) < options given on the command line.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from agentnas.graph.config import RunConfig
from agentnas.tools.errors import UserError


def load_config(path: Path | None, overrides: dict[str, Any]) -> RunConfig:
    values: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise UserError(f"config file {path} is not valid TOML: {exc}") from None
        values = dict(data.get("run", data))
        unknown = sorted(set(values) - set(RunConfig.model_fields))
        if unknown:
            raise UserError(
                f"unknown setting(s) in {path}: {', '.join(unknown)}; "
                f"known: {', '.join(RunConfig.model_fields)}"
            )
    values.update({k: v for k, v in overrides.items() if v is not None})
    return RunConfig.build(**values)
