"""One bench run: a (method, device, budget, seed) job, executed and its points kept.

Every job leaves ``points.csv`` in its folder (``DIR/runs/METHOD/DEVICE/bBUDGET/sSEED``):
the architectures it evaluated, in order, with the searched metrics in their own units
(and ``true_<metric>`` where the search ran on a predicted value whose truth is known:
``true_accuracy`` for the zero-cost predictor, ``true_latency_ms`` for a partial table
with a reference). Scores are computed
from these files when the bench ends, so a reference front that grows with the bench
(no exact front) rescored every run the same way, after a resume too.

The agent variants are the same graph with one run option changed (see
:data:`VARIANTS` and ``graph/config.py``); the baselines are :mod:`agentnas.tools.baselines`
driven through the run's own :class:`~agentnas.tools.evaluation.Evaluator`, so they see
exactly the metrics the agent sees (zero-cost accuracy included).
"""

from __future__ import annotations

import csv
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agentnas.bench.spec import AGENT_PARTITIONS, AGENT_SEED_PER_PARTITION, BenchSpec, Job
from agentnas.tools.atomic_io import write_csv_atomic
from agentnas.tools.baselines import DistinctEvaluator
from agentnas.tools.errors import UserError

POINTS = "points.csv"
RUN = "run"  # the agent's run folder inside a job folder

# run options of each agent variant on top of the bench's settings (why: the issue's
# ablation definitions; agent-no-partition also gets rounds = the agent's Designer calls
# and agent-warm a knowledge base carried from the other devices, both set in run_job)
VARIANTS: dict[str, dict[str, Any]] = {
    "agent": {},
    "agent-llm": {},
    "agent-no-partition": {
        "partitions": 1,
        "seed_per_partition": AGENT_PARTITIONS * AGENT_SEED_PER_PARTITION,
    },
    "agent-no-kb": {"knowledge": "off"},
    "agent-no-reflection": {"knowledge": "read-only"},
    "agent-single-designer": {"single_designer": True},
    "agent-warm": {},
    "agent-reuse": {},
}


@dataclass(frozen=True)
class JobResult:
    """What results.csv records of a finished job (scores come later, from points)."""

    job: Job
    evaluations: int
    llm_calls: int
    tokens: int
    seconds: float
    note: str = ""


def evaluator_for(spec: BenchSpec, device: str) -> Any:
    """The evaluator every method of ``device`` uses (validates the device, too)."""
    from agentnas.tools.evaluation import Evaluator
    from agentnas.tools.spaces.registry import default_objectives

    space = space_of(device, spec.space)
    objectives = list(spec.objectives or default_objectives(space))
    if space == "nb201" and spec.objectives is None and device.startswith("hwnb360:pi5"):
        objectives = ["accuracy", "latency", "energy"]  # the 3-objective case of the issue
    return Evaluator(
        space, spec.dataset, device, objectives, spec.accuracy, dict(spec.backend_options)
    )


def space_of(device: str, space: str | None = None) -> str:
    """The space searched on ``device``: the bench's ``--space``, else the device's own
    (the first space its backend declares it scores)."""
    if space is not None:
        return space
    from agentnas.tools.hardware.registry import backend_spaces

    spaces = backend_spaces(device)
    if not spaces:
        raise UserError(f"backend '{device}' names no search space it scores; give --space")
    return spaces[0]


def run_job(spec: BenchSpec, job: Job) -> JobResult:
    """Run one job into its folder (replacing a half-finished one) and keep its points."""
    folder = job.folder(Path(spec.out))
    if folder.exists():
        shutil.rmtree(folder)  # a job killed midway: start it again, cleanly
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    if job.method in VARIANTS:
        result = _agent_job(spec, job, folder)
    else:
        result = _baseline_job(spec, job, folder)
    return JobResult(job, *result[:3], round(time.perf_counter() - t0, 2), result[3])


def _metric_names(evaluator: Any) -> list[str]:
    return [o.metric for o in evaluator.objectives]


def write_points(folder: Path, evaluator: Any, archs: list[str], rows: list[dict]) -> None:
    cols = _metric_names(evaluator)
    truth = [c for c in evaluator.truth_columns() if c in cols]
    header = ["order", "arch", *cols, *[f"true_{c}" for c in truth]]
    out = []
    for i, (a, r) in enumerate(zip(archs, rows, strict=True)):
        line = [i, a, *[r[c] for c in cols]]
        if truth:
            true = evaluator.true_metrics(a, r)
            line += [true[c] for c in truth]
        out.append(line)
    write_csv_atomic(folder / POINTS, header, out)


def read_points(folder: Path) -> tuple[list[str], list[dict[str, float]]]:
    """Architectures and metric dicts of a job, in evaluation order."""
    path = folder / POINTS
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    archs = [r.pop("arch") for r in rows]
    metrics = [{k: float(v) for k, v in r.items() if k != "order" and v != ""} for r in rows]
    return archs, metrics


# ---------------------------------------------------------------- agent variants


def agent_config(spec: BenchSpec, job: Job, **extra: Any) -> Any:
    from agentnas.graph.config import RunConfig

    ev_objectives = _metric_names(evaluator_for(spec, job.device))
    values: dict[str, Any] = {
        "space": space_of(job.device, spec.space),
        "dataset": spec.dataset,
        "hardware": job.device,
        "objectives": ev_objectives,
        "accuracy": spec.accuracy,
        "backend_options": dict(spec.backend_options),
        "llm": spec.llm if job.method == "agent-llm" else "offline",
        "budget": job.budget,
        "rounds": spec.rounds_for(job.budget),
        "seed": job.seed,
        **VARIANTS[job.method],
        **extra,
    }
    return RunConfig.build(**values)


def designer_calls(run_dir: Path) -> int:
    """How many Designer calls a finished run made (its ``design_context`` events)."""
    from agentnas.graph.trace import read_trace

    return sum(1 for e in read_trace(run_dir / "trace.jsonl") if e.get("event") == "design_context")


def _agent_job(spec: BenchSpec, job: Job, folder: Path) -> tuple[int, int, int, str]:
    from agentnas.graph.runner import start_run

    extra: dict[str, Any] = {}
    note = ""
    run_dir = folder / RUN
    if job.method == "agent-no-partition":
        # one partition, as many Designer calls as the agent made on the same seed: one
        # call per round, so the ablation is not starved of proposals
        agent_run = Job("agent", job.device, job.budget, job.seed).folder(Path(spec.out)) / RUN
        calls = designer_calls(agent_run)
        extra["rounds"] = max(1, calls)
        note = f"rounds={calls} (agent's Designer calls)"
    elif job.method == "agent-warm":
        from agentnas.bench.warm import seed_knowledge

        n = seed_knowledge(spec, job, run_dir / "kb")
        note = f"{n} heuristics carried from the other devices"
    elif job.method == "agent-reuse":
        from agentnas.bench.warm import other_runs, seed_knowledge

        n = seed_knowledge(spec, job, run_dir / "kb")
        extra["reuse_evaluations"] = [str(p) for p in other_runs(spec, job)]
        note = (
            f"{n} heuristics and the evaluations of {len(extra['reuse_evaluations'])} runs "
            "carried from the other devices"
        )
    cfg = agent_config(spec, job, **extra)
    summary = start_run(cfg, run_dir)
    cands = _read_candidates(run_dir / "candidates.csv", cfg)
    ev = evaluator_for(spec, job.device)
    write_points(folder, ev, [a for a, _ in cands], [m for _, m in cands])
    (run_dir / "checkpoints.sqlite").unlink(missing_ok=True)  # 4 MB each; points are kept
    tokens = int(summary.get("prompt_tokens", 0)) + int(summary.get("completion_tokens", 0))
    return len(cands), int(summary.get("llm_calls", 0)), tokens, note


def _read_candidates(path: Path, cfg: Any) -> list[tuple[str, dict[str, float]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    from agentnas.tools.csv_units import metrics_from_row

    out = []
    for r in rows:
        if r.get("status", "ok") != "ok":  # failed or infeasible: no metrics, no point
            continue
        out.append((r["arch"], metrics_from_row(r, cfg.space)))
    return out


# ---------------------------------------------------------------- baselines


def _baseline_job(spec: BenchSpec, job: Job, folder: Path) -> tuple[int, int, int, str]:
    ev = evaluator_for(spec, job.device)
    archs, rows = run_baseline_points(ev, job.method, job.budget, job.seed)
    write_points(folder, ev, archs, rows)
    return len(archs), 0, 0, ""


def run_baseline_points(
    ev: Any, method: str, budget: int, seed: int
) -> tuple[list[str], list[dict[str, float]]]:
    """A baseline's evaluated architectures and metrics, through ``ev`` (the metrics the
    agent optimises: same accuracy source, same backend)."""
    if ev.space_name != "nb201":
        return _space_baseline(ev, method, budget, seed)
    from agentnas.tools import baselines as bl
    from agentnas.tools.spaces import nb201

    cells = nb201.all_cells()
    seen: dict[int, dict[str, float]] = {}

    def lookup(i: int) -> np.ndarray:
        seen[i] = ev.evaluate(cells[i])
        return ev.min_matrix([seen[i]])[0]

    dist = _CoveredEvaluator(lookup, budget, len(ev.objectives))
    if method == "random":  # a permutation of the space, until the budget is spent
        for i in np.random.default_rng(seed).permutation(nb201.N_CELLS):
            if dist.remaining <= 0:
                break
            dist(int(i))
    elif method == "re":
        d = bl.RE_DEFAULTS
        bl.regularized_evolution(dist, seed, int(d["population"]), int(d["sample_size"]))
    else:
        d = bl.NSGA2_DEFAULTS
        bl.nsga2(
            dist, seed, len(ev.objectives), int(d["pop_size"]), d["crossover_prob"], d["edge_prob"]
        )
    return [cells[i] for i in dist.order], [seen[i] for i in dist.order]


class _CoveredEvaluator(DistinctEvaluator):
    """:class:`~agentnas.tools.baselines.DistinctEvaluator` for tables that hold only
    some cells: a cell the backend refuses costs no budget and reads as +inf in every
    objective (dominated by everything), so a baseline moves on, as the agent does."""

    def __init__(self, lookup: Any, budget: int, n_obj: int) -> None:
        super().__init__(lookup, budget)
        self.n_obj = n_obj
        self.refused: set[int] = set()

    def seen(self, index: int) -> bool:
        return index in self.refused or super().seen(index)

    def __call__(self, index: int) -> np.ndarray:
        index = int(index)
        if index not in self.refused:
            try:
                return super().__call__(index)
            except UserError:
                self.refused.add(index)
        return np.full(self.n_obj, np.inf)


def _space_baseline(
    ev: Any, method: str, budget: int, seed: int
) -> tuple[list[str], list[dict[str, float]]]:
    """Baselines on spaces other than NB201 (the photonic MLP): the search-space
    contract's generic baselines, when this checkout has them."""
    try:
        from agentnas.tools.baselines import run_space_baseline  # type: ignore[attr-defined]
    except ImportError:
        raise UserError(
            f"baseline '{method}' on space '{ev.space_name}' needs the generic baselines "
            "of the search-space contract, not in this checkout"
        ) from None
    return run_space_baseline(ev, method, budget, seed)
