"""Search spaces by name: ``get_space("nb201")``, ``get_space("photonic-mlp")``, a class
of the user's own as ``get_space("package.module:Class")``, or one registered by a package
under the entry-point group ``agentnas.spaces``.

Whatever the source, what comes back is a :class:`~agentnas.tools.spaces.base.SearchSpace`;
a class that does not offer the protocol is refused with one line saying what is missing.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from agentnas.tools.errors import UserError
from agentnas.tools.plugins import entry_points_of, is_object_path, load_object
from agentnas.tools.spaces.base import SearchSpace

_SPACES = {
    "nb201": ("agentnas.tools.spaces.nb201", "NB201Space"),
    "photonic-mlp": ("agentnas.tools.spaces.photonic_mlp", "PhotonicMLPSpace"),
}
ENTRY_POINT_GROUP = "agentnas.spaces"


def _entry_points() -> dict[str, Any]:
    return entry_points_of(ENTRY_POINT_GROUP)


def _missing(obj: Any) -> list[str]:
    names = [*SearchSpace.__annotations__, "validate", "canonical", "features", "sample"]
    names += ["is_degenerate", "cost_floor", "edit_tokens", "describe", "vocabulary"]
    return [n for n in names if not hasattr(obj, n)]


def _instantiate(factory: Any, name: str) -> SearchSpace:
    space = factory() if callable(factory) else factory
    if not isinstance(space, SearchSpace):
        raise UserError(
            f"search space '{name}' does not offer the SearchSpace protocol; missing: "
            f"{', '.join(_missing(space))}"
        )
    return space


@cache
def _cached(name: str) -> SearchSpace:
    if name in _SPACES:
        module, cls = _SPACES[name]
        return _instantiate(getattr(importlib.import_module(module), cls), name)
    eps = _entry_points()
    if name in eps:
        return _instantiate(eps[name].load(), name)
    if is_object_path(name):
        return _instantiate(load_object(name, "search space"), name)
    raise UserError(
        f"unknown search space '{name}'; available: {', '.join(space_names())}, or "
        "package.module:Class"
    )


def get_space(name: str) -> SearchSpace:
    """The space called ``name`` (built-in, entry point, or ``package.module:Class``).
    Spaces are stateless, so one instance per name is shared."""
    return _cached(str(name))


def space_names() -> list[str]:
    return [*_SPACES, *(n for n in _entry_points() if n not in _SPACES)]


def as_space(space: SearchSpace | str) -> SearchSpace:
    """A space given by name or as an object."""
    return get_space(space) if isinstance(space, str) else space


def default_objectives(space: SearchSpace | str) -> tuple[str, ...]:
    return tuple(as_space(space).default_objectives)


def resolve_dataset(space: SearchSpace | str, dataset: str | None) -> str:
    """The dataset to search on (the space's default when None), or a clear refusal."""
    datasets = tuple(as_space(space).datasets)
    space = as_space(space).name
    if dataset is None:
        return datasets[0]
    if dataset not in datasets:
        raise UserError(
            f"dataset '{dataset}' is not available for space '{space}'; "
            f"available: {', '.join(datasets)}"
        )
    return dataset
