"""``hwnb360:pi5-<runtime>``: Raspberry Pi 5 latency (ms) and energy (mJ) of NB201 cells.

Numbers from HW-NAS-Bench-360 (shipped in ``tools/data/nb201.npz``), measured on the NB201
network with the CIFAR-100 head (100 classes, 32x32 input) — not the CIFAR-10 network the
HW-NAS-Bench backends describe — under three runtimes: LiteRT, ONNX Runtime, TorchMobile.
One member per isomorphism class was measured and its values copied to the others, and
LiteRT reports 0 ms / 0 mJ for some degenerate cells whose dead graph it removed; both are
kept as measured.
"""

from __future__ import annotations

from agentnas.tools.benchmark_tables import PI5_RUNTIMES, load_nb201
from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import BackendInfo
from agentnas.tools.hardware.registry import Family, register
from agentnas.tools.hardware.table import NB201TableBackend

PREFIX = "hwnb360"
RUNTIME_NAMES: dict[str, str] = {
    "litert": "LiteRT",
    "onnx": "ONNX Runtime",
    "torchmobile": "TorchMobile",
}
METRICS: tuple[str, ...] = ("latency_ms", "energy_mj")


def _members() -> list[str]:
    return [f"pi5-{r}" for r in PI5_RUNTIMES]


def _source(runtime: str) -> str:
    return (
        f"HW-NAS-Bench-360, Raspberry Pi 5, {RUNTIME_NAMES[runtime]}: median latency (ms) and "
        "energy per inference (mJ), measured on the NB201 network with the CIFAR-100 head"
    )


def make_backend(member: str) -> NB201TableBackend:
    device, _, runtime = member.partition("-")
    if device != "pi5" or runtime not in PI5_RUNTIMES:
        available = ", ".join(f"{PREFIX}:{m}" for m in _members())
        raise UserError(
            f"unknown HW-NAS-Bench-360 backend '{PREFIX}:{member}'; available: {available}"
        )
    tables = load_nb201()
    return NB201TableBackend(
        name=f"{PREFIX}:{member}",
        values={
            "latency_ms": tables.pi5_latency_ms[runtime],
            "energy_mj": tables.pi5_energy_mj[runtime],
        },
        source=_source(runtime),
    )


def describe() -> list[BackendInfo]:
    return [
        BackendInfo(
            name=f"{PREFIX}:pi5-{r}", metrics=list(METRICS), spaces=["nb201"], source=_source(r)
        )
        for r in PI5_RUNTIMES
    ]


register(Family(PREFIX, make_backend, describe))
