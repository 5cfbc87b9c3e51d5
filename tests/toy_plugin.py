"""A search space and a hardware backend defined outside agentnas, the way a user would:
named on the command line as ``toy_plugin:ChainSpace`` and ``toy_plugin:ChainMeter``.

An architecture is a chain of four layers, ``chain:3-0-4-1``, each a width level 0..4 (0 =
the layer is skipped); 625 architectures. The meter scores one in microseconds: more and
wider layers are more accurate and slower, with diminishing returns.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Sequence

import numpy as np

from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import HardwareBackend
from agentnas.tools.spaces.base import Vocabulary, feature_tokens

LEVELS = 5
SLOTS = 4
PREFIX = "chain:"


def _parse(arch: str) -> tuple[int, ...]:
    body = str(arch).strip().removeprefix(PREFIX)
    parts = body.split("-")
    if not str(arch).strip().startswith(PREFIX) or len(parts) != SLOTS:
        raise UserError(f"bad chain '{arch}'; expected e.g. 'chain:3-0-4-1'")
    if not all(p.isdigit() and int(p) < LEVELS for p in parts):
        raise UserError(f"bad chain '{arch}'; levels are 0..{LEVELS - 1}")
    return tuple(int(p) for p in parts)


def _fmt(levels: Sequence[int]) -> str:
    return PREFIX + "-".join(str(int(v)) for v in levels)


ALL = tuple(_fmt(v) for v in itertools.product(range(LEVELS), repeat=SLOTS))
POSITION = {a: i for i, a in enumerate(ALL)}


class ChainSpace:
    """Every capability a baseline or the offline policy asks for, none of agentnas' code."""

    name = "toy-chain"
    size = len(ALL)
    datasets = ("toy",)
    default_objectives = ("accuracy", "latency")
    default_hardware = "toy_plugin:ChainMeter"
    default_partition_feature = "total"
    has_accuracy_table = False

    def validate(self, arch: str) -> str:
        return _fmt(_parse(arch))

    def canonical(self, arch: str) -> str:
        return self.validate(arch)

    def features(self, arch: str) -> dict[str, float]:
        v = _parse(arch)
        return {"total": float(sum(v)), "depth": float(sum(x > 0 for x in v))}

    def sample(
        self, rng: random.Random, n: int = 1, where: Callable[[str], bool] | None = None
    ) -> list[str]:
        pool = [a for a in ALL if where is None or where(a)]
        return rng.sample(pool, n)

    def is_degenerate(self, arch: str) -> bool:
        return sum(_parse(arch)) == 0

    def cost_floor(self) -> str | None:
        return None

    def edit_tokens(self, parent: str, child: str) -> list[str]:
        return feature_tokens(self, parent, child)

    def describe(self) -> str:
        return "A chain of 4 layers 'chain:a-b-c-d', each a width level 0..4 (0 skips it)."

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(operations=tuple(map(str, range(LEVELS))), slots=("l1", "l2", "l3", "l4"))

    def mutate(self, arch: str, rng: random.Random, k: int = 1) -> str:
        v = list(_parse(arch))
        for i in rng.sample(range(SLOTS), min(k, SLOTS)):
            v[i] = rng.choice([x for x in range(LEVELS) if x != v[i]])
        return _fmt(v)

    def crossover(self, a: str, b: str, rng: random.Random) -> str:
        return _fmt(
            [x if rng.random() < 0.5 else y for x, y in zip(_parse(a), _parse(b), strict=True)]
        )

    def neighbours(self, arch: str) -> list[str]:
        v = _parse(arch)
        return [
            _fmt([*v[:i], x, *v[i + 1 :]]) for i in range(SLOTS) for x in range(LEVELS) if x != v[i]
        ]

    def enumerate(self) -> tuple[str, ...]:
        return ALL

    def index(self, arch: str) -> int:
        return POSITION[self.validate(arch)]

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(SLOTS, dtype=int), np.full(SLOTS, LEVELS - 1, dtype=int)

    def encode(self, arch: str) -> list[int]:
        return list(_parse(arch))

    def decode(self, vector: Sequence[int]) -> str:
        return self.validate(_fmt(vector))


class ChainMeter(HardwareBackend):
    """Accuracy (%) and latency (ms) of a chain, computed, not measured."""

    name = "toy-meter"
    metrics = ("robust_accuracy", "latency_ms")
    spaces = ("toy-chain",)

    def __init__(self, dataset: str = "toy") -> None:
        self.dataset = dataset

    def evaluate(self, arch: str) -> dict[str, float]:
        v = _parse(arch)
        capacity = sum(x * (1.0 - 0.15 * i) for i, x in enumerate(v))
        return {
            "robust_accuracy": 100.0 - 60.0 / (1.0 + capacity),
            "latency_ms": 0.2 + sum(x * x * (1 + i) for i, x in enumerate(v)) / 10.0,
        }
