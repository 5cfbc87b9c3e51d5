"""A space seen one isomorphism class at a time (``--dedupe-isomorphic``).

A dead op (e.g. a conv fed only by a ``none`` path) changes a cell's op counts but not
what it computes, so isomorphic cells can fall into different partitions. Under
deduplication a class must have one home: every feature of a cell is read from its class
representative, so partition checks, sampling and Designers all agree on it.
"""

from __future__ import annotations

from typing import Any

from agentnas.tools.spaces.base import IsomorphicSpace


class ClassFeatureSpace:
    """Delegates everything to ``space``, except ``features`` (of the representative)."""

    def __init__(self, space: Any) -> None:
        self._space = space

    def __getattr__(self, name: str) -> Any:
        return getattr(self._space, name)

    def features(self, arch: str) -> dict[str, float]:
        return self._space.features(self._space.representative(arch))


def for_search(space: Any, dedupe_isomorphic: bool) -> Any:
    """The space a search should use under the given isomorphism setting."""
    if dedupe_isomorphic and isinstance(space, IsomorphicSpace):
        return ClassFeatureSpace(space)
    return space
