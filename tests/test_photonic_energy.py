"""Energy/latency model (tools/photonic/energy.py) and the electronic reference backends."""

from __future__ import annotations

import math

import pytest

from agentnas.tools.errors import UserError
from agentnas.tools.hardware.electronic import electronic_energy_pj, network_macs
from agentnas.tools.hardware.registry import get_backend, list_backends
from agentnas.tools.photonic.energy import (
    EnergyConstants,
    LayerSpec,
    energy_per_inference,
    latency_estimate_ns,
    layer_energy,
)
from agentnas.tools.photonic.nonideal import preset


def _net(width: int, mesh: str = "clements", k: int = 16) -> list[LayerSpec]:
    return [
        LayerSpec(in_features=784, out_features=width, mesh=mesh, block_size=k),
        LayerSpec(in_features=width, out_features=10, mesh=mesh, block_size=k),
    ]


def test_energy_grows_with_layer_width() -> None:
    totals = [energy_per_inference(_net(w)).total_pj for w in (16, 32, 64, 128)]
    assert totals == sorted(totals) and len(set(totals)) == 4
    small, big = energy_per_inference(_net(16)), energy_per_inference(_net(128))
    for part, value in small.to_dict().items():
        assert value > 0, part
        assert big.to_dict()[part] > value, part


def test_less_sensitive_detector_needs_more_laser_energy() -> None:
    net = _net(64)
    by_sens = {
        s: energy_per_inference(net, EnergyConstants(pd_sensitivity_dbm=s)) for s in (-30, -25, -20)
    }
    assert by_sens[-30].total_pj < by_sens[-25].total_pj < by_sens[-20].total_pj
    # the laser term scales exactly with 10^(ΔS/10); nothing else moves
    assert by_sens[-20].laser == pytest.approx(by_sens[-25].laser * 10**0.5)
    assert by_sens[-20].dac == by_sens[-30].dac


def test_laser_follows_the_loss_budget() -> None:
    spec = LayerSpec(in_features=8, out_features=8, mesh="clements", block_size=8)
    c = EnergyConstants()
    dbm = c.pd_sensitivity_dbm + c.modulator_il_db + c.mzi_il_db * (2 * 8 + 1) + 10 * math.log10(8)
    expect_pj = 10 ** (dbm / 10) / c.laser_wall_plug / c.clock_ghz  # mW · ns = pJ
    assert layer_energy(spec, c).laser == pytest.approx(expect_pj)
    # Reck is deeper (2N−3), so its light loses more and needs a stronger laser
    reck = spec.model_copy(update={"mesh": "reck"})
    assert layer_energy(reck, c).laser > layer_energy(spec, c).laser


def test_breakdown_counts() -> None:
    spec = LayerSpec(in_features=784, out_features=128, block_size=16)
    assert spec.grid == (8, 49) and spec.n_blocks == 392
    assert spec.mzi_count == 392 * 16 * 15
    c = EnergyConstants()
    e = layer_energy(spec, c)
    channels = 392 * 16
    assert e.dac == pytest.approx(channels * 3.6)
    assert e.adc == pytest.approx(channels * 1.5)
    assert e.modulator == pytest.approx(channels * 8 * 0.45)
    assert e.detectors_tia == pytest.approx(channels * (1.1 + 3.0) * 0.1)
    assert e.heaters == pytest.approx(spec.phase_shifters * 30.0 * 0.1)
    d = e.to_dict()
    assert d["total_pj"] == pytest.approx(sum(v for k, v in d.items() if k != "total_pj"))
    assert e.total_mj == pytest.approx(e.total_pj * 1e-9)


def test_nonidealities_set_loss_and_adc_bits() -> None:
    net = _net(64)
    ideal = energy_per_inference(net, nonideal=preset("ideal"))
    worst = energy_per_inference(net, nonideal=preset("worst-case"))
    assert ideal.laser < worst.laser  # lossless vs 0.99 dB per MZI
    assert worst.adc == pytest.approx(ideal.adc * 6 / 8)  # 6-bit vs 8-bit SAR ADC


def test_latency_positive_and_deeper_meshes_are_slower() -> None:
    t_clem = latency_estimate_ns(_net(64, "clements"))
    t_reck = latency_estimate_ns(_net(64, "reck"))
    assert 0 < t_clem < t_reck
    assert t_clem >= 2 * 2 * 0.1  # two layers, each one DAC and one ADC slot at 10 GHz


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"in_features": 784, "out_features": 64, "block_size": 1}, "block size 1 cannot be"),
        ({"in_features": 0, "out_features": 64}, "in_features must be a positive"),
        ({"in_features": 4, "out_features": 4, "mesh": "x"}, "unknown mesh 'x'"),
        ({"in_features": "a", "out_features": 4}, "bad layer in_features='a'"),
    ],
)
def test_bad_layer_specs(kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        LayerSpec(**kwargs)


def test_bad_constants() -> None:
    with pytest.raises(UserError, match="laser_wall_plug must be in"):
        EnergyConstants(laser_wall_plug=1.5)
    with pytest.raises(UserError, match="heater_p_pi_mw must be >= 0"):
        EnergyConstants(heater_p_pi_mw=-1.0)


# --- electronic reference backends -----------------------------------------------------


def test_electronic_energy_per_mac() -> None:
    assert electronic_energy_pj(1000, "cpu") == pytest.approx(91_700.0)
    assert electronic_energy_pj(1000, "gpu") == pytest.approx(890.0)
    assert electronic_energy_pj(0, "gpu") == 0.0
    with pytest.raises(UserError, match="unknown electronic device 'tpu'; accepted: cpu, gpu"):
        electronic_energy_pj(10, "tpu")
    with pytest.raises(UserError, match="macs must be"):
        electronic_energy_pj(-1, "cpu")


def test_electronic_backends_in_the_registry() -> None:
    names = {info.name for info in list_backends()}
    assert {"electronic:cpu", "electronic:gpu"} <= names
    with pytest.raises(UserError, match="accepted: cpu, gpu"):
        get_backend("electronic:fpga")
    arch = "mlp:h=64-32|act=relu|mesh=clements|k=16|bits=8|nat=1"
    macs = network_macs([(784, 64), (64, 32), (32, 10)])
    gpu = get_backend("electronic:gpu").evaluate(arch)
    cpu = get_backend("electronic:cpu").evaluate(arch)
    assert gpu["macs"] == macs
    assert gpu["energy_mj"] == pytest.approx(macs * 0.89e-9)
    assert cpu["energy_mj"] == pytest.approx(macs * 91.7e-9)


def test_heaters_dominate_and_exceed_the_gpu_reference() -> None:
    """The finding stated in tools/photonic/energy.py: static heaters charged per 0.1 ns
    slot make the optical MNIST MLP costlier than the GPU (but not the CPU) reference,
    and only heater-free shifters bring it below."""
    from agentnas.tools.photonic.energy import EFFICIENT_HEATER_P_PI_MW

    net = [
        LayerSpec(in_features=784, out_features=64),
        LayerSpec(in_features=64, out_features=32),
        LayerSpec(in_features=32, out_features=10),
    ]
    macs = network_macs([(784, 64), (64, 32), (32, 10)])
    gpu, cpu = electronic_energy_pj(macs, "gpu"), electronic_energy_pj(macs, "cpu")
    ni = preset("realistic")
    e = energy_per_inference(net, nonideal=ni)
    assert e.total_pj == pytest.approx(356_397.7, rel=1e-6)  # module docstring example
    assert e.heaters / e.total_pj > 0.9 and gpu < e.total_pj < cpu
    efficient = energy_per_inference(
        net, EnergyConstants(heater_p_pi_mw=EFFICIENT_HEATER_P_PI_MW), ni
    )
    assert 1.5 * gpu < efficient.total_pj < e.total_pj
    no_heaters = energy_per_inference(net, EnergyConstants(heater_p_pi_mw=0.0), ni)
    assert no_heaters.heaters == 0.0 and no_heaters.total_pj < gpu
