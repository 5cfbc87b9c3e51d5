"""``agentnas bench search``: methods, ablations, transfer and budgets on any devices, in
one resumable command that leaves its evidence in files (see :mod:`agentnas.bench`)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import typer
from rich.console import Console

from agentnas.commands.run_options import OPTION, backend_options

console = Console(width=140)  # wide enough for the tables when piped

DEFAULT_METHODS = "agent,random,re,nsga2,nsga2@500"

# the run options as the agent runs of a bench take them (declared in run_options)
RoundsOpt = OPTION["rounds"].annotated("agent rounds (default: budget / 10)")
LlmOpt = OPTION["llm"].annotated("LLM of agent-llm (openai:M, replay:F)")
DatasetOpt = OPTION["dataset"].annotated("dataset (default: the space's)")
AccuracyOpt = OPTION["accuracy"].annotated("table | zero-cost | backend")
ObjectivesOpt = OPTION["objectives"].annotated(
    "comma list (default: the space's; accuracy,latency,energy on pi5)"
)
BackendOptionOpt = OPTION["backend_option"].annotated(
    "KEY=VALUE for simulating backends (repeatable)"
)
SpaceOpt = OPTION["space"].annotated(
    "search space, e.g. package.module:Class (default: each device's own)"
)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @bench.command("search")
    def search(
        devices: str = typer.Option(
            "eyeriss,fpga,pixel3,raspi4",
            help="comma list of backends: hwnasbench:*, hwnb360:*, table:PATH, optical-mzi:* "
            "(bare HW-NAS-Bench names mean hwnasbench:NAME)",
        ),
        budgets: str = typer.Option("100", help="comma list of budgets (distinct evaluations)"),
        seeds: int = typer.Option(3, help="seeds 0..N-1 for every method"),
        methods: str = typer.Option(
            DEFAULT_METHODS,
            help="agent, agent-llm, random, re, nsga2, agent-no-partition, agent-no-kb, "
            "agent-no-reflection, agent-single-designer, agent-warm, agent-reuse (warm plus "
            "the other devices' evaluations as model data); METHOD@B runs at B only",
        ),
        out: str = typer.Option("bench-search", help="output folder (run again to resume)"),
        rounds: RoundsOpt = None,
        llm: LlmOpt = "offline",
        dataset: DatasetOpt = None,
        accuracy: AccuracyOpt = "table",
        objectives: ObjectivesOpt = None,
        backend_option: BackendOptionOpt = None,
        executor: str = typer.Option("local", help="local | processes[:N] | ray[:ADDRESS]"),
        space: SpaceOpt = None,
        reference_budget: int = typer.Option(
            None, help="budget of the long NSGA-II reference run where no exact front exists"
        ),
        score_only: bool = typer.Option(
            False, "--score-only", help="score the finished runs in --out, start none"
        ),
    ) -> None:
        """Every method on every device, budget and seed; results.csv, results.md and
        hv_<device>.png in --out. Scores against the exact front, or, where none is
        known, against the union of all methods' points plus a long NSGA-II run."""
        from agentnas.bench.spec import BenchSpec, parse_budgets, parse_devices, parse_methods

        spec = BenchSpec(
            devices=parse_devices(devices),
            budgets=parse_budgets(budgets),
            seeds=seeds,
            methods=parse_methods(methods),
            out=out,
            rounds=rounds,
            llm=llm,
            dataset=dataset,
            accuracy=accuracy,
            objectives=tuple(OPTION["objectives"].config_value(objectives)) if objectives else None,
            backend_options=backend_options(backend_option) or {},
            executor=executor,
            reference_budget=reference_budget,
            space=space,
            score_only=score_only,
        )
        command = "agentnas bench search " + shlex.join(sys.argv[3:] if _is_cli() else [])
        _run(spec, command.strip())

    @bench.command("readme")
    def readme(
        out: str = typer.Argument("bench-search", help="a bench search output folder"),
        readme: str = typer.Option("README.md", help="file whose results section is replaced"),
        section: str = typer.Option(
            "", help="a named section (its own markers) instead of the main one"
        ),
        per_device: bool = typer.Option(
            False, "--per-device", help="comparisons per device too, not only pooled"
        ),
    ) -> None:
        """Write the README's results section from a bench's results.md (command and
        tables), between the bench markers."""
        from agentnas.bench.readme import update

        update(Path(readme), Path(out), section, per_device)
        console.print(f"{readme}: results section written from {out}/results.md")


def _is_cli() -> bool:
    return len(sys.argv) > 2 and sys.argv[1:3] == ["bench", "search"]


def _run(spec, command: str) -> None:  # type: ignore[no-untyped-def]
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from agentnas.bench.bench import prepare, run_bench
    from agentnas.commands.progress_view import progress_into

    prepare(spec)  # refuse bad input before the progress bar appears
    total = len(spec.jobs())
    with (
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        ) as progress,
        progress_into(progress),
    ):  # runs in this process show their steps too
        task = progress.add_task("bench", total=total)

        def say(text: str) -> None:
            progress.console.print(text)

        def start(done: int) -> None:
            progress.update(task, completed=done)

        def tick(text: str) -> None:
            progress.advance(task)
            progress.update(task, description=text[:60])
            if not console.is_terminal:
                progress.console.print(text)

        result = run_bench(spec, command, tick, say, start)
    for f in result["failures"]:
        console.print(f"[red]failed:[/] {f}")
    console.print(
        f"bench: {result['runs']} runs ({result['ran']} run now), files in {spec.out}/: "
        "results.csv, results.md, curves.csv, hv_*.png"
    )
    console.print(Path(spec.out, "results.md").read_text(encoding="utf-8").split("## ")[1])
