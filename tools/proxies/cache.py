"""On-disk cache of proxy scores, so no cell is scored twice across runs.

One JSON file per (scored cell, batch digest, seed, torch version) under
``$AGENTNAS_CACHE_DIR/proxies/`` (default ``./.agentnas-cache/proxies/``), holding
``{"key": {...}, "values": {proxy: float}}``. The scored cell is the isomorphism-class
representative for functional proxies and the cell itself for params/flops/l2_norm (see
:func:`agentnas.tools.proxies.proxies.key_cell`), so the key is effectively the canonical
cell + proxy + batch + seed + torch version.

Writes are atomic (:mod:`agentnas.tools.atomic_io`); concurrent
writers merge by re-reading before writing, and at worst recompute a value. A file that
does not parse, whose stored key differs from the expected key, or an entry that is not
a finite number is treated as missing: recomputed and overwritten, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import torch

from agentnas.tools.atomic_io import write_text_atomic

CACHE_ENV = "AGENTNAS_CACHE_DIR"
FORMAT = 1


def cache_dir() -> Path:
    """``$AGENTNAS_CACHE_DIR/proxies`` or ``./.agentnas-cache/proxies``."""
    root = Path(os.environ.get(CACHE_ENV) or Path.cwd() / ".agentnas-cache")
    return root / "proxies"


class ProxyCache:
    """Get/put proxy values for one scored cell under one batch and seed."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir()

    @staticmethod
    def key(cell: str, batch_digest: str, seed: int) -> dict[str, object]:
        return {
            "format": FORMAT,
            "cell": cell,
            "batch": batch_digest,
            "seed": int(seed),
            "torch": torch.__version__,
        }

    def path(self, key: dict[str, object]) -> Path:
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
        return self.root / digest[:2] / f"{digest}.json"

    def get(self, cell: str, batch_digest: str, seed: int) -> dict[str, float]:
        """Valid cached values (possibly empty); anything corrupt is silently dropped."""
        key = self.key(cell, batch_digest, seed)
        return _read_values(self.path(key), key)

    def put(self, cell: str, batch_digest: str, seed: int, values: dict[str, float]) -> None:
        key = self.key(cell, batch_digest, seed)
        path = self.path(key)
        merged = _read_values(path, key)
        merged.update({k: float(v) for k, v in values.items() if _finite(v)})
        write_text_atomic(path, json.dumps({"key": key, "values": merged}, sort_keys=True))


def _finite(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(float(v))


def _read_values(path: Path, key: dict[str, object]) -> dict[str, float]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("key") != key:
        return {}
    values = data.get("values")
    if not isinstance(values, dict):
        return {}
    return {str(k): float(v) for k, v in values.items() if _finite(v)}
