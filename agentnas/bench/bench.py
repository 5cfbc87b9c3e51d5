"""Drive a bench: check, run the jobs that results.csv does not hold yet (through the
executor), then build reference fronts, score every run from its points and write
``results.csv``, ``curves.csv``, ``results.md`` and ``hv_<device>.png``.

Resume is the same command with the same ``--out``: a job counts as done when
results.csv has its row and its points are on disk; a job that was running when the
bench was stopped is run again from the start (its runs are independent and seeded, so
it gives the same points). Jobs run seed by seed, so a bench stopped early still compares
every method on the same seeds; within a seed, runs that need other runs
(``agent-no-partition`` reads the agent's Designer calls, ``agent-warm`` its knowledge)
come after them.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentnas.bench import jobs as J
from agentnas.bench.diversity import composition, run_diversity
from agentnas.bench.report import plot_device, write_diversity, write_markdown
from agentnas.bench.scoring import (
    build_reference,
    curve,
    exact_or_none,
    front_members,
    reference_budget,
    reference_folder,
    score,
)
from agentnas.bench.spec import BenchSpec, Job, check, slug
from agentnas.tools.atomic_io import write_csv_atomic, write_json_atomic
from agentnas.tools.errors import UserError

RESULTS = "results.csv"
COLUMNS = (
    "method", "device", "budget", "seed", "hv_ratio", "igd",
    "evaluations", "llm_calls", "tokens", "seconds", "note",
)  # fmt: skip
SECOND_WAVE = ("agent-no-partition", "agent-warm", "agent-reuse")
Notify = Callable[[str], None]


def prepare(spec: BenchSpec) -> dict[str, Any]:
    """Every check that can refuse the bench, before anything is written: the plan, and
    each device's evaluator (an unknown device or unreadable table fails here)."""
    check(spec)
    out = Path(spec.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file; give a folder for the bench")
    _make_executor(spec.executor, check_only=True)
    evaluators = {d: J.evaluator_for(spec, d) for d in spec.devices}
    for d, ev in evaluators.items():
        if ev.space_name != "nb201" and spec.accuracy == "zero-cost":
            raise UserError(f"--accuracy zero-cost predicts NB201 accuracy only; not for '{d}'")
    saved = out / "bench.json"
    if saved.exists():
        try:
            old = json.loads(saved.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            raise UserError(f"{saved} is unreadable; remove it or use a new --out") from None
        for key in ("dataset", "accuracy", "objectives", "backend_options", "rounds"):
            new = spec.to_json()[key]
            if isinstance(new, dict) or key == "objectives":
                new = json.loads(json.dumps(new))
            if old.get(key) != (list(new) if isinstance(new, tuple) else new):
                raise UserError(
                    f"{out} holds a bench with a different {key} ({old.get(key)!r}); "
                    f"resume it with the same settings or use a new --out"
                )
    return evaluators


def read_results(out: Path) -> dict[tuple[str, str, int, int], dict[str, Any]]:
    path = out / RESULTS
    if not path.exists():
        return {}
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        parsed = {}
        for r in rows:
            row = {
                **r,
                "budget": int(r["budget"]),
                "seed": int(r["seed"]),
                "evaluations": int(r["evaluations"]),
                "llm_calls": int(r["llm_calls"]),
                "tokens": int(r["tokens"]),
                "seconds": float(r["seconds"]),
            }
            parsed[(row["method"], row["device"], row["budget"], row["seed"])] = row
    except (OSError, KeyError, ValueError) as exc:
        raise UserError(f"{path} is damaged ({exc}); remove it to start the bench again") from None
    return parsed


def _row(res: J.JobResult) -> dict[str, Any]:
    j = res.job
    return {
        "method": j.method, "device": j.device, "budget": j.budget, "seed": j.seed,
        "hv_ratio": "", "igd": "", "evaluations": res.evaluations,
        "llm_calls": res.llm_calls, "tokens": res.tokens, "seconds": res.seconds,
        "note": res.note,
    }  # fmt: skip


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.6g}"
    return v


def write_results(out: Path, rows: dict[tuple, dict[str, Any]]) -> None:
    ordered = [rows[k] for k in sorted(rows)]
    write_csv_atomic(out / RESULTS, list(COLUMNS), [[_fmt(r[c]) for c in COLUMNS] for r in ordered])


def _job_task(spec: BenchSpec, job: Job) -> J.JobResult:
    """One job in a worker (module level: picklable for process and Ray executors).
    One torch thread: parallelism is the executor's (the KB encoder was 6x slower with
    its threads fighting over 2 shared cores)."""
    import torch

    torch.set_num_threads(1)
    return J.run_job(spec, job)


def _reference_task(spec: BenchSpec, device: str) -> int:
    """The long NSGA-II run of a device without an exact front (kept like a job)."""
    folder = reference_folder(spec, device)
    ev = J.evaluator_for(spec, device)
    budget = min(reference_budget(spec, device), ev.space.size)  # a small space: all of it
    archs, rows = J.run_baseline_points(ev, "nsga2", budget, 0)
    folder.mkdir(parents=True, exist_ok=True)
    J.write_points(folder, ev, archs, rows)
    return len(archs)


def _make_executor(name: str, check_only: bool = False) -> Any:
    """The executor runs are spread with (``local``, ``processes[:N]``, ``ray[:ADDRESS]``);
    ``check_only`` validates the name without starting anything."""
    from agentnas.tools.executor import check_executor, make_executor

    if check_only:
        check_executor(name)
        return None
    return make_executor(name)


def run_jobs(
    spec: BenchSpec,
    todo: list[Job],
    rows: dict[tuple, dict[str, Any]],
    tick: Callable[[str], None],
    say: Notify,
) -> list[str]:
    """Run ``todo`` in two waves, recording each finished job at once (resumable)."""
    out = Path(spec.out)
    failures: list[str] = []
    # seed by seed (a bench stopped early has every method on the same seeds), each
    # seed's runs that read other runs after those
    waves = []
    for seed in sorted({j.seed for j in todo}):
        waves.append([j for j in todo if j.seed == seed and j.method not in SECOND_WAVE])
        waves.append([j for j in todo if j.seed == seed and j.method in SECOND_WAVE])
    with _make_executor(spec.executor) as ex:
        for wave in waves:
            if not wave:
                continue

            def done(i: int, outcome: Any, wave: list[Job] = wave) -> None:
                job = wave[i]
                name = f"{job.method} {slug(job.device)} b{job.budget} s{job.seed}"
                if outcome.ok:
                    rows[job.key] = _row(outcome.value)
                    write_results(out, rows)
                    tick(f"{name}: {outcome.value.seconds:.1f} s")
                else:
                    failures.append(f"{name}: {outcome.error}")
                    tick(f"{name}: FAILED {outcome.error}")

            ex.map(_job_task, wave, spec, on_done=done)
        refs = [
            d
            for d in spec.devices
            if exact_or_none(J.evaluator_for(spec, d)) is None
            and not (reference_folder(spec, d) / "points.csv").exists()
        ]
        if refs:
            say(f"long NSGA-II reference runs for {', '.join(slug(d) for d in refs)}")
            for d, o in zip(refs, ex.map(_reference_task, refs, spec), strict=True):
                if not o.ok:
                    failures.append(f"reference NSGA-II run for {slug(d)}: {o.error}")
    return failures


def score_all(spec: BenchSpec, rows: dict[tuple, dict[str, Any]], command: str) -> dict[str, str]:
    """Scores every finished run of the plan, writes every output file; the reference
    front's description per device."""
    out = Path(spec.out)
    plan = [j for j in spec.jobs() if j.key in rows]
    references: dict[str, str] = {}
    curves: list[dict[str, Any]] = []
    photonic: dict[str, Any] = {"runs": [], "fronts": {}}
    for device in spec.devices:
        ev = J.evaluator_for(spec, device)
        dev_jobs = [j for j in plan if j.device == device]
        ref = build_reference(spec, device, ev, dev_jobs)
        references[device] = ref.description
        pooled: tuple[list[str], list[dict[str, float]]] = ([], [])
        for job in dev_jobs:
            archs, metrics = J.read_points(job.folder(out))
            hv, ig = score(ev, metrics, ref)
            rows[job.key].update(hv_ratio=hv, igd=ig)
            if ev.space_name == "photonic-mlp":
                fa, fm = front_members(ev, archs, metrics)
                photonic["runs"].append({**rows[job.key], **run_diversity(fa, fm)})
                pooled[0].extend(fa)
                pooled[1].extend(fm)
            curves += [
                {"method": job.method, "device": device, "budget": job.budget,
                 "seed": job.seed, "n": n, "hv_ratio": h}
                for n, h in curve(ev, metrics, ref)
            ]  # fmt: skip
        if ev.space_name == "photonic-mlp":
            photonic["fronts"][device] = composition(front_members(ev, *pooled)[0])
    write_results(out, rows)
    cols = ["method", "device", "budget", "seed", "n", "hv_ratio"]
    write_csv_atomic(out / "curves.csv", cols, [[_fmt(c[k]) for k in cols] for c in curves])
    scored = [
        {**rows[j.key], "hv_ratio": float(rows[j.key]["hv_ratio"]),
         "igd": float(rows[j.key]["igd"])}
        for j in plan
    ]  # fmt: skip
    write_markdown(out / "results.md", scored, spec.devices, references, command)
    if photonic["runs"]:
        write_diversity(out, photonic["runs"], photonic["fronts"])
    for device in spec.devices:
        title = f"{device}: HV ratio vs evaluations ({spec.seeds} seeds; {references[device]})"
        plot_device(out / f"hv_{slug(device)}.png", device, curves, scored, title)
    return references


def run_bench(
    spec: BenchSpec,
    command: str,
    tick: Notify,
    say: Notify,
    start: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The whole bench (see the module doc). Returns counts for the CLI's last line."""
    prepare(spec)
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "bench.json", spec.to_json())
    rows = read_results(out)
    for key in [k for k in rows if not (Job(*k).folder(out) / J.POINTS).exists()]:
        del rows[key]  # a row whose points are gone is run again
    missing = [j for j in spec.jobs() if j.key not in rows]
    todo = [] if spec.score_only else missing
    done = len(spec.jobs()) - len(missing)
    say(f"{done} of {len(spec.jobs())} runs already done; {len(todo)} to run")
    if start is not None:
        start(done)
    failures = [] if spec.score_only else run_jobs(spec, todo, rows, tick, say)
    score_all(spec, rows, command)
    return {"runs": len(spec.jobs()), "ran": len(todo) - len(failures), "failures": failures}
