"""Diversity and composition of the fronts found on the photonic space.

UH-NAS claims the LLM-guided search finds a *more diverse* set of robust designs, and
physics predicts how a front should move when the hardware gets worse (fewer mesh
stages, lower phase precision, noise-aware training: every extra MZI stage adds loss and
phase error, and bits beyond the noise floor buy nothing). These figures make both
checkable from a bench's points:

- per run: distinct mesh types, hidden-width lists and phase precisions on its front,
  and the spread of the front along the energy axis (decades, log10 max/min);
- per device: the composition of the reference front (mean phase bits, mean stages per
  block, share of Reck meshes, share trained noise-aware, mean hidden layers).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from typing import Any

_KEY = re.compile(r"(\w+)=([^|]+)")
ENERGY = "energy_mj"


def knobs(arch: str) -> dict[str, str]:
    """``mlp:h=64-32|act=relu|mesh=clements|k=16|bits=8|nat=1`` -> its key/value pairs."""
    return dict(_KEY.findall(arch.removeprefix("mlp:")))


def stages(k: dict[str, str]) -> int:
    """MZI columns a signal crosses in one k-port mesh: N (Clements) or 2N-3 (Reck)."""
    n = int(k.get("k", 0))
    return 2 * n - 3 if k.get("mesh") == "reck" else n


def run_diversity(front_archs: Sequence[str], front_metrics: Sequence[dict]) -> dict[str, Any]:
    ks = [knobs(a) for a in front_archs]
    energies = [m[ENERGY] for m in front_metrics if m.get(ENERGY, 0) > 0]
    spread = math.log10(max(energies) / min(energies)) if len(energies) > 1 else 0.0
    return {
        "front_size": len(ks),
        "mesh_types": len({k.get("mesh") for k in ks}),
        "widths": len({k.get("h") for k in ks}),
        "precisions": len({k.get("bits") for k in ks}),
        "energy_decades": spread,
    }


def composition(front_archs: Sequence[str]) -> dict[str, float]:
    """What the members of a front are made of (see the module doc)."""
    ks = [knobs(a) for a in front_archs]
    if not ks:
        return {}
    return {
        "members": len(ks),
        "mean_bits": statistics.fmean(int(k["bits"]) for k in ks),
        "mean_stages": statistics.fmean(stages(k) for k in ks),
        "share_reck": statistics.fmean(k.get("mesh") == "reck" for k in ks),
        "share_nat": statistics.fmean(k.get("nat") == "1" for k in ks),
        "mean_layers": statistics.fmean(len(k["h"].split("-")) for k in ks),
    }
