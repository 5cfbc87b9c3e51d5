"""Derive the compact NB201 ground-truth file shipped in ``tools/data/nb201.npz``.

Inputs are the raw tables described in ``shared/data/README.md`` (NATS-Bench accuracies,
HW-NAS-Bench latencies via HELP, HW-NAS-Bench-360 Pi 5 rows). A user never needs them:
the derived file ships with the package. Re-run this script only to rebuild it:

    python scripts/derive_nb201_data.py --raw ../shared/data/nb201 --out tools/data/nb201.npz

``--complexity`` adds params/FLOPs of every cell's real network (CIFAR-10 head), computed
with the project's own torch builder (takes a few minutes).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HWNB_DEVICES = ("eyeriss", "fpga", "pixel3", "raspi4")
PI5_RUNTIMES = ("litert", "onnx", "torchmobile")


def derive(raw: Path) -> dict[str, np.ndarray]:
    mean = pd.read_csv(raw / "nb201_acc_200ep_mean.csv")
    single = pd.read_csv(raw / "nb201_acc_12ep_200ep_singleseed.csv")
    lat = pd.read_csv(raw / "nb201_hwnasbench_cifar10_latency.csv")
    pi5 = pd.read_parquet(raw / "hwnb360_pi5.parquet")
    n = len(mean)
    assert n == 15625 and len(single) == n and len(lat) == n
    assert (mean.ArchitectureString == single.ArchitectureString).all()
    assert (lat.arch_idx.to_numpy() == np.arange(n)).all()

    # isomorphism class id = smallest benchmark index in the class
    first = mean.reset_index().groupby("UniqueString")["index"].transform("min")
    out: dict[str, np.ndarray] = {
        "arch_str": mean.ArchitectureString.to_numpy(dtype=str),
        "iso_class": first.to_numpy(dtype=np.int32),
        "acc200_cifar10": mean.CIFAR10TestAccuracy200Epochs.to_numpy(np.float64),
        "acc200_cifar100": mean.CIFAR100TestAccuracy200Epochs.to_numpy(np.float64),
        "acc200_ImageNet16-120": mean.ImageNetTestAccuracy200Epochs.to_numpy(np.float64),
        "acc12_cifar10": single.Cifar10TestAccuracy12Epochs.to_numpy(np.float64),
        "acc12_cifar100": single.Cifar100TestAccuracy12Epochs.to_numpy(np.float64),
        "acc12_ImageNet16-120": single.ImageNet16TestAccuracy12Epochs.to_numpy(np.float64),
    }
    for dev in HWNB_DEVICES:
        out[f"hwnasbench_{dev}_latency_ms"] = lat[f"{dev}_latency"].to_numpy(np.float64)
    rows = pi5[(pi5.device == "pi5") & (pi5.task == "cifar100")]
    for rt in PI5_RUNTIMES:
        r = rows[rows.framework == rt].sort_values("arch_idx")
        assert (r.arch_idx.to_numpy() == np.arange(n)).all(), rt
        out[f"pi5_{rt}_latency_ms"] = r.lat_ms_median.to_numpy(np.float64)
        out[f"pi5_{rt}_energy_mj"] = r.energy_mj.to_numpy(np.float64)
    return out


def add_complexity(out: dict[str, np.ndarray]) -> None:
    from agentnas.tools.spaces.nb201_complexity import params_and_flops

    pf = np.array([params_and_flops(s) for s in out["arch_str"]], dtype=np.float64)
    out["params_m"], out["flops_m"] = pf[:, 0], pf[:, 1]


def save_atomic(out: dict[str, np.ndarray], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    np.savez_compressed(tmp, **out)
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--raw", type=Path, default=Path("../shared/data/nb201"))
    ap.add_argument("--out", type=Path, default=Path("tools/data/nb201.npz"))
    ap.add_argument("--complexity", action="store_true")
    args = ap.parse_args()
    out = derive(args.raw)
    if args.complexity:
        add_complexity(out)
    elif args.out.exists():  # keep previously computed complexity columns
        with np.load(args.out) as old:
            for key in ("params_m", "flops_m"):
                if key in old:
                    out[key] = old[key]
    save_atomic(out, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {len(out)} arrays)")


if __name__ == "__main__":
    main()
