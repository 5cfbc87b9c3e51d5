"""Non-idealities (tools/photonic/nonideal.py) and the MZILinear layer (layers.py)."""

from __future__ import annotations

import itertools
import statistics

import pytest
import torch
from torch import nn

from agentnas.tools.errors import UserError
from agentnas.tools.photonic.layers import MZILinear, set_nonideal
from agentnas.tools.photonic.mesh import decompose, random_unitary
from agentnas.tools.photonic.nonideal import (
    NonIdealities,
    apply,
    detect,
    perturb_phases,
    preset,
)


def _layer(mesh: str = "clements", k: int = 8, out_f: int = 23, in_f: int = 37) -> MZILinear:
    torch.manual_seed(0)
    layer = MZILinear(in_f, out_f, mesh=mesh, block_size=k)
    layer.eval()
    return layer


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"phase_noise_std": -0.1}, "phase_noise_std must be a number in \\[0"),
        ({"gain_error_std": -1e-3}, "gain_error_std"),
        ({"phase_bits": 0}, "phase_bits must be 1..16 bits"),
        ({"adc_bits": 0}, "adc_bits must be 2..16 bits"),
        ({"crosstalk": float("nan")}, "crosstalk"),
        ({"phase_bits": "many"}, "bad non-ideality phase_bits='many'"),
        ({"noise": 0.1}, "unknown non-ideality noise; accepted: adc_bits"),
    ],
)
def test_bad_values_give_one_line_user_error(kwargs: dict, message: str) -> None:
    with pytest.raises(UserError, match=message) as info:
        NonIdealities(**kwargs)
    assert "\n" not in str(info.value)


def test_presets_and_overrides() -> None:
    assert preset("ideal") == NonIdealities()
    assert preset("ideal").is_ideal
    real, worst = preset("realistic"), preset("worst-case")
    assert real.phase_bits == 8 and worst.phase_bits < real.phase_bits
    assert worst.phase_noise_std > real.phase_noise_std > 0
    assert worst.insertion_loss_db > real.insertion_loss_db > 0
    assert preset("realistic", phase_bits=4, crosstalk=0.0).phase_bits == 4
    with pytest.raises(UserError, match="unknown non-ideality preset 'typical'; accepted: ideal"):
        preset("typical")
    with pytest.raises(UserError, match="phase_noise_std"):
        preset("realistic", phase_noise_std=-1.0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((16, 16, "clements", 1), "block size 1 cannot be mapped; accepted: integers 2..64"),
        ((16, 16, "clements", 65), "block size 65 cannot be mapped"),
        ((0, 16, "clements", 8), "in_features must be a positive integer"),
        ((16, -3, "reck", 8), "out_features must be a positive integer"),
        ((16, 16, "triangle", 8), "unknown mesh 'triangle'; accepted: clements, reck"),
    ],
)
def test_unmappable_layers_are_refused(args: tuple, message: str) -> None:
    with pytest.raises(UserError, match=message):
        MZILinear(*args)


# --- the layer -------------------------------------------------------------------------


@pytest.mark.parametrize("mesh", ["clements", "reck"])
@pytest.mark.parametrize("bias", [True, False])
def test_ideal_preset_reproduces_nn_linear(mesh: str, bias: bool) -> None:
    torch.manual_seed(0)
    ref = nn.Linear(37, 23, bias=bias)
    layer = MZILinear.from_linear(ref, mesh=mesh, block_size=8)
    layer.nonideal = preset("ideal")
    x = torch.randn(64, 37)
    y = layer(x)
    assert y.dtype == torch.float32
    assert torch.allclose(y, ref(x), atol=1e-5, rtol=0)
    assert layer.mapping_error() < 1e-6
    layer.nonideal = None  # bypass is exactly F.linear
    assert torch.equal(layer(x), ref(x))


@pytest.mark.parametrize("mesh", ["clements", "reck"])
def test_mapping_error_falls_as_phase_bits_rise(mesh: str) -> None:
    layer = _layer(mesh, k=16, out_f=32, in_f=48)
    errors = []
    for bits in (4, 6, 8, 10):
        layer.nonideal = NonIdealities(phase_bits=bits)
        errors.append(layer.mapping_error())
    assert errors == sorted(errors, reverse=True)
    assert errors[0] > 0.1 and errors[-1] < 0.02
    # two more bits quarter the step: the error should drop by roughly 4× (2–8×)
    for a, b in itertools.pairwise(errors):
        assert 2.0 < a / b < 8.0


def test_mapping_error_grows_with_phase_noise() -> None:
    layer = _layer()
    means = []
    for sigma in (0.005, 0.02, 0.08):
        layer.nonideal = NonIdealities(phase_noise_std=sigma)
        gen = torch.Generator().manual_seed(0)
        means.append(statistics.mean(layer.mapping_error(gen) for _ in range(8)))
    assert means[0] < means[1] < means[2]


@pytest.mark.parametrize("name", ["realistic", "worst-case"])
def test_each_preset_degrades_but_keeps_the_weights(name: str) -> None:
    layer = _layer(k=16, out_f=32, in_f=64)
    layer.nonideal = preset(name)
    err = layer.mapping_error(torch.Generator().manual_seed(0))
    assert 0.01 < err < 1.0


def test_draws_are_reproducible_with_a_generator() -> None:
    layer = _layer()
    layer.nonideal = preset("realistic")
    x = torch.randn(5, 37)
    y1 = layer(x, generator=torch.Generator().manual_seed(7))
    y2 = layer(x, generator=torch.Generator().manual_seed(7))
    y3 = layer(x, generator=torch.Generator().manual_seed(8))
    assert torch.equal(y1, y2)
    assert not torch.equal(y1, y3)
    model = nn.Sequential(layer)
    set_nonideal(model, preset("realistic"), torch.Generator().manual_seed(7))
    assert torch.equal(model(x), y1)


def test_straight_through_gradient_is_that_of_nn_linear() -> None:
    layer = _layer()
    layer.train()
    layer.nonideal = preset("worst-case")
    x = torch.randn(10, 37)
    layer(x, generator=torch.Generator().manual_seed(0)).sum().backward()
    expect = torch.ones(10, 23).T @ x  # d(sum(x Wᵀ))/dW
    assert torch.allclose(layer.weight.grad, expect, atol=1e-5)
    assert torch.allclose(layer.bias.grad, torch.full((23,), 10.0))


def test_decomposition_is_cached_until_weights_change() -> None:
    layer = _layer()
    layer.nonideal = preset("realistic")
    first = layer.mapping()
    layer(torch.randn(2, 37), generator=torch.Generator().manual_seed(0))
    assert layer.mapping() is first
    with torch.no_grad():
        layer.weight.mul_(2.0)
    second = layer.mapping()
    assert second is not first
    assert torch.allclose(second.scale, 2 * first.scale)


def test_static_errors_follow_the_static_generator() -> None:
    p = decompose(random_unitary(6, (2,), torch.Generator().manual_seed(0)), "clements")
    ni = NonIdealities(gain_error_std=0.02, splitter_error_std=0.02)
    a = apply(p, ni, torch.Generator().manual_seed(1), torch.Generator().manual_seed(9))
    b = apply(p, ni, torch.Generator().manual_seed(2), torch.Generator().manual_seed(9))
    assert torch.equal(a.alpha, b.alpha) and torch.equal(a.phases.theta, b.phases.theta)
    c = apply(p, ni.model_copy(update={"phase_noise_std": 0.01}), torch.Generator().manual_seed(1))
    assert not torch.equal(a.phases.theta, c.phases.theta)


def test_quantization_and_crosstalk_on_phases() -> None:
    x = torch.tensor([0.1, 1.0, 3.0, 6.0], dtype=torch.float64)
    q = perturb_phases(x, NonIdealities(phase_bits=3))
    step = 2 * torch.pi / 8
    assert torch.allclose(q / step, torch.round(q / step))
    assert float((q - x).abs().max()) <= step / 2 + 1e-12
    xt = perturb_phases(x, NonIdealities(crosstalk=0.1))
    assert torch.allclose(xt, x + 0.1 * torch.tensor([1.0, 3.1, 7.0, 3.0], dtype=torch.float64))


def test_detector_noise_and_adc() -> None:
    gen = torch.Generator().manual_seed(0)
    y = torch.randn(2000, 16, dtype=torch.float64, generator=gen)
    fs = y.abs().amax(-1, keepdim=True)
    noisy = detect(y, NonIdealities(detector_noise_std=0.05), gen)
    rel = ((noisy - y) / fs).std().item()
    assert 0.045 < rel < 0.055
    q = detect(y, NonIdealities(adc_bits=4), gen)
    levels = torch.round(q / (fs / 7))
    assert torch.allclose(q, levels * fs / 7)
    assert int(levels.abs().max()) == 7  # 2^4 − 1 signed levels
    assert detect(y, NonIdealities()) is y
