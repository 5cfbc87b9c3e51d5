"""Derive ``tools/data/zero_cost_calibration.json``: the zero-cost predictor's calibration set.

The default zero-cost predictor (``--accuracy zero-cost``) is fitted on 150 seeded
calibration cells (``split_cells(150, 0, seed=0)``) whose table accuracy is known. Their
13 proxies cost about 1.5 s of one core per cell, so a first run that scored them itself
would sit silent for minutes. This script scores them once, with the same image batch and
seed a run uses, and writes the values (plus what they were measured with: image batch
digest, batch size, seed, torch version) to a small JSON file shipped with the package.
A run then fits the XGBoost predictor from the file in about a second.

Only proxies are stored, never accuracies: the accuracy a predictor learns comes from the
shipped NB201 table at fit time, for whichever dataset the run asks for.

    python scripts/derive_zero_cost_calibration.py [--n-calib 150] [--seed 0] [--workers 1]

Proxy scores land in the usual on-disk cache too, so a rerun is instant.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from agentnas.tools.proxies.data import proxy_batch
from agentnas.tools.proxies.parallel import score_cells
from agentnas.tools.proxies.predictor import split_cells
from agentnas.tools.proxies.proxies import PROXIES
from agentnas.tools.proxies.scoring import PROXY_BATCH_SIZE

OUT = Path(__file__).resolve().parents[1] / "tools" / "data" / "zero_cost_calibration.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-calib", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    cells, _ = split_cells(args.n_calib, 0, args.seed)
    values = score_cells(
        cells, PROXIES, batch_size=PROXY_BATCH_SIZE, seed=args.seed, workers=args.workers
    )
    data = {
        "format": 1,
        "what": "zero-cost proxies of the default predictor's calibration cells",
        "derived_by": "scripts/derive_zero_cost_calibration.py",
        "n_calib": args.n_calib,
        "seed": args.seed,
        "batch_size": PROXY_BATCH_SIZE,
        "batch_digest": proxy_batch(PROXY_BATCH_SIZE, args.seed).digest,
        "torch": torch.__version__,
        "proxies": list(PROXIES),
        "cells": [
            {"arch": c, "values": {p: float(v[p]) for p in PROXIES}}
            for c, v in zip(cells, values, strict=True)
        ],
    }
    args.out.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    print(f"wrote {args.out} ({len(cells)} cells)")


if __name__ == "__main__":
    main()
