"""Kendall τ of the zero-cost predictor on 500 held-out cells, from shipped proxies only.

Reads ``tools/data/zero_cost_calibration.json`` (150 calibration cells) and
``tools/data/zero_cost_heldout.json`` (500 held-out cells), both written by
``scripts/derive_zero_cost_calibration.py``, so nothing is scored here: it takes seconds.
Prints τ of the default predictor (fitted on the 150 calibration cells, ranking the 500
held-out cells) and, for ``--splits`` seeded random draws of ``--labelled`` cells from the
650, τ on the other cells (500 at the default 150), with their mean and spread.

    python scripts/predictor_tau.py [--splits 10] [--labelled 150] [--dataset cifar10]
        [--proxies synflow,nwot,...]
"""

from __future__ import annotations

import argparse

import numpy as np

from agentnas.tools.proxies.calibration import held_out_taus
from agentnas.tools.proxies.predictor import MODEL_PROXIES
from agentnas.tools.proxies.proxies import check_proxy_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--labelled", type=int, default=150)
    parser.add_argument("--dataset", default="cifar10")
    parser.add_argument("--proxies", default=",".join(MODEL_PROXIES))
    args = parser.parse_args()

    names = check_proxy_names(args.proxies.split(","))
    default, taus = held_out_taus(args.dataset, args.splits, args.labelled, names)
    print(f"proxies: {', '.join(names)} + cell graph features; dataset {args.dataset}")
    print(f"default predictor (150 shipped calibration cells -> 500 held-out): tau {default:.4f}")
    print(
        f"{len(taus)} random splits ({args.labelled} labelled): tau mean {np.mean(taus):.4f} "
        f"sd {np.std(taus):.4f} min {np.min(taus):.4f} max {np.max(taus):.4f}"
    )


if __name__ == "__main__":
    main()
