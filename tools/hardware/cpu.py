"""``cpu``: latency (ms) of the real NB201 torch network, measured on this machine.

Each cell's network (CIFAR-10 head, from :mod:`agentnas.tools.spaces.nb201_torch`) runs
in eval mode on one 1x3x32x32 input with a fixed number of torch threads (default 1, so
that numbers do not swing with whatever else the machine runs); after a few warm-up passes
the median of the timed repeats is reported. Measuring costs about a second per cell, so
results are cached on disk in ``.agentnas-cache/cpu_latency.json`` (folder overridable
with ``AGENTNAS_CACHE_DIR``), keyed by cell, torch version, thread count and machine: a
number measured elsewhere or with another setup is never reused. The file is written
atomically; an unreadable or corrupt cache is treated as empty and rewritten.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import time
from collections.abc import Callable
from functools import cache
from importlib import metadata, util
from pathlib import Path
from typing import Any

from agentnas.tools.atomic_io import write_text_atomic
from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import BackendInfo, HardwareBackend
from agentnas.tools.hardware.registry import Family, register
from agentnas.tools.spaces.nb201 import normalize

CACHE_ENV = "AGENTNAS_CACHE_DIR"
CACHE_FILE = "cpu_latency.json"
BUILDER_MODULE = "agentnas.tools.spaces.nb201_torch"
INPUT_SHAPE = (1, 3, 32, 32)  # batch 1, CIFAR-sized input

Builder = Callable[..., Any]  # (cell: str, num_classes: int) -> torch.nn.Module


def cache_dir() -> Path:
    """``$AGENTNAS_CACHE_DIR`` or ``./.agentnas-cache``."""
    return Path(os.environ.get(CACHE_ENV) or Path.cwd() / ".agentnas-cache")


@cache
def machine_id() -> str:
    """Host name, architecture and CPU model: a latency is only valid where measured."""
    model = platform.processor() or "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}/{platform.machine()}/{model}"


def torch_version() -> str:
    return metadata.version("torch")


def cache_key(cell: str, version: str, threads: int, machine: str) -> str:
    return f"{cell} torch={version} threads={threads} machine={machine}"


def read_cache(path: Path) -> dict[str, Any]:
    """The cache as a dict; missing, unreadable or corrupt files count as empty."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_cache(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (temp file in the same folder, then rename)."""
    try:
        write_text_atomic(path, json.dumps(data, indent=1, sort_keys=True))
    except OSError as exc:
        raise UserError(
            f"cannot write the cpu latency cache {path} ({exc.strerror or exc}); "
            f"set {CACHE_ENV} to a writable folder"
        ) from None


def _cached_ms(entry: Any) -> float | None:
    value = entry.get("latency_ms") if isinstance(entry, dict) else None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and math.isfinite(value) and value > 0 else None


def measure_latency_ms(model: Any, threads: int, warmup: int, repeats: int) -> float:
    """Median wall time (ms) of one forward pass of ``model`` on a 1x3x32x32 input."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model.eval()
        x = torch.randn(INPUT_SHAPE, generator=torch.Generator().manual_seed(0))
        times_ns: list[int] = []
        with torch.inference_mode():
            for _ in range(warmup):
                model(x)
            for _ in range(repeats):
                start = time.perf_counter_ns()
                model(x)
                times_ns.append(time.perf_counter_ns() - start)
        return statistics.median(times_ns) / 1e6
    finally:
        torch.set_num_threads(previous)


def load_builder() -> Builder:
    """The NB201 network builder, imported only when a cell must be measured."""
    try:
        from agentnas.tools.spaces.nb201_torch import build_network
    except ModuleNotFoundError as exc:
        if exc.name not in (BUILDER_MODULE, "torch"):
            raise
        raise UserError(
            f"the cpu backend needs {exc.name}, which is not installed in this checkout"
        ) from None
    return build_network


class CpuLatencyBackend(HardwareBackend):
    """Measured CPU latency (ms) of NB201 cells, cached per cell/torch/threads/machine."""

    name = "cpu"
    metrics = ("latency_ms",)
    spaces = ("nb201",)

    def __init__(
        self,
        threads: int = 1,
        warmup: int = 10,
        repeats: int = 50,
        cache_path: Path | None = None,
        builder: Builder | None = None,
    ) -> None:
        if threads < 1 or warmup < 0 or repeats < 1:
            raise UserError(
                f"cpu backend needs threads >= 1, warmup >= 0, repeats >= 1; "
                f"got {threads}, {warmup}, {repeats}"
            )
        self.threads, self.warmup, self.repeats = threads, warmup, repeats
        self.cache_path = cache_path or cache_dir() / CACHE_FILE
        self._builder = builder
        self.source = _source(threads, warmup, repeats, self.cache_path)

    def _key(self, cell: str) -> str:
        return cache_key(cell, torch_version(), self.threads, machine_id())

    def evaluate(self, arch: str) -> dict[str, float]:
        cell = normalize(arch)
        key = self._key(cell)
        cached = _cached_ms(read_cache(self.cache_path).get(key))
        if cached is not None:
            return {"latency_ms": cached}
        builder = self._builder or load_builder()
        model = builder(cell, 10)
        ms = measure_latency_ms(model, self.threads, self.warmup, self.repeats)
        data = read_cache(self.cache_path)  # re-read: another process may have added cells
        data[key] = {"latency_ms": ms, "warmup": self.warmup, "repeats": self.repeats}
        write_cache(self.cache_path, data)
        return {"latency_ms": ms}


def _source(threads: int, warmup: int, repeats: int, path: Path) -> str:
    return (
        f"torch on this machine ({machine_id()}): NB201 network, batch 1, 3x32x32, "
        f"{threads} thread(s), median of {repeats} runs after {warmup} warm-up; cached in {path}"
    )


def make_backend(member: str) -> CpuLatencyBackend:
    if member:
        raise UserError(f"the cpu backend has no members ('cpu:{member}'); use 'cpu'")
    return CpuLatencyBackend()


def describe() -> list[BackendInfo]:
    missing = [m for m in ("torch", BUILDER_MODULE) if util.find_spec(m) is None]
    return [
        BackendInfo(
            name="cpu",
            metrics=["latency_ms"],
            spaces=["nb201"],
            source=_source(1, 10, 50, cache_dir() / CACHE_FILE),
            available=not missing,
            why_unavailable=f"{', '.join(missing)} not installed" if missing else "",
        )
    ]


register(Family("cpu", make_backend, describe))
