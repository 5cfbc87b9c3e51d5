"""The shipped claim-vector table: equal to what the model gives, and it spares an offline
run the model load."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np

from agentnas.memory.claim_vectors import claim_words, shipped, vectors_for


def test_table_covers_nb201_claims_and_matches_the_model() -> None:
    table = shipped()
    assert len(table) >= 1400
    words = claim_words(
        SimpleNamespace(
            op="avg_pool_3x3",
            instead_of="nor_conv_3x3",
            edges=("3<-2",),
            objective="accuracy",
            direction="down",
        )
    )
    assert words in table
    from agentnas.memory.embedding import embed

    sample = [*sorted(table)[::350], words]
    fresh = embed(sample)
    for w, v in zip(sample, fresh, strict=True):
        # float16 storage: cosine with the model's own vector is 1 to rounding
        assert float(np.dot(table[w], v)) > 0.9999, w


def test_words_outside_the_table_are_embedded() -> None:
    (v,) = vectors_for(["width 64 on edge h2 energy down"])
    assert v.shape == (384,)
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-3


def test_offline_run_never_loads_the_embedding_model(tmp_path) -> None:
    code = f"""
import json, sys
from agentnas.api import search
from agentnas.memory import embedding
search(hardware="hwnasbench:fpga", budget=24, rounds=2, seed=0, out={str(tmp_path / "r")!r})
print(json.dumps({{"loaded": embedding.model_load_seconds() is not None}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"loaded": False}
    assert (tmp_path / "r" / "kb").is_dir()
