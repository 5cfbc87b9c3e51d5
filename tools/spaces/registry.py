"""Search spaces by name: ``get_space("nb201")``, ``get_space("photonic-mlp")``.

A space offers: ``name``, ``validate(arch) -> normalised arch`` (UserError if illegal),
``canonical(arch)`` (isomorphism class), ``features(arch)`` (complexity features for
partitioning), ``sample(rng, n, where=None)``, ``mutate(arch, rng, k=1)``,
``crossover(a, b, rng)``, ``neighbours(arch)``, ``describe()`` (for prompts), and, when the
space is small enough, ``enumerate()``.
"""

from __future__ import annotations

import importlib
from typing import Any

from agentnas.tools.errors import UserError

_SPACES = {
    "nb201": ("agentnas.tools.spaces.nb201", "NB201Space"),
    "photonic-mlp": ("agentnas.tools.spaces.photonic_mlp", "PhotonicMLPSpace"),
}


# datasets each space can be searched on; the first is the default
DATASETS: dict[str, tuple[str, ...]] = {
    "nb201": ("cifar10", "cifar100", "ImageNet16-120"),
    "photonic-mlp": ("mnist", "digits"),
}


# objectives searched when the user names none
OBJECTIVES: dict[str, tuple[str, ...]] = {
    "nb201": ("accuracy", "latency"),
    "photonic-mlp": ("accuracy", "energy", "mzi_count"),
}


def default_objectives(space: str) -> tuple[str, ...]:
    return OBJECTIVES.get(space, ("accuracy", "latency"))


def resolve_dataset(space: str, dataset: str | None) -> str:
    """The dataset to search on (the space's default when None), or a clear refusal."""
    if space not in DATASETS:
        raise UserError(f"unknown search space '{space}'; available: {', '.join(_SPACES)}")
    if dataset is None:
        return DATASETS[space][0]
    if dataset not in DATASETS[space]:
        raise UserError(
            f"dataset '{dataset}' is not available for space '{space}'; "
            f"available: {', '.join(DATASETS[space])}"
        )
    return dataset


def get_space(name: str) -> Any:
    if name not in _SPACES:
        raise UserError(f"unknown search space '{name}'; available: {', '.join(_SPACES)}")
    module, cls = _SPACES[name]
    return getattr(importlib.import_module(module), cls)()


def space_names() -> list[str]:
    return list(_SPACES)
