"""The options of the commands that start a search (``agentnas run``, ``chat``, and the
agent runs of ``bench search``), declared once.

Each :class:`RunOption` holds an option's name, value type, help text and the
:class:`~agentnas.graph.config.RunConfig` field it sets. :func:`with_run_options` gives a
command every option of :data:`RUN_OPTIONS` (as ``None`` = not given: ``--config`` or the
default decides) and hands them to it as one ``settings`` dict; :func:`run_config` turns
that dict into a ``RunConfig``. A command whose option means something slightly different
(``bench search``'s defaults) takes the declaration with its own help via
:meth:`RunOption.annotated`. An option added here reaches ``run`` and ``chat``, their
``--resume`` refusal and the RunConfig at once.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from agentnas.config import load_config
from agentnas.graph.config import CAP_FIELDS, RunConfig, section_of
from agentnas.tools.errors import UserError


def _objective_list(text: str) -> list[str]:
    return [o.strip() for o in text.split(",")]


def backend_options(items: list[str] | None) -> dict[str, Any] | None:
    """``["draws=8", "cache=false", "shifter=mems"]`` -> ``{"draws": 8, "cache": False,
    "shifter": "mems"}``: a value is read as JSON (numbers, true/false, lists, objects),
    else as a number (``inf``), else kept as text. None when no option is given."""
    if not items:
        return None
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UserError(f"--backend-option takes KEY=VALUE; got {item!r}")
        out[key] = _option_value(value)
    return out


def _option_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


# the --help panel of each concern of the run settings (graph.config.SECTIONS)
PANELS = {
    "search": "Search",
    "llm": "LLM",
    "evaluation": "Evaluation",
    "infrastructure": "Infrastructure",
}


@dataclass(frozen=True)
class RunOption:
    """One option of the commands that start a search.

    ``name``: the Python parameter (``--name`` with ``-`` for ``_`` unless ``decls`` says
    otherwise); ``type``: the value's type (``None`` is always allowed: not given);
    ``field``: the RunConfig field the value sets (``None``: not a RunConfig field, like
    ``--out``); ``convert``: the value as that field wants it."""

    name: str
    type: Any
    help: str
    field: str | None = None
    decls: tuple[str, ...] = ()
    convert: Callable[[Any], Any] | None = None

    def annotated(self, help: str | None = None) -> Any:
        """The ``Annotated`` type Typer reads, with this help or the declared one; ``--help``
        lists the option under its field's concern (search, LLM, evaluation, infrastructure)."""
        section = section_of(self.field) if self.field else None
        option = typer.Option(
            *self.decls,
            help=self.help if help is None else help,
            rich_help_panel=PANELS[section] if section else None,
        )
        return Annotated[self.type | None, option]

    def config_value(self, value: Any) -> Any:
        return value if value is None or self.convert is None else self.convert(value)


RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption("space", str, "search space: nb201 | photonic-mlp", "space"),
    RunOption(
        "dataset",
        str,
        "nb201: cifar10 | cifar100 | ImageNet16-120; photonic-mlp: mnist | digits",
        "dataset",
    ),
    RunOption("hardware", str, "backend, see `agentnas hardware list`", "hardware"),
    RunOption(
        "objectives", str, "e.g. accuracy,latency (2 or 3)", "objectives", convert=_objective_list
    ),
    RunOption("accuracy", str, "table (oracle) | zero-cost | backend", "accuracy"),
    RunOption("llm", str, "offline (default) | openai:MODEL | replay:FILE", "llm"),
    RunOption("rounds", int, "design rounds (default 10)", "rounds"),
    RunOption("budget", int, "distinct architectures evaluated (default 100)", "budget"),
    RunOption("seed", int, "random seed (default 0)", "seed"),
    RunOption("partitions", int, "number of partitions K (default 6)", "partitions"),
    RunOption(
        "max_llm_calls",
        int,
        "cap: model requests over the whole run, retries included",
        "max_llm_calls",
    ),
    RunOption("token_budget", int, "cap: input + output tokens over the whole run", "token_budget"),
    RunOption(
        "cost_budget",
        float,
        "cap: USD over the whole run, at --price-in/--price-out (or a prices table in --config)",
        "cost_budget",
    ),
    RunOption(
        "time_budget",
        float,
        "cap: seconds of wall time over the whole run, every --resume counted. A cap that "
        "is reached stops the run at the next round boundary (exit 4; --resume with a larger "
        "cap continues); with --on-llm-failure fallback the offline policy goes on instead",
        "time_budget",
    ),
    RunOption("price_in", float, "USD per million input tokens of the model", "price_in"),
    RunOption("price_out", float, "USD per million output tokens of the model", "price_out"),
    RunOption(
        "on_llm_failure",
        str,
        "stop (default): an unreachable or refusing endpoint stops the run, exit 3, "
        "resumable; fallback: the offline policy answers instead, and the run says how often",
        "on_llm_failure",
    ),
    RunOption("kb", Path, "knowledge-base folder shared across runs", "kb_dir", convert=str),
    RunOption(
        "reuse_evaluations",
        str,
        "RUN_DIR[,RUN_DIR...]: earlier runs' measured cells as data for the accuracy model "
        "(table accuracy from any device of the same space and dataset; other metrics from "
        "the same device only). Off by default; reported apart from heuristics; the cells "
        "are not evaluations of this run.",
        "reuse_evaluations",
        convert=lambda v: [p.strip() for p in v.split(",") if p.strip()],
    ),
    RunOption(
        "dedupe_isomorphic",
        bool,
        "skip cells isomorphic to evaluated ones. The benchmarks measured isomorphic "
        "cells separately, so this caps the reachable HV ratio (about 0.98 on fpga when "
        "only the first member of each class is kept).",
        "dedupe_isomorphic",
        decls=("--dedupe-isomorphic/--keep-isomorphic",),
    ),
    RunOption(
        "backend_option",
        list[str],
        "KEY=VALUE for simulating backends, e.g. draws=8",
        "backend_options",
        decls=("--backend-option",),
        convert=backend_options,
    ),
    RunOption("out", Path, "run folder (default runs/<timestamp>)"),
    RunOption("config", Path, "TOML file with run settings"),
)
OPTION = {o.name: o for o in RUN_OPTIONS}

# options of run and chat that are not run settings (they are allowed with --resume)
ResumeOpt = Annotated[Path | None, typer.Option(help="continue the run in this folder")]
ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        help="where evaluations run: local | processes[:N] | ray | ray:ADDRESS (default: "
        "$AGENTNAS_EXECUTOR, else a local pool when evaluations train or score proxies, "
        "else local); results do not depend on it",
        rich_help_panel=PANELS["infrastructure"],
    ),
]


def _panel_order(option: RunOption) -> int:
    """Options in --help by concern, in :data:`PANELS` order (declaration order within)."""
    section = section_of(option.field) if option.field else None
    return list(PANELS).index(section) if section else len(PANELS)


def with_run_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """A Typer command with every :data:`RUN_OPTIONS` option before its own parameters.

    ``command(settings, **own)`` receives the run options as one dict ``settings``
    (option name -> value, ``None`` where not given) and its own parameters by name."""
    own = list(inspect.signature(command, eval_str=True).parameters.values())[1:]
    shared = [
        inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=None,
                          annotation=o.annotated())
        for o in sorted(RUN_OPTIONS, key=_panel_order)
    ]  # fmt: skip
    own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]

    @functools.wraps(command)
    def typer_command(**values: Any) -> Any:
        settings = {o.name: values.pop(o.name) for o in RUN_OPTIONS}
        return command(settings, **values)

    params = [*shared, *own]
    typer_command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    typer_command.__annotations__ = {p.name: p.annotation for p in params}
    return typer_command


def run_config(settings: dict[str, Any]) -> RunConfig:
    """The RunConfig of the run options (None: not given) over ``--config``."""
    overrides = {
        o.field: o.config_value(settings.get(o.name)) for o in RUN_OPTIONS if o.field is not None
    }
    return load_config(settings.get("config"), overrides)


def refuse_with_resume(settings: dict[str, Any]) -> dict[str, Any]:
    """``--resume`` continues with the settings in RUN_DIR/config.json; an option given
    with it would be silently ignored, so it is refused instead. Only the caps on model
    use (:data:`~agentnas.graph.config.CAP_FIELDS`) may be given, to raise them; they are
    returned as ``{field: value}`` (the resume checks that each is at least the run's)."""
    caps = {k: settings[k] for k in CAP_FIELDS if settings.get(k) is not None}
    given = [k for k, v in settings.items() if v not in (None, [], ()) and k not in caps]
    if given:
        names = ", ".join("--" + k.replace("_", "-") for k in given)
        raise UserError(
            f"--resume continues with the settings in RUN_DIR/config.json; drop {names} "
            f"(only a larger --max-llm-calls, --token-budget, --cost-budget or --time-budget "
            f"may be given; to give a run more budget or rounds: agentnas steer RUN_DIR "
            f"'add 50 evaluations', then --resume)"
        )
    return caps
