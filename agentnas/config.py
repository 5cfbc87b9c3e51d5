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
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read config file {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise UserError(f"config file {path} is not valid TOML: {exc}") from None
        table = data.get("run", data)
        if not isinstance(table, dict):
            raise UserError(f"'run' in {path} must be a table ([run]) of run settings")
        values = dict(table)
        unknown = sorted(set(values) - set(RunConfig.model_fields))
        if unknown:
            raise UserError(
                f"unknown setting(s) in {path}: {', '.join(unknown)}; "
                f"known: {', '.join(RunConfig.model_fields)}"
            )
    values.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(values.get("kb_dir"), str) and values["kb_dir"]:
        # absolute: a --resume from another folder must find this KB, not make a new one
        values["kb_dir"] = str(Path(values["kb_dir"]).expanduser().resolve())
    return RunConfig.build(**values)
