"""The ``photonic-mlp`` search space: MLPs whose linear layers are MZI meshes.

An architecture is a readable string, e.g. ::

    mlp:h=64-32|act=relu|mesh=clements|k=16|bits=8|nat=1

with the knobs

* ``h``     hidden widths, 1–3 layers, each from {16, 32, 64, 128} (the output layer,
  hidden → classes, is added by :meth:`PhotonicMLPConfig.layer_shapes`);
* ``act``   the nonlinearity. It is applied **electronically, between layers, after
  photodetection** (optical → electrical → optical): the mesh computes W·x in light, the
  photodetector/TIA/ADC read it out, the activation is evaluated in the electronic domain
  and the result drives the next layer's modulators through DACs. ``relu``/``tanh``/
  ``sigmoid`` are the usual electronic choices; ``abs`` is what a coherent receiver that
  reads the field magnitude gives for free;
* ``mesh``  the unitary mesh, ``clements`` (rectangular, depth N, balanced loss) or
  ``reck`` (triangular, depth 2N−3);
* ``k``     block size: a layer is tiled into k×k blocks, each W = U Σ V† on two k-port
  meshes, so a layer of shape (M, N) needs ⌈M/k⌉·⌈N/k⌉·k(k−1) MZIs;
* ``bits``  phase-shifter DAC resolution (4/6/8 bits) used whenever the hardware
  quantizes phases;
* ``nat``   noise-aware training: 1 trains with the backend's non-idealities in the
  forward pass, 0 trains the ideal network.

Everything here is pure (no torch): parse/format, operators and features run in
microseconds, so the Designer can validate and rank many candidates cheaply.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, field_validator

from agentnas.tools.errors import UserError
from agentnas.tools.spaces.base import Vocabulary, feature_tokens

NAME = "photonic-mlp"
PREFIX = "mlp:"
WIDTHS: tuple[int, ...] = (16, 32, 64, 128)
DEPTHS: tuple[int, ...] = (1, 2, 3)
ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid", "abs")
MESHES: tuple[str, ...] = ("clements", "reck")
BLOCK_SIZES: tuple[int, ...] = (8, 16, 32)
PHASE_BITS: tuple[int, ...] = (4, 6, 8)
KEYS: tuple[str, ...] = ("h", "act", "mesh", "k", "bits", "nat")
EXAMPLE = "mlp:h=64-32|act=relu|mesh=clements|k=16|bits=8|nat=1"
# (4 + 16 + 64 width lists) × 4 acts × 2 meshes × 3 block sizes × 3 bit widths × 2 nat
SIZE = sum(len(WIDTHS) ** d for d in DEPTHS) * (
    len(ACTIVATIONS) * len(MESHES) * len(BLOCK_SIZES) * len(PHASE_BITS) * 2
)

Rng = np.random.Generator | random.Random


class PhotonicMLPConfig(BaseModel):
    """One candidate network; immutable, validated on construction."""

    model_config = ConfigDict(frozen=True)

    hidden: tuple[int, ...]
    act: Literal["relu", "tanh", "sigmoid", "abs"] = "relu"
    mesh: Literal["clements", "reck"] = "clements"
    block_size: int = 16
    phase_bits: int = 8
    nat: bool = True

    @field_validator("hidden")
    @classmethod
    def _hidden_ok(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not DEPTHS[0] <= len(v) <= DEPTHS[-1]:
            raise ValueError(f"1 to 3 hidden layers accepted, got {len(v)}")
        bad = [w for w in v if w not in WIDTHS]
        if bad:
            raise ValueError(f"hidden width(s) {bad} not in {list(WIDTHS)}")
        return v

    @field_validator("block_size")
    @classmethod
    def _k_ok(cls, v: int) -> int:
        if v not in BLOCK_SIZES:
            raise ValueError(f"block size {v} not in {list(BLOCK_SIZES)}")
        return v

    @field_validator("phase_bits")
    @classmethod
    def _bits_ok(cls, v: int) -> int:
        if v not in PHASE_BITS:
            raise ValueError(f"phase bits {v} not in {list(PHASE_BITS)}")
        return v

    def layer_shapes(self, in_features: int, n_classes: int) -> list[tuple[int, int]]:
        """(in, out) of every photonic linear layer, input → hidden… → classes."""
        dims = [in_features, *self.hidden, n_classes]
        return list(itertools.pairwise(dims))

    def macs(self, in_features: int, n_classes: int) -> int:
        """Multiply-accumulates per inference (one image): Σ in·out over layers."""
        return sum(i * o for i, o in self.layer_shapes(in_features, n_classes))

    def params(self, in_features: int, n_classes: int) -> int:
        """Trainable weights and biases of the equivalent electronic network."""
        return sum(i * o + o for i, o in self.layer_shapes(in_features, n_classes))

    def mzi_count(self, in_features: int, n_classes: int) -> int:
        """MZIs of all layers: per k×k block two meshes of k(k−1)/2 MZIs, edges padded."""
        k = self.block_size
        return sum(
            math.ceil(i / k) * math.ceil(o / k) * k * (k - 1)
            for i, o in self.layer_shapes(in_features, n_classes)
        )


def _fail(arch: str, why: str) -> UserError:
    return UserError(f"bad photonic-mlp architecture '{arch}': {why}; expected e.g. '{EXAMPLE}'")


def _int(arch: str, key: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _fail(arch, f"{key}={text!r} is not an integer") from None


def parse(arch: str) -> PhotonicMLPConfig:
    """Parse an architecture string (keys in any order, all required) or raise ``UserError``."""
    if not isinstance(arch, str) or not arch.strip().startswith(PREFIX):
        raise _fail(str(arch), f"must start with '{PREFIX}'")
    body = arch.strip()[len(PREFIX) :]
    fields: dict[str, str] = {}
    for part in body.split("|"):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise _fail(arch, f"field {part!r} is not key=value")
        if key not in KEYS:
            raise _fail(arch, f"unknown key '{key}' (keys: {', '.join(KEYS)})")
        if key in fields:
            raise _fail(arch, f"key '{key}' given twice")
        fields[key] = value
    missing = [k for k in KEYS if k not in fields]
    if missing:
        raise _fail(arch, f"missing {', '.join(missing)}")
    if fields["nat"] not in ("0", "1"):
        raise _fail(arch, f"nat must be 0 or 1, got {fields['nat']!r}")
    hidden = tuple(_int(arch, "h", w) for w in fields["h"].split("-"))
    if fields["act"] not in ACTIVATIONS:
        raise _fail(arch, f"act '{fields['act']}' not in {', '.join(ACTIVATIONS)}")
    if fields["mesh"] not in MESHES:
        raise _fail(arch, f"mesh '{fields['mesh']}' not in {', '.join(MESHES)}")
    try:
        return PhotonicMLPConfig(
            hidden=hidden,
            act=fields["act"],  # type: ignore[arg-type]
            mesh=fields["mesh"],  # type: ignore[arg-type]
            block_size=_int(arch, "k", fields["k"]),
            phase_bits=_int(arch, "bits", fields["bits"]),
            nat=fields["nat"] == "1",
        )
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        first = exc.errors()[0]["msg"] if hasattr(exc, "errors") else str(exc)
        raise _fail(arch, first.removeprefix("Value error, ")) from None


def format(cfg: PhotonicMLPConfig) -> str:
    """The canonical string of a config (fixed key order)."""
    h = "-".join(str(w) for w in cfg.hidden)
    return (
        f"{PREFIX}h={h}|act={cfg.act}|mesh={cfg.mesh}|k={cfg.block_size}"
        f"|bits={cfg.phase_bits}|nat={int(cfg.nat)}"
    )


def canonical(arch: str) -> str:
    """Parse and re-format: one spelling per architecture (for caches and dedup)."""
    return format(parse(arch))


# ---- randomness that works with numpy Generators and random.Random alike ----


def _randbelow(rng: Rng, n: int) -> int:
    if isinstance(rng, random.Random):
        return rng.randrange(n)
    return int(rng.integers(n))


def _pick(rng: Rng, seq: Sequence[Any]) -> Any:
    return seq[_randbelow(rng, len(seq))]


def neighbour_configs(cfg: PhotonicMLPConfig) -> list[PhotonicMLPConfig]:
    """Every config one edit away: change/add/remove one layer, or change one other knob."""
    out: list[PhotonicMLPConfig] = []
    h = cfg.hidden
    for i, w in enumerate(h):
        out += [
            cfg.model_copy(update={"hidden": (*h[:i], v, *h[i + 1 :])}) for v in WIDTHS if v != w
        ]
    if len(h) < DEPTHS[-1]:
        for i in range(len(h) + 1):
            out += [cfg.model_copy(update={"hidden": (*h[:i], v, *h[i:])}) for v in WIDTHS]
    if len(h) > DEPTHS[0]:
        out += [cfg.model_copy(update={"hidden": h[:i] + h[i + 1 :]}) for i in range(len(h))]
    for field, values in (
        ("act", ACTIVATIONS),
        ("mesh", MESHES),
        ("block_size", BLOCK_SIZES),
        ("phase_bits", PHASE_BITS),
        ("nat", (False, True)),
    ):
        out += [cfg.model_copy(update={field: v}) for v in values if v != getattr(cfg, field)]
    return out


def neighbours(arch: str) -> list[str]:
    """Canonical strings one edit away from ``arch``, sorted, without ``arch`` itself."""
    own = canonical(arch)
    return sorted({format(c) for c in neighbour_configs(parse(arch))} - {own})


def mutate(arch: str, rng: Rng, k: int = 1) -> str:
    """``k`` successive random edits of ``arch`` (each a uniformly drawn neighbour); the
    result always differs from ``arch``."""
    if k < 1:
        raise UserError(f"mutation must make at least 1 edit; got {k}")
    own = canonical(arch)
    child = own
    for _ in range(k):
        options = [n for n in neighbours(child) if n != own]
        child = options[_randbelow(rng, len(options))]
    return child


def all_archs() -> tuple[str, ...]:
    """Every architecture of the space (12,096), canonical strings in a fixed order."""
    return _all_archs()


@cache
def _all_archs() -> tuple[str, ...]:
    hiddens = [h for d in DEPTHS for h in itertools.product(WIDTHS, repeat=d)]
    return tuple(
        format(PhotonicMLPConfig(hidden=h, act=a, mesh=m, block_size=k, phase_bits=b, nat=bool(n)))
        for h in hiddens
        for a in ACTIVATIONS
        for m in MESHES
        for k in BLOCK_SIZES
        for b in PHASE_BITS
        for n in (0, 1)
    )


@cache
def _positions() -> dict[str, int]:
    return {a: i for i, a in enumerate(all_archs())}


def sample(rng: Rng, n: int = 1, where: Callable[[str], bool] | None = None) -> list[str]:
    """``n`` distinct architectures drawn uniformly (optionally among those satisfying
    ``where``, e.g. a partition's membership test)."""
    pool = all_archs() if where is None else tuple(a for a in all_archs() if where(a))
    if not 0 <= n <= len(pool):
        raise UserError(f"cannot draw {n} distinct architectures from a pool of {len(pool)}")
    if isinstance(rng, random.Random):
        return rng.sample(list(pool), n)
    return [pool[i] for i in rng.choice(len(pool), size=n, replace=False)]


def crossover(a: str, b: str, rng: Rng) -> str:
    """Uniform crossover: each knob from either parent; hidden widths layer by layer, with
    the depth taken from one parent (missing layers filled from the other, else a copy)."""
    ca, cb = parse(a), parse(b)
    depth = len(_pick(rng, (ca.hidden, cb.hidden)))
    hidden = []
    for i in range(depth):
        choices = [c.hidden[i] for c in (ca, cb) if i < len(c.hidden)]
        hidden.append(_pick(rng, choices))
    return format(
        PhotonicMLPConfig(
            hidden=tuple(hidden),
            act=_pick(rng, (ca.act, cb.act)),
            mesh=_pick(rng, (ca.mesh, cb.mesh)),
            block_size=_pick(rng, (ca.block_size, cb.block_size)),
            phase_bits=_pick(rng, (ca.phase_bits, cb.phase_bits)),
            nat=_pick(rng, (ca.nat, cb.nat)),
        )
    )


def features(arch: str, in_features: int = 784, n_classes: int = 10) -> dict[str, float]:
    """Complexity features for partitioning (defaults: MNIST's 784 inputs and 10 classes)."""
    cfg = parse(arch)
    return {
        "depth": float(len(cfg.hidden)),
        "width_max": float(max(cfg.hidden)),
        "width_sum": float(sum(cfg.hidden)),
        "params": float(cfg.params(in_features, n_classes)),
        "macs": float(cfg.macs(in_features, n_classes)),
        "mzi_count": float(cfg.mzi_count(in_features, n_classes)),
        "block_size": float(cfg.block_size),
        "phase_bits": float(cfg.phase_bits),
        "mesh_depth_per_block": float(
            cfg.block_size if cfg.mesh == "clements" else 2 * cfg.block_size - 3
        ),
        "nat": float(cfg.nat),
    }


# the integer box of :func:`encode`: depth, 3 width choices, act, mesh, k, bits, nat
_CHOICES: tuple[tuple[Any, ...], ...] = (
    DEPTHS,
    WIDTHS,
    WIDTHS,
    WIDTHS,
    ACTIVATIONS,
    MESHES,
    BLOCK_SIZES,
    PHASE_BITS,
    (0, 1),
)
LOWER = np.zeros(len(_CHOICES), dtype=int)
UPPER = np.array([len(c) - 1 for c in _CHOICES], dtype=int)


def encode(arch: str) -> list[int]:
    """Choice indices (9 integers in ``LOWER..UPPER``): depth, 3 widths (widths past the
    depth are 0), act, mesh, k, bits, nat."""
    cfg = parse(arch)
    widths = [WIDTHS.index(w) for w in cfg.hidden] + [0] * (DEPTHS[-1] - len(cfg.hidden))
    return [
        DEPTHS.index(len(cfg.hidden)),
        *widths,
        ACTIVATIONS.index(cfg.act),
        MESHES.index(cfg.mesh),
        BLOCK_SIZES.index(cfg.block_size),
        PHASE_BITS.index(cfg.phase_bits),
        int(cfg.nat),
    ]


def decode(vector: Sequence[int]) -> str:
    """Inverse of :func:`encode`; every point of the box decodes (widths past the depth
    are ignored); anything else raises ``UserError``."""
    v = [int(x) for x in vector]
    if len(v) != len(_CHOICES) or any(not 0 <= x <= u for x, u in zip(v, UPPER, strict=True)):
        raise UserError(
            f"bad photonic-mlp encoding {list(vector)}; expected {len(_CHOICES)} integers "
            f"with 0 <= v[i] <= {UPPER.tolist()}[i]"
        )
    c = [choices[x] for choices, x in zip(_CHOICES, v, strict=True)]
    return format(
        PhotonicMLPConfig(
            hidden=tuple(c[1 : 1 + c[0]]), act=c[4], mesh=c[5], block_size=c[6],
            phase_bits=c[7], nat=bool(c[8]),
        )
    )  # fmt: skip


def surrogate_features(arch: str, in_features: int = 784, n_classes: int = 10) -> np.ndarray:
    """Inputs of the offline policy's additive model (the ``SurrogateSpace`` contract): the
    cost drivers on a log scale (MZIs, parameters), hidden depth and log2 of each hidden
    width (0 past the depth), then one-hot activation, Reck mesh, block size, phase bits
    and noise-aware training. The space's complexity features alone leave out the
    activation and most knobs, which move robust accuracy as much as width does."""
    cfg = parse(arch)
    widths = [math.log2(w) for w in cfg.hidden] + [0.0] * (DEPTHS[-1] - len(cfg.hidden))
    one_hot = [
        *(float(cfg.act == a) for a in ACTIVATIONS),
        float(cfg.mesh == "reck"),
        *(float(cfg.block_size == k) for k in BLOCK_SIZES),
        *(float(cfg.phase_bits == b) for b in PHASE_BITS),
        float(cfg.nat),
    ]
    return np.array(
        [
            math.log(cfg.mzi_count(in_features, n_classes)),
            math.log(cfg.params(in_features, n_classes)),
            float(len(cfg.hidden)),
            *widths,
            *one_hot,
        ]
    )


N_CHOICE_COLUMNS = len(ACTIVATIONS) + 1 + len(BLOCK_SIZES) + len(PHASE_BITS) + 1
SURROGATE_RIDGE = 1.0  # ridge penalty of every surrogate input (they are all O(1)-O(10))


class PhotonicMLPSpace:
    """The ``photonic-mlp`` search space behind the ``SearchSpace`` verbs; stateless, so one
    instance can be shared. ``in_features``/``n_classes`` only scale :meth:`features`."""

    name = NAME
    example = EXAMPLE
    size = SIZE
    # the partitioner's default: the number of hidden layers (one partition per depth),
    # so one-layer networks (576 of 12,096 designs, where small-budget fronts lie) are
    # searched as much as three-layer ones (9,216). Total hidden width put most designs of
    # every partition at depth 3 and ordered energy poorly; the MZI count has too many
    # values for the Partitioner's histograms (it partitions discrete features)
    default_partition_feature = "depth"
    datasets = ("mnist", "digits")
    default_objectives = ("accuracy", "energy", "mzi_count")
    default_hardware = "optical-mzi:realistic"
    has_accuracy_table = False  # the backend trains every candidate

    def __init__(self, in_features: int = 784, n_classes: int = 10) -> None:
        self.in_features = in_features
        self.n_classes = n_classes

    def parse(self, arch: str) -> PhotonicMLPConfig:
        return parse(arch)

    def format(self, cfg: PhotonicMLPConfig) -> str:
        return format(cfg)

    def canonical(self, arch: str) -> str:
        return canonical(arch)

    def validate(self, arch: str) -> str:
        """Canonical string if ``arch`` is legal, else ``UserError`` saying why."""
        return canonical(arch)

    def sample(self, rng: Rng, n: int = 1, where: Callable[[str], bool] | None = None) -> list[str]:
        return sample(rng, n, where)

    def mutate(self, arch: str, rng: Rng, k: int = 1) -> str:
        return mutate(arch, rng, k)

    def crossover(self, a: str, b: str, rng: Rng) -> str:
        return crossover(a, b, rng)

    def neighbours(self, arch: str) -> list[str]:
        return neighbours(arch)

    def features(self, arch: str) -> dict[str, float]:
        return features(arch, self.in_features, self.n_classes)

    slot_onehot_start = None  # no (slot, op) one-hot block for KB claims
    # the one-hot knob columns of surrogate_features (activation … nat): a value no
    # evaluated design has gets a prior spread in the offline policy's model
    surrogate_choice_columns = tuple(range(3 + DEPTHS[-1], 3 + DEPTHS[-1] + N_CHOICE_COLUMNS))

    def surrogate_features(self, arch: str) -> np.ndarray:
        return surrogate_features(arch, self.in_features, self.n_classes)

    def surrogate_penalties(self, dim: int) -> np.ndarray:
        return np.full(dim, SURROGATE_RIDGE)

    def prior(self, arch: str, maximize: bool) -> float:
        """Before any data: accuracy grows with the log of the parameters, costs (energy,
        MZIs) with the log of the MZI count (static shifter power and laser power scale
        with it)."""
        cfg = parse(arch)
        if maximize:
            return math.log(cfg.params(self.in_features, self.n_classes))
        return math.log(cfg.mzi_count(self.in_features, self.n_classes))

    def is_degenerate(self, arch: str) -> bool:
        return False  # every MLP of the space maps its input to the classes

    def cost_floor(self) -> str | None:
        return None

    def edit_tokens(self, parent: str, child: str) -> list[str]:
        return feature_tokens(self, parent, child)

    def slot_ops(self, arch: str) -> tuple[str, ...]:
        """The choice in each slot of :meth:`vocabulary`, in its order (``h1``–``h3``:
        ``width N`` of that hidden layer, ``""`` where the network has fewer layers;
        ``act``, ``mesh``; ``k``/``bits``/``nat`` as ``k=16``), so the user's avoid/prefer
        rules ("avoid tanh", "avoid width 128 near the output") can judge a candidate.
        A :class:`~agentnas.tools.spaces.base.SlotView` only: a slot takes its own kind
        of choice, so cells are not drawn op by op over every slot."""
        cfg = parse(arch)
        hidden = [f"width {w}" for w in cfg.hidden] + [""] * (max(DEPTHS) - len(cfg.hidden))
        return (
            *hidden,
            cfg.act,
            cfg.mesh,
            f"k={cfg.block_size}",
            f"bits={cfg.phase_bits}",
            f"nat={int(cfg.nat)}",
        )

    def vocabulary(self) -> Vocabulary:
        widths = tuple(f"width {w}" for w in WIDTHS)
        return Vocabulary(
            operations=(*ACTIVATIONS, *MESHES, *widths),
            slots=("h1", "h2", "h3", "act", "mesh", "k", "bits", "nat"),
            positions={
                "near the input": ("h1",),
                "first layer": ("h1",),
                "near the output": ("h3",),
                "every layer": ("h1", "h2", "h3"),
            },
            features=tuple(features(EXAMPLE)),
        )

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return LOWER.copy(), UPPER.copy()

    def encode(self, arch: str) -> list[int]:
        return encode(arch)

    def decode(self, vector: Sequence[int]) -> str:
        return decode(vector)

    def enumerate(self) -> tuple[str, ...]:
        return all_archs()

    def index(self, arch: str) -> int:
        return _positions()[canonical(arch)]

    def describe(self) -> str:
        """One paragraph for prompts: what an architecture string means here."""
        return (
            f"Photonic MLP on MZI meshes, e.g. '{EXAMPLE}'. h: hidden widths, 1-3 layers from "
            f"{list(WIDTHS)} (then a layer to the classes); act: {'/'.join(ACTIVATIONS)}, "
            "applied electronically after photodetection; mesh: clements (depth k, balanced "
            "loss) or reck (depth 2k-3); k: block size "
            f"{list(BLOCK_SIZES)}, each layer tiled into k×k blocks of two meshes, "
            "ceil(in/k)·ceil(out/k)·k(k-1) MZIs; bits: phase-shifter DAC resolution "
            f"{list(PHASE_BITS)}; nat: 1 = noise-aware training under the hardware's "
            "non-idealities. Wider/more layers cost MZIs and energy; the first layer "
            "(784 inputs on MNIST) dominates."
        )
