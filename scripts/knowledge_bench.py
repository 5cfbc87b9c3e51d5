"""Cold, warm (leave one device out) and KB-off HV ratios of the offline agent, with
NSGA-II@5x budget measured in the same process. Until ``agentnas bench search`` carries
these ablations, this is how issue 10's tables are measured:

    nice -n 10 .venv/bin/python scripts/knowledge_bench.py --seeds 5 --budget 100

cold: an empty KB per run. warm: the KB of the cold runs with the same seed on the other
three devices (export/import of their records; only hardware-independent claims reach
the run). off: ``knowledge="off"`` (no heuristic read, none written).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

DEVICES = ("eyeriss", "fpga", "pixel3", "raspi4")


def _run(
    device: str,
    seed: int,
    budget: int,
    rounds: int,
    out: Path,
    kb: Path | None,
    knowledge: str = "on",
) -> float:
    from agentnas.graph.config import RunConfig
    from agentnas.graph.runner import start_run

    cfg = RunConfig(
        hardware=f"hwnasbench:{device}", budget=budget, rounds=rounds, seed=seed,
        kb_dir=str(kb) if kb else None, knowledge=knowledge,
    )  # fmt: skip
    return float(start_run(cfg, out)["hv_ratio"])


def _merge(kbs: list[Path], into: Path) -> int:
    """One KB from several runs' KBs, the same claims pooled (as a shared --kb would)."""
    from agentnas.graph.knowledge import pool_into
    from agentnas.memory.knowledge_base import KnowledgeBase

    records = []
    for k in kbs:
        with KnowledgeBase(k, create=False) as kb:
            records += kb.export()
    with KnowledgeBase(into) as kb:
        return pool_into(kb, records)


def _ms(v: list[float]) -> str:
    return f"{statistics.fmean(v):.4f} ± {statistics.pstdev(v):.4f}" if v else "-"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--devices", default=",".join(DEVICES))
    ap.add_argument("--kb-budget", type=int, default=None, help="budget of the KB-building runs")
    args = ap.parse_args()
    devices = args.devices.split(",")
    kb_budget = args.kb_budget or args.budget
    from agentnas.tools.baselines import run_seeds

    res: dict[str, dict[str, list[float]]] = {
        d: {"cold": [], "warm": [], "off": []} for d in devices
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        for s in range(args.seeds):
            for d in DEVICES:  # the KB sources: cold runs on every device
                hv = _run(d, s, kb_budget, args.rounds, root / f"cold-{d}-{s}", None)
                if d in devices and kb_budget == args.budget:
                    res[d]["cold"].append(hv)
            for d in devices:
                if kb_budget != args.budget:
                    out, fresh = root / f"c-{d}-{s}", root / f"ck-{d}-{s}"
                    res[d]["cold"].append(_run(d, s, args.budget, args.rounds, out, fresh))
                warm_kb = root / f"warm-kb-{d}-{s}"
                _merge([root / f"cold-{o}-{s}" / "kb" for o in DEVICES if o != d], warm_kb)
                res[d]["warm"].append(
                    _run(d, s, args.budget, args.rounds, root / f"warm-{d}-{s}", warm_kb)
                )
                off = root / f"off-{d}-{s}"  # knowledge "off": no heuristic read, none written
                res[d]["off"].append(_run(d, s, args.budget, args.rounds, off, None, "off"))
            print(f"seed {s} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"budget {args.budget}, {args.seeds} seeds, KB from {kb_budget}-evaluation runs")
    print(f"| device | cold | warm (leave one out) | KB off | nsga2@{5 * args.budget} |")
    print("|---|---|---|---|---|")
    for d in devices:
        ns = run_seeds("nsga2", 5 * args.budget, list(range(args.seeds)), "cifar10",
                       "accuracy,latency", f"hwnasbench:{d}")  # fmt: skip
        r = res[d]
        print(f"| {d} | {_ms(r['cold'])} | {_ms(r['warm'])} | {_ms(r['off'])} | {ns.hv_mean:.4f} |")


if __name__ == "__main__":
    main()
