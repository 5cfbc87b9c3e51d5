"""``agentnas run``: an autonomous search, with a live table per round."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from agentnas.commands.progress_view import live_progress
from agentnas.config import load_config
from agentnas.graph.config import RunConfig
from agentnas.tools.errors import UserError

console = Console()


def _fmt(v: Any, spec: str) -> str:
    return "–" if v is None else format(v, spec)


COLUMNS_HELP = (
    "columns: evals = cells evaluated so far; front = cells no other evaluated cell beats "
    "on every objective; HV ratio = hypervolume of that front / of the exact front (1 = "
    "all of it); IGD = mean distance from the exact front to the found one (0 = all of "
    "it); – = not known for this space"
)


def results_help(run_dir: Path, objectives: list[str]) -> str:
    """Where the results are and what to do with them (printed once at the end)."""
    where = next(
        (
            w
            for m, w in (("latency_ms", "latency_ms < 3"), ("energy_mj", "energy_mj < 1"))
            if m in objectives
        ),
        "accuracy > 90",
    )
    return (
        f"results: {run_dir}/front.csv (the front), candidates.csv (every evaluation), "
        f"rounds.csv (per round), summary.json, trace.jsonl\n"
        f"next: agentnas report {run_dir} · agentnas why {run_dir} f1 · "
        f"agentnas pick {run_dir} --where '{where}'"
    )


def print_steer(round_: int, actions: list[Any]) -> None:
    """One line per steering action that reached an autonomous run (``agentnas steer``)."""
    from agentnas.agents.steering import SteerContext, describe

    for line in describe(actions, SteerContext(round=round_)):
        console.print(f"steer at round {round_}: {line}", highlight=False, markup=False)


class RoundTable:
    """Prints one row per finished round (evaluations, front, HV ratio, IGD, LLM calls);
    optical runs add the front's best robust accuracy, lowest energy, mean degradation
    and fewest MZIs."""

    OPTICAL = (
        ("robust acc %", "robust_accuracy_pct", ".2f"),
        ("energy nJ", "energy_nj", ".4g"),
        ("degr. pp", "degradation_pp", "+.2f"),
        ("MZIs", "mzi_count", ".0f"),
    )

    def __init__(self, title: str) -> None:
        self.title = title
        self.header_done = False

    def __call__(self, stats: dict[str, Any]) -> None:
        table = Table(
            title=self.title if not self.header_done else None,
            show_header=not self.header_done,
            box=None,
            pad_edge=False,
        )
        optical = [c for c in self.OPTICAL if c[1] in stats]
        for name, width in (
            ("round", 5),
            ("evals", 6),
            ("front", 6),
            ("HV ratio", 9),
            ("IGD", 8),
            ("LLM calls", 9),
            ("fallbacks", 9),
            *[(label, 12) for label, _, _ in optical],
        ):
            table.add_column(name, justify="right", width=width)
        table.add_row(
            str(stats["round"]),
            str(stats["evaluations"]),
            str(stats["front_size"]),
            _fmt(stats["hv_ratio"], ".4f"),
            _fmt(stats["igd"], ".4f"),
            str(stats["llm_calls"]),
            str(stats["fallbacks"]),
            *[_fmt(stats[key], spec) for _, key, spec in optical],
        )
        console.print(table)
        if stats.get("constraint"):  # the constrained front next to the unconstrained one
            console.print(
                f"      under {stats['constraint']}: front {stats.get('front_constrained_size')}"
                f", HV ratio {_fmt(stats.get('hv_ratio_constrained'), '.4f')}, IGD "
                f"{_fmt(stats.get('igd_constrained'), '.4f')} ({stats.get('feasible')} cells "
                f"satisfy it)",
                highlight=False,
            )
        self.header_done = True


# the options `run` and `chat` share (None = not given: the config file or default decides)
SpaceOpt = Annotated[str | None, typer.Option(help="search space: nb201 | photonic-mlp")]
DatasetOpt = Annotated[
    str | None,
    typer.Option(help="nb201: cifar10 | cifar100 | ImageNet16-120; photonic-mlp: mnist | digits"),
]
HardwareOpt = Annotated[str | None, typer.Option(help="backend, see `agentnas hardware list`")]
ObjectivesOpt = Annotated[str | None, typer.Option(help="e.g. accuracy,latency (2 or 3)")]
AccuracyOpt = Annotated[str | None, typer.Option(help="table (oracle) | zero-cost | backend")]
LlmOpt = Annotated[str | None, typer.Option(help="offline (default) | openai:MODEL | replay:FILE")]
RoundsOpt = Annotated[int | None, typer.Option(help="design rounds (default 10)")]
BudgetOpt = Annotated[
    int | None, typer.Option(help="distinct architectures evaluated (default 100)")
]
SeedOpt = Annotated[int | None, typer.Option(help="random seed (default 0)")]
PartitionsOpt = Annotated[int | None, typer.Option(help="number of partitions K (default 6)")]
MaxLlmCallsOpt = Annotated[int | None, typer.Option(help="stop calling the LLM after N calls")]
OnLlmFailureOpt = Annotated[
    str | None,
    typer.Option(
        help="stop (default): an unreachable or refusing endpoint stops the run, exit 3, "
        "resumable; fallback: the offline policy answers instead, and the run says how often"
    ),
]
KbOpt = Annotated[Path | None, typer.Option(help="knowledge-base folder shared across runs")]
DedupeOpt = Annotated[
    bool | None,
    typer.Option(
        "--dedupe-isomorphic/--keep-isomorphic",
        help="skip cells isomorphic to evaluated ones. The benchmarks measured isomorphic "
        "cells separately, so this caps the reachable HV ratio (about 0.98 on fpga when "
        "only the first member of each class is kept).",
    ),
]
BackendOptionOpt = Annotated[
    list[str] | None,
    typer.Option("--backend-option", help="KEY=VALUE for simulating backends, e.g. draws=8"),
]
OutOpt = Annotated[Path | None, typer.Option(help="run folder (default runs/<timestamp>)")]
ConfigOpt = Annotated[Path | None, typer.Option(help="TOML file with run settings")]
ResumeOpt = Annotated[Path | None, typer.Option(help="continue the run in this folder")]
ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        help="where evaluations run: local | processes[:N] | ray | ray:ADDRESS (default: "
        "$AGENTNAS_EXECUTOR, else a local pool when evaluations train or score proxies, "
        "else local); results do not depend on it"
    ),
]

SETTINGS = (
    "space",
    "dataset",
    "hardware",
    "objectives",
    "accuracy",
    "llm",
    "rounds",
    "budget",
    "seed",
    "partitions",
    "max_llm_calls",
    "on_llm_failure",
    "kb",
    "dedupe_isomorphic",
    "backend_option",
    "out",
    "config",
)


def collect_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The run settings among a command's parameters (``locals()`` at its start)."""
    return {k: values[k] for k in SETTINGS}


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command()
    def run(
        space: SpaceOpt = None,
        dataset: DatasetOpt = None,
        hardware: HardwareOpt = None,
        objectives: ObjectivesOpt = None,
        accuracy: AccuracyOpt = None,
        llm: LlmOpt = None,
        rounds: RoundsOpt = None,
        budget: BudgetOpt = None,
        seed: SeedOpt = None,
        partitions: PartitionsOpt = None,
        max_llm_calls: MaxLlmCallsOpt = None,
        on_llm_failure: OnLlmFailureOpt = None,
        kb: KbOpt = None,
        dedupe_isomorphic: DedupeOpt = None,
        backend_option: BackendOptionOpt = None,
        out: OutOpt = None,
        config: ConfigOpt = None,
        resume: ResumeOpt = None,
        executor: ExecutorOpt = None,
    ) -> None:
        """Run the multi-agent search and write RUN_DIR/ (trace, checkpoints, fronts)."""
        from agentnas.api import search
        from agentnas.tools.executor import check_executor

        settings = collect_settings(locals())
        check_executor(executor)  # an unknown executor is refused before anything else
        if resume is not None:
            refuse_with_resume(settings)
            console.print(f"resuming [bold]{resume}[/]")
            run_dir = resume
        else:
            cfg = run_config(settings)
            run_dir = out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
            console.print(
                f"agentnas run: {cfg.space} / {cfg.dataset or 'default dataset'} / {cfg.hardware}, "
                f"budget {cfg.budget}, {cfg.rounds} rounds, llm: {_llm_label(cfg.llm)} "
                f"→ {run_dir}"
            )
        console.print(COLUMNS_HELP, highlight=False)
        try:
            with live_progress(console):
                if resume is not None:
                    result = search(
                        resume=resume,
                        on_round=RoundTable(f"agentnas run {resume}"),
                        executor=executor,
                        on_steer=print_steer,
                    )
                else:
                    result = search(
                        config=cfg,
                        out=run_dir,
                        on_round=RoundTable("agentnas run"),
                        executor=executor,
                        on_steer=print_steer,
                    )
                summary = result.summary
        except KeyboardInterrupt:
            if (run_dir / "config.json").exists():
                console.print(f"interrupted; continue with: agentnas run --resume {run_dir}")
            raise
        if not summary:
            raise UserError(f"run in {run_dir} did not finish")
        console.print(
            f"done: {summary['evaluations']} evaluations, front {summary['front_size']}, "
            f"HV ratio {_fmt(summary['hv_ratio'], '.4f')}, IGD {_fmt(summary['igd'], '.4f')}, "
            f"LLM: {summary['llm']}, files in {run_dir}/"
        )
        console.print(results_help(run_dir, summary.get("objectives") or []), highlight=False)
        from agentnas.graph.llm_usage import usage_line

        usage = usage_line(summary)
        if usage:
            console.print(usage, highlight=False, markup=False)


def run_config(settings: dict[str, Any]) -> RunConfig:
    """The RunConfig of ``run``/``chat`` options (None: not given) over ``--config``."""
    objectives = settings.get("objectives")
    kb = settings.get("kb")
    return load_config(
        settings.get("config"),
        {
            "space": settings.get("space"),
            "dataset": settings.get("dataset"),
            "hardware": settings.get("hardware"),
            "objectives": [o.strip() for o in objectives.split(",")] if objectives else None,
            "accuracy": settings.get("accuracy"),
            "llm": settings.get("llm"),
            "rounds": settings.get("rounds"),
            "budget": settings.get("budget"),
            "seed": settings.get("seed"),
            "partitions": settings.get("partitions"),
            "max_llm_calls": settings.get("max_llm_calls"),
            "on_llm_failure": settings.get("on_llm_failure"),
            "kb_dir": str(kb) if kb else None,
            "dedupe_isomorphic": settings.get("dedupe_isomorphic"),
            "backend_options": _options(settings.get("backend_option")),
        },
    )


def refuse_with_resume(settings: dict[str, Any]) -> None:
    """``--resume`` continues with the settings in RUN_DIR/config.json; an option given
    with it would be silently ignored, so it is refused instead."""
    given = [k for k, v in settings.items() if v not in (None, [], ())]
    if given:
        names = ", ".join("--" + k.replace("_", "-") for k in given)
        raise UserError(
            f"--resume continues with the settings in RUN_DIR/config.json; drop {names} "
            f"(to give a run more budget or rounds: agentnas steer RUN_DIR 'add 50 "
            f"evaluations', then --resume)"
        )


def _options(items: list[str] | None) -> dict[str, Any] | None:
    """``["draws=8", "epochs=3"]`` -> ``{"draws": 8, "epochs": 3}`` (numbers parsed)."""
    if not items:
        return None
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--backend-option takes KEY=VALUE; got {item!r}")
        try:
            out[key] = int(value)
        except ValueError:
            try:
                out[key] = float(value)
            except ValueError:
                out[key] = value
    return out


def _llm_label(spec: str) -> str:
    return "offline policy (no LLM)" if spec == "offline" else spec
