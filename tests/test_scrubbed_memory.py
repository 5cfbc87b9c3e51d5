"""Freed memory is scrubbed in the ``agentnas`` process that may hold an API key, so
Chroma's HNSW index files (written from buffers hnswlib never fills) cannot carry it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentnas.tools.scrubbed_memory import (
    TUNABLES,
    is_scrubbing,
    needs_scrubbing,
    scrubbing_env,
)

KEY = "sk-planted-0123456789abcdef-key"


def test_tunables_join_the_users_own():
    env = scrubbing_env({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2:glibc.malloc.perturb=1"})
    parts = env["GLIBC_TUNABLES"].split(":")
    assert parts == ["glibc.malloc.arena_max=2", *TUNABLES]  # ours win over the user's perturb
    assert is_scrubbing(env) and not needs_scrubbing({**env, "OPENAI_API_KEY": KEY})
    assert not needs_scrubbing({})  # no key, no restart
    assert not is_scrubbing({"GLIBC_TUNABLES": "glibc.malloc.perturb=165"})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tunables")
def test_the_command_restarts_once_with_scrubbing(tmp_path):
    """``agentnas`` with a key re-executes itself with the tunables (and only once)."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import os, sys\n"
        "from agentnas.tools.scrubbed_memory import reexec_scrubbing\n"
        "print('start', flush=True)\n"
        "reexec_scrubbing()\n"
        "print(os.environ.get('GLIBC_TUNABLES'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    out = subprocess.run(
        [sys.executable, str(probe)], env={**env, "OPENAI_API_KEY": KEY},
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.split()  # fmt: skip
    assert out == ["start", "start", ":".join(TUNABLES)]
    plain = subprocess.run(
        [sys.executable, str(probe)], env=env, capture_output=True, text=True, check=True,
        timeout=120,
    ).stdout.split()  # fmt: skip
    assert plain == ["start", "None"]


@pytest.mark.slow  # loads the embedding model in a fresh process: about a minute when loaded
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc tunables")
def test_a_key_in_freed_memory_never_reaches_the_kb_files(tmp_path):
    """The key planted in freed chunks of every size, in 32 arenas, before a KB is
    written: with scrubbing no KB file (HNSW ``*.bin`` included) holds it. (Without the
    tunables the same script put the key in ``data_level0.bin`` or ``length.bin`` in
    most tries; that is chance, so it is not asserted here.)"""
    script = Path(__file__).with_name("plant_key_kb.py")
    env = scrubbing_env({k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"})
    done = subprocess.run(
        [sys.executable, str(script), KEY, str(tmp_path / "kb")],
        env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "data_level0.bin" in result["files"] and "length.bin" in result["files"]
    assert result["hits"] == []
