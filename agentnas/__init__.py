"""agentnas: multi-agent, LLM-driven, hardware-aware neural architecture search.

``agentnas.search(space=…, hardware=…, budget=…)`` runs one search from Python
(:mod:`agentnas.api`); it is imported on first use, so ``import agentnas.tools…`` stays
light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SearchResult", "read_result", "search"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from agentnas import api

        return getattr(api, name)
    raise AttributeError(f"module 'agentnas' has no attribute {name!r}")
