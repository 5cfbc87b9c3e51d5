"""``hwnasbench:<device>``: HW-NAS-Bench CIFAR-10 inference latency (ms) of NB201 cells.

Four devices are shipped (``tools/data/nb201.npz``, values unchanged from HW-NAS-Bench as
redistributed by HELP): Eyeriss, FPGA, Pixel 3 and Raspberry Pi 4. HW-NAS-Bench also
reports Edge GPU / Edge TPU latency and energy for several devices, but those live only in
its pickle, which the project could not reach. They are listed as unavailable and refused
by name, never approximated (see ``tools/data/NOTICE``).
"""

from __future__ import annotations

from agentnas.tools.benchmark_tables import HWNASBENCH_DEVICES, PI5_RUNTIMES, load_nb201
from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import BackendInfo
from agentnas.tools.hardware.registry import Family, register
from agentnas.tools.hardware.table import NB201TableBackend

PREFIX = "hwnasbench"
DEVICE_NAMES: dict[str, str] = {
    "eyeriss": "Eyeriss ASIC accelerator",
    "fpga": "FPGA",
    "pixel3": "Google Pixel 3 phone",
    "raspi4": "Raspberry Pi 4",
}
UNAVAILABLE: dict[str, str] = {
    "edgegpu": "NVIDIA Edge GPU (Jetson TX2)",
    "edgetpu": "Google Edge TPU",
}
MISSING = (
    "the HW-NAS-Bench pickle is not reachable, so there is no Edge GPU / Edge TPU data "
    "and no energy for any device"
)
_ENERGY_ELSEWHERE = (
    "HW-NAS-Bench energy is not shipped (" + MISSING.split(", so ")[0] + "); energy_mj is "
    "available from " + ", ".join(f"hwnb360:pi5-{r}" for r in PI5_RUNTIMES)
)


def _available() -> str:
    return ", ".join(f"{PREFIX}:{d}" for d in HWNASBENCH_DEVICES)


def _source(device: str) -> str:
    return (
        f"HW-NAS-Bench (Li et al., ICLR 2021), {DEVICE_NAMES[device]}: CIFAR-10 inference "
        "latency (ms) of the NB201 network, as redistributed by HELP (Lee et al., 2021)"
    )


def make_backend(member: str) -> NB201TableBackend:
    """The backend for one device; UserError naming what is missing and what exists."""
    if member in UNAVAILABLE:
        raise UserError(
            f"'{PREFIX}:{member}' ({UNAVAILABLE[member]}) is not available: {MISSING}; "
            f"available: {_available()}"
        )
    if member not in HWNASBENCH_DEVICES:
        raise UserError(
            f"unknown HW-NAS-Bench device '{PREFIX}:{member}'; available: {_available()}"
        )
    return NB201TableBackend(
        name=f"{PREFIX}:{member}",
        values={"latency_ms": load_nb201().hwnasbench_latency_ms[member]},
        source=_source(member),
        note=_ENERGY_ELSEWHERE,
    )


def describe() -> list[BackendInfo]:
    infos = [
        BackendInfo(
            name=f"{PREFIX}:{d}", metrics=["latency_ms"], spaces=["nb201"], source=_source(d)
        )
        for d in HWNASBENCH_DEVICES
    ]
    infos += [
        BackendInfo(
            name=f"{PREFIX}:{d}",
            metrics=[],
            spaces=["nb201"],
            source=f"HW-NAS-Bench, {label}",
            available=False,
            why_unavailable=MISSING,
        )
        for d, label in UNAVAILABLE.items()
    ]
    return infos


register(Family(PREFIX, make_backend, describe))
