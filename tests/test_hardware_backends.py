"""The shipped table backends (HW-NAS-Bench, HW-NAS-Bench-360) and the registry's refusals."""

from __future__ import annotations

import numpy as np
import pytest

from agentnas.tools.benchmark_tables import load_nb201
from agentnas.tools.errors import UserError
from agentnas.tools.hardware.registry import get_backend, list_backends
from agentnas.tools.spaces.nb201 import all_cells, index_to_cell

ARCH0 = (  # architecture 0 of NAS-Bench-201 / HW-NAS-Bench
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|"
    "+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
)
AVAILABLE_HWNASBENCH = [f"hwnasbench:{d}" for d in ("eyeriss", "fpga", "pixel3", "raspi4")]


@pytest.mark.parametrize(
    ("device", "expected_ms"),
    [("eyeriss", 3.6456), ("fpga", 2.5730), ("pixel3", 3.6058), ("raspi4", 10.4820)],
)
def test_architecture_0_matches_hwnasbench_readme(device: str, expected_ms: float) -> None:
    # HW-NAS-Bench's README example (4 dp); pixel3 is stored as 3.60585
    backend = get_backend(f"hwnasbench:{device}")
    assert backend.metrics == ("latency_ms",)
    assert backend.spaces == ("nb201",)
    assert backend.evaluate(ARCH0)["latency_ms"] == pytest.approx(expected_ms, abs=1e-4)
    assert index_to_cell(0) == ARCH0


def test_any_valid_spelling_is_accepted_and_malformed_refused() -> None:
    backend = get_backend("hwnasbench:fpga")
    spaced = "  " + ARCH0 + "\n"
    assert backend.evaluate(spaced) == backend.evaluate(ARCH0)
    with pytest.raises(UserError, match="malformed NB201 cell string"):
        backend.evaluate("|avg_pool_3x3~0|+|nor_conv_1x1~0|")
    with pytest.raises(UserError, match="unknown op"):
        backend.evaluate(ARCH0.replace("avg_pool_3x3", "max_pool_3x3"))


@pytest.mark.parametrize("runtime", ["litert", "onnx", "torchmobile"])
def test_pi5_values_equal_the_shipped_table(runtime: str) -> None:
    backend = get_backend(f"hwnb360:pi5-{runtime}")
    tables = load_nb201()
    i = 1234
    got = backend.evaluate(index_to_cell(i))
    assert set(got) == {"latency_ms", "energy_mj"}
    assert got["latency_ms"] == tables.pi5_latency_ms[runtime][i]
    assert got["energy_mj"] == tables.pi5_energy_mj[runtime][i]
    assert "CIFAR-100" in backend.source
    assert got["latency_ms"] > 0 and got["energy_mj"] > 0


def test_pi5_onnx_architecture_0() -> None:
    got = get_backend("hwnb360:pi5-onnx").evaluate(ARCH0)
    assert got == {
        "latency_ms": pytest.approx(1.8305, abs=1e-4),
        "energy_mj": pytest.approx(2.6315, abs=1e-4),
    }


def test_evaluate_many_is_the_same_as_evaluate() -> None:
    backend = get_backend("hwnb360:pi5-torchmobile")
    cells = [index_to_cell(i) for i in (0, 7, 15624, 7)]
    assert backend.evaluate_many(cells) == [backend.evaluate(c) for c in cells]
    assert backend.evaluate_many([]) == []


def test_all_values_is_the_whole_column_in_index_order() -> None:
    backend = get_backend("hwnasbench:raspi4")
    values = backend.all_values("latency_ms")
    assert values.shape == (15625,)
    assert np.array_equal(values, load_nb201().hwnasbench_latency_ms["raspi4"])
    assert values[15624] == backend.evaluate(all_cells()[15624])["latency_ms"]
    with pytest.raises(ValueError):
        values[0] = 0.0  # read-only: callers cannot corrupt the shared table
    with pytest.raises(UserError, match="no data for energy_mj"):
        backend.all_values("energy_mj")


@pytest.mark.parametrize("member", ["edgegpu", "edgetpu"])
def test_unheld_hwnasbench_devices_are_refused_with_what_is_available(member: str) -> None:
    with pytest.raises(UserError) as info:
        get_backend(f"hwnasbench:{member}")
    message = str(info.value)
    assert "\n" not in message
    assert "not available" in message and "pickle" in message
    assert "Edge GPU / Edge TPU" in message and "no energy for any device" in message
    for name in AVAILABLE_HWNASBENCH:
        assert name in message


def test_unheld_devices_are_listed_as_unavailable() -> None:
    infos = {info.name: info for info in list_backends()}
    for member in ("edgegpu", "edgetpu"):
        info = infos[f"hwnasbench:{member}"]
        assert not info.available
        assert "pickle" in info.why_unavailable
    for name in [*AVAILABLE_HWNASBENCH, "hwnb360:pi5-litert", "table:PATH", "cpu"]:
        assert infos[name].available, name
    assert infos["hwnb360:pi5-onnx"].metrics == ["latency_ms", "energy_mj"]


def test_energy_on_fpga_is_refused_listing_what_exists() -> None:
    backend = get_backend("hwnasbench:fpga")
    backend.require(["latency_ms"])  # held: no error
    with pytest.raises(UserError) as info:
        backend.require(["latency_ms", "energy_mj"])
    message = str(info.value)
    assert "no data for energy_mj" in message
    assert "it provides: latency_ms" in message
    assert "hwnb360:pi5-litert" in message  # where energy can be had instead


def test_pi5_backend_refuses_a_metric_it_lacks() -> None:
    with pytest.raises(
        UserError, match="no data for mzi_count; it provides: latency_ms, energy_mj"
    ):
        get_backend("hwnb360:pi5-litert").require(["mzi_count"])


@pytest.mark.parametrize(
    ("name", "pattern"),
    [
        ("foo:bar", "unknown hardware backend 'foo:bar'"),
        ("hwnasbench:tpu9", "unknown HW-NAS-Bench device"),
        ("hwnasbench", "unknown HW-NAS-Bench device"),
        ("hwnb360:pi4-onnx", "unknown HW-NAS-Bench-360 backend"),
    ],
)
def test_unknown_names_list_what_is_available(name: str, pattern: str) -> None:
    with pytest.raises(UserError, match=pattern) as info:
        get_backend(name)
    message = str(info.value)
    assert "available:" in message
    assert "hwnasbench:fpga" in message or "hwnb360:pi5-onnx" in message


def test_unknown_prefix_lists_every_family() -> None:
    with pytest.raises(UserError) as info:
        get_backend("foo:bar")
    message = str(info.value)
    for name in ["hwnasbench:eyeriss", "hwnb360:pi5-torchmobile", "table:PATH", "cpu"]:
        assert name in message


def test_takes_option_reads_the_factory_not_the_name():
    """The Evaluator hands the run's dataset only to backends built with one (a simulator
    that trains candidates), asked of the backend's factory, not of its name."""
    from agentnas.tools.hardware.registry import takes_option

    assert takes_option("optical-mzi:realistic", "dataset")
    assert not takes_option("electronic:cpu", "dataset")
    assert not takes_option("hwnasbench:fpga", "dataset")
    assert not takes_option("no-such-family:x", "dataset")
    assert takes_option("toy_plugin:ChainMeter", "dataset")  # a user backend's own keyword


def test_the_bench_takes_a_devices_space_from_its_backend_not_its_name():
    """The space a bench searches on a device is the first its backend declares (from
    the family's listing, or the backend itself), not a guess from the device's name."""
    from agentnas.bench.jobs import space_of
    from agentnas.tools.hardware.registry import backend_spaces

    assert backend_spaces("hwnasbench:fpga") == ("nb201",) == backend_spaces("cpu")
    assert backend_spaces("electronic:jetson") == ("photonic-mlp",)
    assert space_of("optical-mzi:ideal+mems") == "photonic-mlp"
    assert space_of("toy_plugin:ChainMeter") == "toy-chain"  # a user backend, by its own word
    assert space_of("hwnasbench:fpga", "photonic-mlp") == "photonic-mlp"  # --space wins
