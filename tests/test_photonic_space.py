"""The photonic-mlp search space: strings, validation, operators and features."""

from __future__ import annotations

import random

import numpy as np
import pytest

from agentnas.tools.errors import UserError
from agentnas.tools.photonic.energy import LayerSpec
from agentnas.tools.photonic.layers import MZILinear
from agentnas.tools.spaces import photonic_mlp as sp
from agentnas.tools.spaces.photonic_mlp import PhotonicMLPConfig, PhotonicMLPSpace

SPACE = PhotonicMLPSpace()
EXAMPLE = "mlp:h=64-32|act=relu|mesh=clements|k=16|bits=8|nat=1"


def test_parse_reads_every_knob() -> None:
    cfg = sp.parse("mlp:h=128-16-32|act=tanh|mesh=reck|k=8|bits=4|nat=0")
    assert cfg.hidden == (128, 16, 32)
    assert (cfg.act, cfg.mesh, cfg.block_size, cfg.phase_bits, cfg.nat) == (
        "tanh",
        "reck",
        8,
        4,
        False,
    )
    assert cfg.layer_shapes(784, 10) == [(784, 128), (128, 16), (16, 32), (32, 10)]
    assert cfg.macs(784, 10) == 784 * 128 + 128 * 16 + 16 * 32 + 32 * 10


def test_format_parse_round_trip_over_samples() -> None:
    archs = SPACE.sample(np.random.default_rng(0), 300)
    for arch in archs:
        assert sp.format(sp.parse(arch)) == arch
    assert sp.format(sp.parse(EXAMPLE)) == EXAMPLE


def test_canonical_accepts_any_key_order_and_spaces() -> None:
    shuffled = "mlp: nat=1|bits=8|k=16|mesh=clements|act=relu|h=64-32"
    assert SPACE.canonical(shuffled) == EXAMPLE


@pytest.mark.parametrize(
    ("arch", "words"),
    [
        ("h=64|act=relu|mesh=clements|k=16|bits=8|nat=1", "must start with 'mlp:'"),
        ("mlp:h=64|act=relu", "missing mesh, k, bits, nat"),
        ("mlp:h=65|act=relu|mesh=clements|k=16|bits=8|nat=1", "[65] not in"),
        ("mlp:h=16-16-16-16|act=relu|mesh=clements|k=16|bits=8|nat=1", "1 to 3 hidden"),
        ("mlp:h=64|act=gelu|mesh=clements|k=16|bits=8|nat=1", "act 'gelu'"),
        ("mlp:h=64|act=relu|mesh=butterfly|k=16|bits=8|nat=1", "mesh 'butterfly'"),
        ("mlp:h=64|act=relu|mesh=clements|k=12|bits=8|nat=1", "block size 12"),
        ("mlp:h=64|act=relu|mesh=clements|k=16|bits=0|nat=1", "phase bits 0"),
        ("mlp:h=64|act=relu|mesh=clements|k=16|bits=8|nat=2", "nat must be 0 or 1"),
        ("mlp:h=x|act=relu|mesh=clements|k=16|bits=8|nat=1", "not an integer"),
        ("mlp:h=64|h=32|act=relu|mesh=clements|k=16|bits=8|nat=1", "given twice"),
        ("mlp:h=64|act=relu|mesh=clements|k=16|bits=8|nat=1|lr=3", "unknown key 'lr'"),
        ("mlp:h=64|act|mesh=clements|k=16|bits=8|nat=1", "not key=value"),
    ],
)
def test_malformed_strings_give_one_line_errors(arch: str, words: str) -> None:
    with pytest.raises(UserError) as info:
        sp.parse(arch)
    message = str(info.value)
    assert words in message
    assert "\n" not in message


def test_sampling_is_legal_reproducible_and_covers_the_space() -> None:
    a = SPACE.sample(np.random.default_rng(7), 400)
    b = SPACE.sample(np.random.default_rng(7), 400)
    assert a == b
    cfgs = [sp.parse(x) for x in a]
    assert {len(c.hidden) for c in cfgs} == set(sp.DEPTHS)
    assert {w for c in cfgs for w in c.hidden} == set(sp.WIDTHS)
    assert {c.mesh for c in cfgs} == set(sp.MESHES)
    assert {c.block_size for c in cfgs} == set(sp.BLOCK_SIZES)
    assert {c.phase_bits for c in cfgs} == set(sp.PHASE_BITS)
    assert {c.act for c in cfgs} == set(sp.ACTIVATIONS)
    assert {c.nat for c in cfgs} == {False, True}
    assert len(set(a)) == 400  # distinct draws
    # stdlib random works as well
    assert len(set(SPACE.sample(random.Random(1), 5))) == 5


def test_sampling_within_a_partition_and_enumeration() -> None:
    everything = SPACE.enumerate()
    assert len(everything) == len(set(everything)) == SPACE.size == 84 * 4 * 2 * 3 * 3 * 2
    assert all(SPACE.validate(a) == a for a in everything[::97])

    def small(arch: str) -> bool:
        return SPACE.features(arch)["mzi_count"] < 20_000

    picked = SPACE.sample(np.random.default_rng(0), 30, where=small)
    assert len(set(picked)) == 30 and all(small(a) for a in picked)
    with pytest.raises(UserError, match="cannot draw"):
        SPACE.sample(np.random.default_rng(0), SPACE.size + 1)
    assert "clements" in SPACE.describe() and EXAMPLE in SPACE.describe()


def test_mutation_is_one_legal_edit() -> None:
    rng = np.random.default_rng(3)
    for arch in SPACE.sample(rng, 50):
        child = SPACE.mutate(arch, rng)
        assert child != arch
        assert SPACE.validate(child) == child
        assert child in SPACE.neighbours(arch)
        far = SPACE.mutate(arch, rng, k=3)
        assert far != arch and SPACE.validate(far) == far
    with pytest.raises(UserError, match="at least 1 edit"):
        SPACE.mutate(EXAMPLE, rng, k=0)


def test_neighbours_of_the_example() -> None:
    near = SPACE.neighbours(EXAMPLE)
    # 2 layers × 3 other widths + 3 insert positions × 4 widths (less 2 duplicates:
    # 64 inserted before or after 64, 32 before or after 32) + 2 removals
    # + 3 acts + 1 mesh + 2 block sizes + 2 bit widths + 1 nat
    assert len(near) == 6 + (12 - 2) + 2 + 3 + 1 + 2 + 2 + 1
    assert len(set(near)) == len(near) and EXAMPLE not in near
    assert "mlp:h=64|act=relu|mesh=clements|k=16|bits=8|nat=1" in near
    assert "mlp:h=64-32|act=relu|mesh=reck|k=16|bits=8|nat=1" in near


def test_crossover_takes_each_knob_from_a_parent() -> None:
    a = "mlp:h=16|act=relu|mesh=clements|k=8|bits=4|nat=0"
    b = "mlp:h=128-64-32|act=tanh|mesh=reck|k=32|bits=8|nat=1"
    ca, cb = sp.parse(a), sp.parse(b)
    rng = np.random.default_rng(0)
    children = {SPACE.crossover(a, b, rng) for _ in range(200)}
    assert len(children) > 20  # mixes, not copies
    for child in children:
        c = sp.parse(child)
        assert len(c.hidden) in (1, 3)
        assert c.hidden[0] in (16, 128)
        assert c.hidden[1:] in ((), (64, 32))
        for field in ("act", "mesh", "block_size", "phase_bits", "nat"):
            assert getattr(c, field) in (getattr(ca, field), getattr(cb, field))


def test_features_match_the_simulator_and_energy_model() -> None:
    arch = "mlp:h=128-32|act=relu|mesh=reck|k=32|bits=6|nat=0"
    cfg = sp.parse(arch)
    f = SPACE.features(arch)
    layers = [MZILinear(i, o, mesh="reck", block_size=32) for i, o in cfg.layer_shapes(784, 10)]
    assert f["mzi_count"] == sum(layer.mzi_count for layer in layers)
    specs = [
        LayerSpec(in_features=i, out_features=o, block_size=32)
        for i, o in cfg.layer_shapes(784, 10)
    ]
    assert f["mzi_count"] == sum(s.mzi_count for s in specs)
    # 784→128: ⌈784/32⌉=25 column blocks × 4 row blocks × 32·31 MZIs
    assert cfg.mzi_count(784, 10) == 25 * 4 * 992 + 1 * 4 * 992 + 1 * 1 * 992
    assert f["params"] == sum(p.numel() for layer in layers for p in layer.parameters())
    assert f["depth"] == 2 and f["mesh_depth_per_block"] == 2 * 32 - 3
    bigger = SPACE.features("mlp:h=128-64|act=relu|mesh=reck|k=32|bits=6|nat=0")
    assert bigger["macs"] > f["macs"] and bigger["mzi_count"] > f["mzi_count"]


def test_encode_decode_round_trip() -> None:
    for arch in SPACE.sample(np.random.default_rng(11), 100):
        vec = SPACE.encode(arch)
        assert len(vec) == 9
        assert SPACE.decode(vec) == arch
    with pytest.raises(UserError):
        SPACE.decode([4, 0, 0, 0, 0, 0, 0, 0, 1])


def test_config_rejects_bad_values_directly() -> None:
    with pytest.raises(ValueError):
        PhotonicMLPConfig(hidden=(), act="relu")
    assert SPACE.name == "photonic-mlp"


def test_surrogate_inputs_see_every_knob() -> None:
    """The offline policy's model gets the space's own inputs (SurrogateSpace): every
    knob moves them (the complexity features alone miss the activation), and the prior
    orders costs by MZI count and accuracy by parameters."""
    from agentnas.agents import surrogate as sg
    from agentnas.tools.spaces.base import SurrogateSpace

    space = PhotonicMLPSpace()
    assert isinstance(space, SurrogateSpace)
    base = sp.EXAMPLE
    x0 = sg.encode(space, base)
    assert x0.shape == (18,) and np.isfinite(x0).all()
    edits = [n for n in space.neighbours(base)]
    assert any("act=tanh" in n for n in edits)
    for n in edits:  # each one-knob edit changes the inputs
        assert not np.array_equal(sg.encode(space, n), x0), n
    assert sg.penalties(space, x0.size).shape == x0.shape
    small, big = "mlp:h=16|act=relu|mesh=clements|k=8|bits=8|nat=1", sp.EXAMPLE
    assert sg.prior(space, small, "energy") < sg.prior(space, big, "energy")
    assert sg.prior(space, small, "accuracy") < sg.prior(space, big, "accuracy")


def test_default_partitions_give_every_depth_its_own_partition() -> None:
    """The Partitioner's default feature is one it can partition by (a discrete feature
    of the run's histograms; otherwise the run silently falls back to the first one), and
    it gives one-hidden-layer networks a partition of their own, so a small budget
    searches them as much as the far more numerous three-layer networks."""
    from types import SimpleNamespace

    from agentnas.agents.partitioner import offline_partitions
    from agentnas.graph.seeding import feature_histograms

    run = SimpleNamespace(space=SPACE, config=SimpleNamespace(seed=0))  # what it reads
    hist, sampled = feature_histograms(run)
    feature = SPACE.default_partition_feature
    assert feature in hist and not sampled
    parts = offline_partitions(feature, hist[feature], 6)
    one_layer = [a for a in sp.all_archs() if len(sp.parse(a).hidden) == 1]
    holding = {p.id for a in one_layer for p in parts if p.contains(SPACE.features(a))}
    assert len(holding) == 1
    (only,) = [p for p in parts if p.id in holding]
    assert only.size == len(one_layer) == 576
