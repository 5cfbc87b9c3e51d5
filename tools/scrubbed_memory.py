"""Freed memory is scrubbed before it is reused, so no library can persist stale bytes of
this process (an API key, a model's answer) in a file it writes.

Why: hnswlib, under Chroma's knowledge base, writes its index buffers whole
(``data_level0.bin``, ``length.bin``), including the slots it allocated with ``malloc``
and never filled. Those bytes are whatever the process freed there before: an LLM run's
heap holds the ``Authorization`` header of every request and every answer of the model,
so the API key could end up in the KB folder. Redacting what we write cannot reach bytes
a library copies from uninitialised memory.

How: glibc's allocator overwrites every chunk it frees (``glibc.malloc.perturb``), and
its per-thread cache, whose chunks skip that step, is turned off
(``glibc.malloc.tcache_count=0``). So memory that ``malloc`` hands out holds the perturb
pattern or zeros, never earlier contents. Tunables are read when a process starts: the
``agentnas`` command re-executes itself once with them when it may hold a key
(``OPENAI_API_KEY`` set). Only glibc (Linux) has them; elsewhere nothing changes. A
Python program using :func:`agentnas.search` with a key sets ``GLIBC_TUNABLES`` itself
(:func:`scrubbing_env` gives the value).
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping

TUNABLES = ("glibc.malloc.perturb=165", "glibc.malloc.tcache_count=0")
SECRET_ENV = "OPENAI_API_KEY"


def scrubbing_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with :data:`TUNABLES` added to ``GLIBC_TUNABLES`` (the user's own tunables
    kept; ours win where both set the same one)."""
    ours = {t.split("=")[0] for t in TUNABLES}
    kept = [
        t for t in env.get("GLIBC_TUNABLES", "").split(":") if t and t.split("=")[0] not in ours
    ]
    return {**env, "GLIBC_TUNABLES": ":".join([*kept, *TUNABLES])}


def is_scrubbing(env: Mapping[str, str] = os.environ) -> bool:
    """Whether a process started with ``env`` scrubs freed memory."""
    return set(TUNABLES) <= set(env.get("GLIBC_TUNABLES", "").split(":"))


def needs_scrubbing(env: Mapping[str, str] = os.environ) -> bool:
    """A glibc process that may hold a key and does not scrub yet."""
    return bool(env.get(SECRET_ENV)) and not is_scrubbing(env) and platform.libc_ver()[0] == "glibc"


def reexec_scrubbing() -> None:
    """Replace this process by itself, started with the tunables, when it
    :func:`needs_scrubbing`; otherwise return. Call it before anything is done (the
    process image is replaced: nothing after the call runs twice)."""
    if not needs_scrubbing():
        return
    sys.stdout.flush()
    sys.stderr.flush()
    argv = list(getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv])
    os.execve(sys.executable, argv, scrubbing_env(os.environ))
