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


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """One offline fpga run (40 evaluations, 3 rounds) that read-only tests share:
    why, trace --arch, report, pick, export, runs."""
    from agentnas.graph.config import RunConfig
    from agentnas.graph.runner import start_run

    run_dir = tmp_path_factory.mktemp("small") / "run"
    start_run(RunConfig(hardware="hwnasbench:fpga", budget=40, rounds=3, seed=5), run_dir)
    return run_dir
