"""``electronic:cpu`` / ``electronic:gpu``: energy of the same network on digital hardware.

The reference points UH-NAS compares its optical backend with (King & Leleu, "LLM-Guided
Neural Architecture Search for Robust Co-Design of Physical Neural Networks",
arXiv 2606.10294, 2026; numbers as summarised in ../shared/docs/papers.md): energy per
multiply-accumulate of a linear layer,

* CPU, FP32: 91.7 pJ/MAC,
* GPU, FP16: 0.89 pJ/MAC.

Energy per inference = MACs × pJ/MAC (weights only; activations and data movement are
inside the per-MAC figure, as in UH-NAS). Architectures are ``photonic-mlp`` strings; the
MACs are Σ in·out over the network's linear layers (MNIST: 784 inputs, 10 classes).
"""

from __future__ import annotations

from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import BackendInfo, HardwareBackend
from agentnas.tools.hardware.registry import Family, register

PREFIX = "electronic"
PJ_PER_MAC: dict[str, float] = {
    "cpu": 91.7,  # FP32, UH-NAS (arXiv 2606.10294)
    "gpu": 0.89,  # FP16, UH-NAS (arXiv 2606.10294)
}
PRECISION = {"cpu": "FP32", "gpu": "FP16"}
SPACE = "photonic-mlp"
PJ_PER_MJ = 1e9


def _check_device(device: str) -> None:
    if device not in PJ_PER_MAC:
        raise UserError(f"unknown electronic device '{device}'; accepted: {', '.join(PJ_PER_MAC)}")


def electronic_energy_pj(macs: int, device: str) -> float:
    """Energy (pJ) of ``macs`` multiply-accumulates on ``device`` ("cpu" | "gpu")."""
    _check_device(device)
    if isinstance(macs, bool) or not isinstance(macs, int) or macs < 0:
        raise UserError(f"macs must be a non-negative integer, got {macs!r}")
    return macs * PJ_PER_MAC[device]


def network_macs(layer_shapes: list[tuple[int, int]]) -> int:
    """Σ in·out over (in, out) linear layers."""
    return sum(i * o for i, o in layer_shapes)


class ElectronicBackend(HardwareBackend):
    """Energy per inference (mJ) of a photonic-mlp network run on a CPU or GPU."""

    metrics = ("energy_mj", "macs")
    spaces = (SPACE,)

    def __init__(self, device: str, in_features: int = 784, n_classes: int = 10) -> None:
        _check_device(device)
        self.device = device
        self.name = f"{PREFIX}:{device}"
        self.in_features = in_features
        self.n_classes = n_classes

    def evaluate(self, arch: str) -> dict[str, float]:
        from agentnas.tools.spaces.photonic_mlp import parse  # lazy: keeps the registry light

        shapes = parse(arch).layer_shapes(self.in_features, self.n_classes)
        macs = network_macs(shapes)
        return {
            "energy_mj": electronic_energy_pj(macs, self.device) / PJ_PER_MJ,
            "macs": float(macs),
        }


def make_backend(member: str, in_features: int = 784, n_classes: int = 10) -> ElectronicBackend:
    if member == "":
        raise UserError(
            f"backend '{PREFIX}' needs a device: {', '.join(f'{PREFIX}:{d}' for d in PJ_PER_MAC)}"
        )
    return ElectronicBackend(member, in_features, n_classes)


def describe() -> list[BackendInfo]:
    return [
        BackendInfo(
            name=f"{PREFIX}:{d}",
            metrics=list(ElectronicBackend.metrics),
            spaces=[SPACE],
            source=f"{pj} pJ/MAC ({PRECISION[d]}), as reported by UH-NAS (arXiv 2606.10294)",
        )
        for d, pj in PJ_PER_MAC.items()
    ]


register(Family(PREFIX, make_backend, describe))
