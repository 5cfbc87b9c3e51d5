"""Derive ``memory/data/claim_vectors.npz``: MiniLM vectors of every NB201 claim's words.

The offline Reflector's claims name one operation (optionally the one it replaced), one
edge (or none: "any"), an objective and a direction, all from NB201's vocabulary, so
their words (:func:`agentnas.memory.claim_vectors.claim_words`) form a closed set. This
script embeds that set once with the bundled all-MiniLM-L6-v2 (the model every KB uses)
and stores the words and float16 vectors. Runs then look claim vectors up instead of
loading the model. Words outside the set are embedded at run time as before.

    python scripts/derive_claim_vectors.py
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np

from agentnas.memory.claim_vectors import TABLE, claim_words
from agentnas.memory.embedding import embed
from agentnas.tools.spaces.registry import get_space

OBJECTIVES = ("front", "accuracy", "latency", "energy")
DIRECTIONS = ("up", "down")


def nb201_words() -> list[str]:
    """Every claim's words over NB201's operations and edges (and "any" edge)."""
    vocab = get_space("nb201").vocabulary()
    ops = vocab.operations
    whats = [(op, None) for op in ops] + [(a, b) for a, b in itertools.permutations(ops, 2)]
    edges = [(slot,) for slot in vocab.slots] + [()]
    words = {
        claim_words(SimpleNamespace(op=op, instead_of=old, edges=e, objective=o, direction=d))
        for (op, old), e, o, d in itertools.product(whats, edges, OBJECTIVES, DIRECTIONS)
    }
    return sorted(words)


def main() -> None:
    words = nb201_words()
    vectors = embed(words).astype(np.float16)
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(TABLE, words=np.array(words), vectors=vectors)
    print(f"{len(words)} claim vectors -> {TABLE} ({TABLE.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
