"""Rank correlation of our 13 proxies with NAS-Bench-Suite-Zero's values for the same cells.

Reads the NAS-Bench-Suite-Zero subset (``--subset``, default
``../shared/data/nb201/naslib_zc_nasbench201_subset.json``; a user without it cannot run
this check), scores a seeded sample of its CIFAR-10 cells with our proxies (cached, in
parallel) and prints Spearman ρ per proxy, plus each side's ρ with the subset's
validation accuracy.

    python scripts/proxy_correlation.py --n 150
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy.stats import spearmanr

from agentnas.tools.proxies.parallel import score_cells
from agentnas.tools.proxies.proxies import PROXIES
from agentnas.tools.spaces.nb201 import format_cell

DEFAULT_SUBSET = (
    Path(__file__).resolve().parents[2] / "shared/data/nb201/naslib_zc_nasbench201_subset.json"
)
# NASLib op ids and edge order (1,2),(1,3),(1,4),(2,3),(2,4),(3,4) = (1←0),(2←0),(3←0),
# (2←1),(3←1),(3←2); ours is (1←0),(2←0),(2←1),(3←0),(3←1),(3←2)
NASLIB_OPS = {0: "skip_connect", 1: "none", 2: "nor_conv_3x3", 3: "nor_conv_1x1", 4: "avg_pool_3x3"}
NASLIB_TO_OURS = (0, 1, 3, 2, 4, 5)


def naslib_key_to_cell(key: str) -> str:
    ops = ast.literal_eval(key)
    return format_cell([NASLIB_OPS[int(ops[i])] for i in NASLIB_TO_OURS])


def load_subset(path: Path, dataset: str = "cifar10") -> dict[str, dict]:
    data = json.loads(Path(path).read_text())[dataset]
    return {naslib_key_to_cell(k): v for k, v in data.items()}


def sample_cells(subset: dict[str, dict], n: int, seed: int = 0) -> list[str]:
    cells = sorted(subset)
    rng = np.random.default_rng(seed)
    return [cells[i] for i in sorted(rng.choice(len(cells), min(n, len(cells)), False))]


def _score(entry: dict, name: str) -> float | None:
    v = entry.get(name)
    if v is None:
        return None
    v = v["score"] if isinstance(v, dict) else v
    return float(v) if np.isfinite(v) else -1e8


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subset", type=Path, default=DEFAULT_SUBSET)
    ap.add_argument("--n", type=int, default=150, help="cells sampled from the subset")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()

    subset = load_subset(args.subset)
    cells = sample_cells(subset, args.n, args.seed)
    ours = score_cells(cells, PROXIES, seed=args.seed, workers=args.workers)
    acc = np.array([subset[c]["val_accuracy"] for c in cells])
    table = Table(title=f"our proxies vs NAS-Bench-Suite-Zero, CIFAR-10, n={len(cells)} cells")
    for col in ("proxy", "n", "ρ(ours, NB-Suite-Zero)", "ρ(ours, val acc)", "ρ(theirs, val acc)"):
        table.add_column(col, justify="right" if col != "proxy" else "left")
    for p in PROXIES:
        mine = np.array([o[p] for o in ours])
        theirs = [_score(subset[c], p) for c in cells]
        keep = np.array([t is not None for t in theirs])
        ours_acc = spearmanr(mine, acc).statistic
        if keep.sum() < 3:
            table.add_row(p, "0", "n/a (not in subset)", f"{ours_acc:.3f}", "n/a")
            continue
        t = np.array([x for x in theirs if x is not None])
        rho = spearmanr(mine[keep], t).statistic
        table.add_row(
            p,
            str(int(keep.sum())),
            f"{rho:.3f}",
            f"{ours_acc:.3f}",
            f"{spearmanr(t, acc[keep]).statistic:.3f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
