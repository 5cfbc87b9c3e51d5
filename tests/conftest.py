"""Shared test settings: a private cache folder, few torch threads, no telemetry."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# evaluations run in-process unless a test asks for a pool or Ray (2 cores, -n 2)
os.environ.setdefault("AGENTNAS_EXECUTOR", "local")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Caches (cpu latency, proxies, optical) go to a per-session temp folder, never to
    the user's ``.agentnas-cache``."""
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
