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


def get_space(name: str) -> Any:
    if name not in _SPACES:
        raise UserError(f"unknown search space '{name}'; available: {', '.join(_SPACES)}")
    module, cls = _SPACES[name]
    return getattr(importlib.import_module(module), cls)()


def space_names() -> list[str]:
    return list(_SPACES)
