"""The search-space contract: both shipped spaces offer the capabilities the baselines and
the offline policy ask for, their integer boxes decode everywhere, and the baselines run on
photonic-mlp through the protocol alone."""

from __future__ import annotations

import random

import numpy as np
import pytest

from agentnas.tools.baselines import compare, run_baseline
from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import HardwareBackend
from agentnas.tools.spaces import photonic_mlp
from agentnas.tools.spaces.base import (
    EncodableSpace,
    EnumerableSpace,
    EvolutionarySpace,
    IsomorphicSpace,
    SearchSpace,
    SurrogateSpace,
)
from agentnas.tools.spaces.registry import get_space


def test_capabilities_of_the_shipped_spaces() -> None:
    nb, ph = get_space("nb201"), get_space("photonic-mlp")
    for cap in (SearchSpace, EvolutionarySpace, EncodableSpace, EnumerableSpace):
        assert isinstance(nb, cap) and isinstance(ph, cap)
    assert isinstance(nb, SurrogateSpace) and isinstance(nb, IsomorphicSpace)
    assert isinstance(ph, SurrogateSpace) and not isinstance(ph, IsomorphicSpace)
    assert not isinstance(object(), SearchSpace)
    assert nb.default_partition_feature in nb.features(nb.enumerate()[0])
    assert ph.default_partition_feature in ph.features(ph.enumerate()[0])


@pytest.mark.parametrize("name", ["nb201", "photonic-mlp"])
def test_every_point_of_the_box_decodes_and_round_trips(name: str) -> None:
    space = get_space(name)
    lo, hi = space.bounds()
    rng = np.random.default_rng(0)
    for _ in range(300):
        x = rng.integers(lo, hi + 1)
        arch = space.decode(x)
        assert space.validate(arch) == arch
        assert space.decode(space.encode(arch)) == arch
        assert space.enumerate()[space.index(arch)] == arch
    with pytest.raises(UserError):
        space.decode(hi + 1)


def test_vocabulary_names_positions_and_edit_tokens_use_its_slots() -> None:
    nb = get_space("nb201")
    vocab = nb.vocabulary()
    assert vocab.slots_at("near the output") == ("3<-0", "3<-1", "3<-2")
    assert vocab.slots_at("Near the input") == ("1<-0", "2<-0", "3<-0")
    assert vocab.slots_at("somewhere") == ()
    a = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    b = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    (token,) = nb.edit_tokens(a, b)
    assert token == "e3<-0=skip_connect" and token[1:].split("=")[0] in vocab.slots
    assert all(op in nb.describe() for op in vocab.operations)
    ph = get_space("photonic-mlp")
    assert "relu" in ph.vocabulary().operations
    assert ph.edit_tokens(photonic_mlp.EXAMPLE, ph.mutate(photonic_mlp.EXAMPLE, random.Random(1)))


class _ToyOptics(HardwareBackend):
    """photonic-mlp scored from its features in microseconds: wider nets are more accurate
    and cost more energy (no training), counting what it is asked for."""

    name, metrics, spaces = (
        "toy-optics",
        ("robust_accuracy", "energy_mj", "mzi_count"),
        ("photonic-mlp",),
    )

    def __init__(self) -> None:
        self.asked: list[str] = []

    def evaluate(self, arch: str) -> dict[str, float]:
        self.asked.append(arch)
        f = photonic_mlp.features(arch)
        return {
            "robust_accuracy": 100 - 400 / (10 + f["width_sum"]) - 2 * (f["phase_bits"] == 4),
            "energy_mj": 1e-6 * f["mzi_count"] * (1 + f["phase_bits"] / 8),
            "mzi_count": f["mzi_count"],
        }


@pytest.mark.parametrize("method", ["random", "re", "nsga2"])
def test_baselines_run_on_photonic_mlp_with_exact_budgets(method: str) -> None:
    hw = _ToyOptics()
    r = run_baseline(method, 40, seed=2, dataset=None, objectives=None, backend=hw,
                     space="photonic-mlp")  # fmt: skip
    assert len(r.cells) == 40 == len(set(r.cells)) == len(hw.asked)
    assert r.F.shape == (40, 3) and np.all(np.isfinite(r.F))
    again = run_baseline(method, 40, seed=2, dataset=None, objectives=None, backend=_ToyOptics(),
                         space="photonic-mlp")  # fmt: skip
    assert again.cells == r.cells


def test_compare_scores_every_method_against_one_union_front() -> None:
    out = compare(["random", "re", "nsga2"], 60, [0, 1], backend=_ToyOptics(), space="photonic-mlp")
    assert {s.reference for s in out.values()} == {"union front"}
    ratios = [h for s in out.values() for h in s.hv_ratios]
    assert all(0.0 <= h <= 1.0 + 1e-9 for h in ratios) and max(ratios) > 0.5
    assert all(size >= 1 for s in out.values() for size in s.front_sizes)


class _PickyOptics(_ToyOptics):
    """Refuses every reck mesh with 32-port blocks, as the optical backend refuses a laser
    feed above the waveguide's limit."""

    def evaluate(self, arch: str) -> dict[str, float]:
        from agentnas.tools.photonic.energy import InfeasibleDesign

        if "mesh=reck" in arch and "k=32" in arch:
            self.asked.append(arch)
            raise InfeasibleDesign(f"{arch}: laser feed above 20 dBm")
        return super().evaluate(arch)


def test_infeasible_designs_spend_budget_and_stay_off_the_fronts() -> None:
    out = compare(["random", "nsga2"], 80, [0], backend=_PickyOptics(), space="photonic-mlp")
    runs = [r for s in out.values() for r in s.runs]
    assert sum(r.n_infeasible for r in runs) > 0  # 1/6 of the space is refused
    for r in runs:
        assert len(r.cells) == 80  # refused designs cost their unit of budget
        assert not any("mesh=reck" in a and "k=32" in a for a in r.front_cells())
    assert all(np.isfinite(h) and 0.0 <= h <= 1.0 + 1e-9 for s in out.values() for h in s.hv_ratios)
