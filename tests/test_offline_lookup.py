"""The offline Designer and the instant hardware lookup: designs the lookup refuses as
infeasible are never proposed, costs it gives are ranked exactly, and a knob value no
evaluated design has gets a prior spread in the model (photonic-mlp names its choice
columns; NB201 does not, so its predictions are unchanged)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from agentnas.agents import surrogate as sg
from agentnas.agents.lookup_costs import look_up, with_known
from agentnas.agents.offline_policy import design_offline
from agentnas.agents.schemas import DesignerContext, Partition, ScoredArch
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.spaces.registry import get_space

PHOTONIC = get_space("photonic-mlp")
WORST = get_backend("optical-mzi:worst-case")


def _scored(archs: list[str], backend=WORST) -> list[ScoredArch]:
    """Designs with their exact hardware metrics and an accuracy that grows with width."""
    return [
        ScoredArch(arch=a, partition=0, metrics={
            "accuracy": 70 + PHOTONIC.features(a)["width_sum"] / 20,
            "energy_mj": backend.hardware_metrics(a)["energy_mj"],
        })
        for a in archs
    ]  # fmt: skip


def _buildable(arch: str, backend=WORST) -> bool:
    return not look_up(backend.hardware_metrics, [arch], [])[1]


def test_look_up_splits_refused_designs_from_known_costs():
    small = "mlp:h=32|act=relu|mesh=clements|k=8|bits=8|nat=0"
    deep = "mlp:h=128-128-128|act=relu|mesh=reck|k=32|bits=8|nat=0"
    objs = ["accuracy", "energy_mj"]
    known, refused = look_up(WORST.hardware_metrics, [small, deep], objs)
    assert refused == {deep} and set(known) == {small}
    assert known[small] == {"energy_mj": WORST.hardware_metrics(small)["energy_mj"]}
    pred, std = with_known(np.ones((2, 2)), np.ones((2, 2)), [small, deep], known, objs)
    assert pred[0, 1] == known[small]["energy_mj"] and std[0, 1] == 0.0
    assert pred[0, 0] == 1.0 and std[0, 0] == 1.0 and (pred[1] == 1.0).all()
    assert look_up(None, [small], objs) == ({}, set())

    def broken(arch: str) -> dict[str, float]:
        raise KeyError(arch)  # not a refusal: the evaluation will report it

    assert look_up(broken, [small], objs) == ({}, set())


def test_the_designer_never_proposes_what_the_lookup_refuses():
    rng = random.Random(0)
    # evaluated designs are buildable k=8 meshes; their one-edit neighbours with k=16/32
    # (and deep Reck meshes) are past the worst-case laser ceiling
    archs = sorted({a for a in PHOTONIC.sample(rng, 400) if _buildable(a)})[:30]
    history = _scored(archs)
    part = Partition(id=0, feature="depth", low=1, high=3, size=PHOTONIC.size)
    ctx = DesignerContext(
        space="photonic-mlp", hardware="optical-mzi:worst-case",
        objectives=["accuracy", "energy_mj"], round=1, partition=part, parents=history[:8],
        history=history, n_children=8, evaluated=archs, seed=1,
    )  # fmt: skip
    blind, _ = design_offline(ctx, PHOTONIC, None)
    assert any(not _buildable(c.arch) for c in blind)  # the case exists without the lookup
    children, _ = design_offline(ctx, PHOTONIC, WORST.hardware_metrics)
    assert len(children) == 8
    assert all(_buildable(c.arch) for c in children), [c.arch for c in children]


def test_the_designer_ranks_by_the_costs_the_lookup_gives():
    """The proposals' stated energy is the backend's own figure, not the model's guess
    (the model's cost inputs use MNIST's 784 inputs; this backend runs on digits)."""
    digits = get_backend("optical-mzi:realistic", dataset="digits")
    rng = random.Random(2)
    archs = sorted(a for a in set(PHOTONIC.sample(rng, 20)) if _buildable(a, digits))[:12]
    history = _scored(archs, digits)
    part = Partition(id=0, feature="depth", low=1, high=3, size=PHOTONIC.size)
    ctx = DesignerContext(
        space="photonic-mlp", hardware="optical-mzi:realistic",
        objectives=["accuracy", "energy_mj"], round=1, partition=part, parents=history,
        history=history, n_children=6, evaluated=archs, seed=2,
    )  # fmt: skip

    def stated(children) -> list[tuple[str, str]]:
        return [(c.rationale.split("energy_mj≈")[1].split(";")[0], c.arch) for c in children]

    exact = [
        (f"{digits.hardware_metrics(a)['energy_mj']:.4g}", a)
        for _, a in stated(design_offline(ctx, PHOTONIC, digits.hardware_metrics)[0])
    ]
    assert exact and stated(design_offline(ctx, PHOTONIC, digits.hardware_metrics)[0]) == exact
    guessed = stated(design_offline(ctx, PHOTONIC, None)[0])
    assert any(
        g != f"{digits.hardware_metrics(a)['energy_mj']:.4g}" for g, a in guessed
    )  # without the lookup the model's guesses differ


def _abs_only(n: int) -> list[ScoredArch]:
    widths = ["16", "32", "64", "128", "32-32", "64-16", "128-64"][:n]
    return _scored([f"mlp:h={w}|act=abs|mesh=clements|k=8|bits=8|nat=0" for w in widths])


@pytest.mark.parametrize("n", [4, 7])  # without (n <= 5) and with bootstrap spreads
def test_a_never_seen_knob_value_gets_a_prior_spread(n):
    data = _abs_only(n)
    same = "mlp:h=16-16|act=abs|mesh=clements|k=8|bits=8|nat=0"
    new = same.replace("act=abs", "act=tanh")
    _, std = sg.predict_objectives(PHOTONIC, data, [same, new], ["accuracy"], seed=0)
    assert std[1, 0] > std[0, 0] + 0.5, std  # tanh: never seen, so uncertain
    if n <= 5:
        assert std[0, 0] == 0.0  # a seen value with no bootstrap: no spread


def test_spaces_without_choice_columns_predict_as_before():
    nb = get_space("nb201")
    assert getattr(nb, "surrogate_choice_columns", None) is None
    x = np.zeros((3, 4))
    assert not sg.unseen_spread(nb, x, np.ones((2, 4)), np.arange(3.0)).any()
