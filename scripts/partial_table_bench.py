"""A new device from a few measurements: search on a partial table, score on the full one.

For each device and seed, all but ``--measured`` rows of the device's full latency table
are hidden (a seeded random choice), the agent searches on the partial table (the rest
predicted, see ``tools/hardware/cell_model.py``) and the returned front is scored with the
device's true latency (``reference=`` the full table). The same seed on the full table is
run beside it, so the cost of predicting latency is the difference of the two columns.

    python scripts/partial_table_bench.py --devices hwnasbench:fpga,hwnb360:pi5-onnx \\
        --seeds 3 --budget 100 --measured 50 --out partial-bench
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

import agentnas
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.spaces.nb201 import N_CELLS


def hide_rows(device: str, measured: int, seed: int, path: Path) -> None:
    """Write ``measured`` seeded rows of ``device``'s latency table to ``path``."""
    latency = get_backend(device).all_values("latency_ms")
    keep = np.sort(np.random.default_rng(seed).choice(N_CELLS, measured, replace=False))
    lines = ["arch_idx,latency_ms"] + [f"{i},{float(latency[i])!r}" for i in keep]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", default="hwnasbench:fpga,hwnb360:pi5-onnx")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--measured", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("partial-bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print("device | seed | partial table (true latency) | full table | front cells to measure")
    for device in args.devices.split(","):
        partial, full = [], []
        for seed in range(args.seeds):
            folder = args.out / device.replace(":", "-") / f"s{seed}"
            folder.mkdir(parents=True, exist_ok=True)
            table = folder / "measured.csv"
            hide_rows(device, args.measured, seed, table)
            common = {"budget": args.budget, "seed": seed, "objectives": "accuracy,latency"}
            run = agentnas.search(
                hardware=f"table:{table}",
                out=folder / "partial",
                backend_options={"reference": device},
                **common,
            )
            ref = agentnas.search(hardware=device, out=folder / "full", **common)
            partial.append(run.summary["hv_ratio"])
            full.append(ref.summary["hv_ratio"])
            n = len(run.summary["predicted_hardware"]["front_to_measure"])
            print(f"{device} | {seed} | {partial[-1]:.4f} | {full[-1]:.4f} | {n}", flush=True)
        sd = statistics.stdev(partial) if len(partial) > 1 else 0.0
        print(
            f"{device} | mean | {statistics.mean(partial):.4f} ± {sd:.4f} | "
            f"{statistics.mean(full):.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
