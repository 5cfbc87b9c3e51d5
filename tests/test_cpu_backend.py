"""``cpu``: measured latency of the NB201 torch network, cached on disk per machine/setup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from agentnas.tools.errors import UserError
from agentnas.tools.hardware import cpu
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.spaces.nb201 import format_cell, index_to_cell

ARCH0 = index_to_cell(0)
ALL_CONV3 = format_cell(["nor_conv_3x3"] * 6)  # the largest cell (params, FLOPs)
ALL_NONE = format_cell(["none"] * 6)


class CountingBuilder:
    """A tiny stand-in network builder that records every build."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, cell: str, num_classes: int = 10) -> nn.Module:
        self.calls.append((cell, num_classes))
        return nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(cpu.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def builder(monkeypatch: pytest.MonkeyPatch) -> CountingBuilder:
    fake = CountingBuilder()
    monkeypatch.setattr(cpu, "load_builder", lambda: fake)
    return fake


def test_second_call_is_served_from_the_cache(cache_dir: Path, builder: CountingBuilder) -> None:
    backend = get_backend("cpu")
    assert backend.metrics == ("latency_ms",) and backend.spaces == ("nb201",)
    first = backend.evaluate(ARCH0)
    assert builder.calls == [(ARCH0, 10)]
    assert first["latency_ms"] > 0
    again = get_backend("cpu").evaluate("  " + ARCH0)  # new backend, other spelling
    assert again == first
    assert len(builder.calls) == 1

    data = json.loads((cache_dir / cpu.CACHE_FILE).read_text())
    (key,) = data
    assert key.startswith(ARCH0)
    assert f"torch={torch.__version__}" in key and "threads=1" in key
    assert cpu.machine_id() in key
    assert data[key]["latency_ms"] == first["latency_ms"]
    assert [p.name for p in cache_dir.iterdir()] == [cpu.CACHE_FILE]  # no temp files left


def test_each_cell_is_measured_once(cache_dir: Path, builder: CountingBuilder) -> None:
    backend = cpu.CpuLatencyBackend(warmup=1, repeats=3)
    results = backend.evaluate_many([ARCH0, ALL_CONV3, ARCH0])
    assert [c for c, _ in builder.calls] == [ARCH0, ALL_CONV3]
    assert results[0] == results[2]
    assert len(json.loads((cache_dir / cpu.CACHE_FILE).read_text())) == 2


@pytest.mark.parametrize("garbage", ["{not json", "[1, 2]", '{"x": 1}', ""])
def test_corrupt_cache_is_recomputed(
    cache_dir: Path, builder: CountingBuilder, garbage: str
) -> None:
    cache_dir.mkdir()
    (cache_dir / cpu.CACHE_FILE).write_text(garbage)
    result = cpu.CpuLatencyBackend(warmup=1, repeats=3).evaluate(ARCH0)
    assert len(builder.calls) == 1 and result["latency_ms"] > 0
    data = json.loads((cache_dir / cpu.CACHE_FILE).read_text())  # rewritten, valid
    assert any(k.startswith(ARCH0) for k in data)


def test_corrupt_entry_is_recomputed(cache_dir: Path, builder: CountingBuilder) -> None:
    backend = cpu.CpuLatencyBackend(warmup=1, repeats=3)
    backend.evaluate(ARCH0)
    path = cache_dir / cpu.CACHE_FILE
    data = json.loads(path.read_text())
    (key,) = data
    data[key] = {"latency_ms": "fast"}
    path.write_text(json.dumps(data))
    assert backend.evaluate(ARCH0)["latency_ms"] > 0
    assert len(builder.calls) == 2


def test_other_thread_count_is_a_different_entry(cache_dir: Path, builder: CountingBuilder) -> None:
    threads_before = torch.get_num_threads()
    cpu.CpuLatencyBackend(threads=1, warmup=0, repeats=2).evaluate(ARCH0)
    cpu.CpuLatencyBackend(threads=2, warmup=0, repeats=2).evaluate(ARCH0)
    assert len(builder.calls) == 2
    assert torch.get_num_threads() == threads_before  # measurement restores the setting
    keys = json.loads((cache_dir / cpu.CACHE_FILE).read_text())
    assert {k.split(" threads=")[1].split(" ")[0] for k in keys} == {"1", "2"}


def test_bad_input_is_refused(cache_dir: Path, builder: CountingBuilder) -> None:
    with pytest.raises(UserError, match="malformed NB201 cell string"):
        get_backend("cpu").evaluate("|conv~0|")
    with pytest.raises(UserError, match="no members"):
        get_backend("cpu:fast")
    with pytest.raises(UserError, match="repeats >= 1"):
        cpu.CpuLatencyBackend(repeats=0)
    with pytest.raises(UserError, match="no data for energy_mj; it provides: latency_ms"):
        get_backend("cpu").require(["energy_mj"])
    assert builder.calls == []


def test_unwritable_cache_is_a_user_error(tmp_path: Path, builder: CountingBuilder) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    backend = cpu.CpuLatencyBackend(warmup=0, repeats=1, cache_path=blocker / "c.json")
    with pytest.raises(UserError, match="cannot write the cpu latency cache"):
        backend.evaluate(ARCH0)


def test_real_network_bigger_cell_is_slower(cache_dir: Path) -> None:
    """The real NB201 network: all-3x3 convolutions cost several times the all-none cell."""
    backend = cpu.CpuLatencyBackend(warmup=2, repeats=7)
    heavy = backend.evaluate(ALL_CONV3)["latency_ms"]
    light = backend.evaluate(ALL_NONE)["latency_ms"]
    assert 0 < light < heavy < 1000
    assert heavy > 1.5 * light
