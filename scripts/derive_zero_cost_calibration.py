"""Derive ``tools/data/zero_cost_calibration.json`` (the zero-cost predictor's calibration set)
and ``tools/data/zero_cost_heldout.json`` (held-out cells to measure its ranking on).

The default zero-cost predictor (``--accuracy zero-cost``) is fitted on 150 seeded
calibration cells (``split_cells(150, 0, seed=0)``) whose table accuracy is known. Their
13 proxies cost about 1.5 s of one core per cell, so a first run that scored them itself
would sit silent for minutes. This script scores them once, with the same image batch and
seed a run uses, and writes the values (plus what they were measured with: image batch
digest, batch size, seed, torch version) to a small JSON file shipped with the package.
A run then fits the XGBoost predictor from the file in about a second.

Only proxies are stored, never accuracies: the accuracy a predictor learns comes from the
shipped NB201 table at fit time, for whichever dataset the run asks for.

``--heldout N`` (default 500) also scores the last N cells of the same seeded permutation
(``split_cells(n_calib, N, seed)``'s test cells, disjoint from the calibration cells) with
the predictor's proxies only, so ``scripts/predictor_tau.py`` can measure Kendall τ on
held-out cells without scoring anything. ``--heldout 0`` skips them.

    python scripts/derive_zero_cost_calibration.py [--n-calib 150] [--heldout 500] [--seed 0]

Proxy scores land in the usual on-disk cache too, so a rerun is instant.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from agentnas.tools.proxies.data import proxy_batch
from agentnas.tools.proxies.parallel import score_cells
from agentnas.tools.proxies.predictor import MODEL_PROXIES, split_cells
from agentnas.tools.proxies.proxies import PROXIES
from agentnas.tools.proxies.scoring import PROXY_BATCH_SIZE

DATA = Path(__file__).resolve().parents[1] / "tools" / "data"
OUT = DATA / "zero_cost_calibration.json"
HELDOUT = DATA / "zero_cost_heldout.json"


def write(
    path: Path,
    what: str,
    cells: list[str],
    names: tuple[str, ...],
    workers: int,
    **meta: int,
) -> None:
    """Score ``cells`` with ``names`` and write them with what they were measured with
    (``meta`` holds the split: n_calib, n_test, seed)."""
    seed = meta["seed"]
    values = score_cells(cells, names, batch_size=PROXY_BATCH_SIZE, seed=seed, workers=workers)
    data = {
        "format": 1,
        "what": what,
        "derived_by": "scripts/derive_zero_cost_calibration.py",
        **meta,
        "batch_size": PROXY_BATCH_SIZE,
        "batch_digest": proxy_batch(PROXY_BATCH_SIZE, seed).digest,
        "torch": torch.__version__,
        "proxies": list(names),
        "cells": [
            {"arch": c, "values": {p: float(v[p]) for p in names}}
            for c, v in zip(cells, values, strict=True)
        ],
    }
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    print(f"wrote {path} ({len(cells)} cells)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-calib", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--heldout", type=int, default=500)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--heldout-out", type=Path, default=HELDOUT)
    args = parser.parse_args()

    calib, heldout = split_cells(args.n_calib, args.heldout, args.seed)
    write(
        args.out,
        "zero-cost proxies of the default predictor's calibration cells",
        calib,
        PROXIES,
        args.workers,
        n_calib=args.n_calib,
        seed=args.seed,
    )
    if heldout:
        write(
            args.heldout_out,
            "zero-cost proxies of held-out cells (split_cells' test cells), for measuring "
            "the predictor's ranking; never used to fit it",
            heldout,
            MODEL_PROXIES,
            args.workers,
            n_calib=args.n_calib,
            n_test=args.heldout,
            seed=args.seed,
        )


if __name__ == "__main__":
    main()
