"""Run settings from a TOML file plus command-line overrides, into one typed RunConfig.

Precedence: built-in defaults < ``--config FILE.toml`` (keys as in :class:`RunConfig`,
top level or under ``[run]``, or by concern under ``[search]``, ``[llm]``, ``[evaluation]``
and ``[infrastructure]``, each taking its own settings) < options given on the command line.

A ``[prices]`` table gives the price of model use in USD per million tokens, either for
the run's model directly (``input = 2.0``, ``output = 8.0``) or per model, keyed by the
``--llm`` spec or the bare model name (``[prices."openai:gpt-4.1"]`` or
``[prices.gpt-4.1]``, each with ``input`` and ``output``). It sets ``price_in`` /
``price_out`` unless these are given as settings or options.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from agentnas.graph.config import SECTIONS, RunConfig
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
        prices = data.get("prices")
        values = _settings_of(data, path)
        unknown = sorted(set(values) - set(RunConfig.model_fields))
        if unknown:
            raise UserError(
                f"unknown setting(s) in {path}: {', '.join(unknown)}; "
                f"known: {', '.join(RunConfig.model_fields)}"
            )
    else:
        prices = None
    values.update({k: v for k, v in overrides.items() if v is not None})
    if prices is not None:
        for field, price in _prices_of(prices, str(values.get("llm") or ""), path).items():
            values.setdefault(field, price)
    if isinstance(values.get("kb_dir"), str) and values["kb_dir"]:
        # absolute: a --resume from another folder must find this KB, not make a new one
        values["kb_dir"] = str(Path(values["kb_dir"]).expanduser().resolve())
    return RunConfig.build(**values)


def _settings_of(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """The run settings of a parsed ``--config`` file: its top level (or ``[run]``) and
    its concern tables, each holding only its concern's settings, none given twice."""
    table = data.get("run", data)
    if not isinstance(table, dict):
        raise UserError(f"'run' in {path} must be a table ([run]) of run settings")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTIONS and isinstance(value, dict):  # [llm] as a table; llm = "…" a setting
            fields = SECTIONS[key].model_fields
            wrong = sorted(set(value) - set(fields))
            if wrong:
                raise UserError(
                    f"unknown setting(s) in [{key}] of {path}: {', '.join(wrong)}; "
                    f"[{key}] takes: {', '.join(fields)}"
                )
            values.update(value)
    for key, value in table.items():
        if table is data and (key == "prices" or (key in SECTIONS and isinstance(value, dict))):
            continue
        if key in values:
            raise UserError(f"setting '{key}' is given twice in {path}")
        values[key] = value
    return values


def _prices_of(prices: Any, llm: str, path: Path | None) -> dict[str, float]:
    """``{"price_in", "price_out"}`` from a ``[prices]`` table for the model ``llm`` names
    (nothing when the table has no entry for it)."""
    if not isinstance(prices, dict):
        raise UserError(f"'prices' in {path} must be a table ([prices]) of USD per 1M tokens")
    entry: Any = prices
    if not ({"input", "output"} & set(prices)):  # keyed by model
        model = llm.partition(":")[2]
        entry = prices.get(llm, prices.get(model)) if llm else None
        if entry is None:
            return {}
    if not isinstance(entry, dict) or set(entry) - {"input", "output"}:
        raise UserError(
            f"[prices] in {path}: give 'input' and 'output' (USD per million tokens), for "
            f'the run\'s model or under its name (e.g. [prices."openai:gpt-4.1"]); got {entry!r}'
        )
    names = {"input": "price_in", "output": "price_out"}
    return {names[k]: v for k, v in entry.items()}
