"""Embeddings of structured claims, from a shipped table before the model.

Every KB record needs a vector in Chroma, and a claim's vector is the embedding of its
words without numbers (:func:`claim_words`): claims with one key share it. The offline
Reflector writes claims only, from a small closed vocabulary (an operation, optionally the
one it replaced, one edge, an objective, a direction), so their vectors are computed once
by ``scripts/derive_claim_vectors.py`` and shipped in ``memory/data/claim_vectors.npz``.
A run whose KB holds only such claims then never loads the MiniLM model, which was about
half of an offline run's CPU. Words outside the table (other spaces, user wording, new
objectives) are embedded as before, once per process.

The table stores float16 (half the size; cosine retrieval does not feel the rounding):
for words in the table, the table is the only source, so equal words always get equal
vectors within and across runs.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from agentnas.memory.embedding import embed

TABLE = Path(__file__).resolve().parent / "data" / "claim_vectors.npz"

_lock = threading.Lock()
_computed: dict[str, np.ndarray] = {}
"""Vectors this process embedded for words outside the table (a bench runs dozens of
runs in one process, with the same keys in every run)."""


def claim_words(claim: Any) -> str:
    """What a claim is about, without its numbers: claims with one key share a vector."""
    what = f"{claim.op} instead of {claim.instead_of}" if claim.instead_of else claim.op
    return f"{what} on edge {' '.join(claim.edges) or 'any'} {claim.objective} {claim.direction}"


@cache
def shipped() -> dict[str, np.ndarray]:
    """The shipped table (words -> float32 vector); empty when the file is absent."""
    if not TABLE.is_file():
        return {}
    with np.load(TABLE, allow_pickle=False) as data:
        words = [str(w) for w in data["words"]]
        vectors = data["vectors"].astype(np.float32)
    return dict(zip(words, vectors, strict=True))


def vectors_for(words: list[str]) -> list[np.ndarray]:
    """One vector per entry of ``words``: the shipped table's, else one embedded in this
    process (all missing words in one batch)."""
    table = shipped()
    with _lock:
        missing = sorted({w for w in words if w not in table and w not in _computed})
        if missing:
            _computed.update(zip(missing, embed(missing), strict=True))
        return [table[w] if w in table else _computed[w] for w in words]
