"""``RUN_DIR/trace.jsonl``: one JSON line per decision (prompts, answers, tool calls,
validation failures, children, KB changes, timings, tokens).

Lines are written whole under a lock and flushed; a torn last line (a crash in the middle
of a write, or a file truncated by hand) is skipped by :func:`read_trace` and closed with a
newline before the next write, so the line a resumed run appends is never glued to it.

Anything that looks like a secret is masked before writing: the trace is
meant to be shared, an API key must never reach it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

_SECRET_KEYS = re.compile(
    r"(api[_-]?key|authorization|auth[_-]?header|secret|password|token)$", re.I
)
_SECRET_VALUES = re.compile(r"(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9._\-]{8,})")


def redact(value: Any) -> Any:
    """Mask secret-looking keys and values anywhere in a JSON-like structure."""
    if isinstance(value, dict):
        return {
            k: (
                "***"
                if isinstance(k, str) and _SECRET_KEYS.search(k) and not k.endswith("_tokens")
                else redact(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        masked = _SECRET_VALUES.sub("***", value)
        key = os.environ.get("OPENAI_API_KEY")
        if key and len(key) >= 8:
            masked = masked.replace(key, "***")
        return masked
    return value


_SURROGATES = re.compile("[\ud800-\udfff]")
MAX_FIELD_CHARS = 20_000
"""A string longer than this is stored as its head, its length and its hash."""


def cap_strings(value: Any) -> Any:
    """``value`` with every over-long string shortened, so no trace line grows without bound."""
    if isinstance(value, dict):
        return {k: cap_strings(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [cap_strings(v) for v in value]
    if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
        digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]
        return f"{value[:1000]}… [{len(value)} characters, sha256 {digest}, cut]"
    return value


class TraceWriter:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._checked = False

    def _close_torn_line(self) -> None:
        """End a torn last line with a newline (once per writer), so it stays one bad
        line instead of swallowing the next event."""
        self._checked = True
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            torn = fh.read(1) != b"\n"
        if torn:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write("\n")

    def write(self, event: str, **fields: Any) -> None:
        record = {"event": event, "time": round(time.time(), 3), **fields}
        line = json.dumps(cap_strings(redact(record)), default=str, ensure_ascii=False)
        # lone surrogates cannot be written as UTF-8: store them as U+FFFD
        line = _SURROGATES.sub("\ufffd", line)
        with self._lock:
            if not self._checked:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._close_torn_line()
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()


EVENTS: tuple[str, ...] = (
    "run_start",
    "run_resume",
    "partitions",
    "kb_loaded",
    "design_context",
    "agent_attempt",
    "llm_call",
    "evaluation",
    "evaluation_failed",
    "designer_fallback",
    "select",
    "kb_changes",
    "steer",
    "steer_ignored",
    "chat",
    "report",
)
"""Event kinds a run writes (``agentnas trace --event`` accepts these and any other kind
found in the trace at hand)."""

ROLES: tuple[str, ...] = ("partitioner", "designer", "reflector", "steering")
"""Agent roles of ``agent_attempt`` events."""


def read_trace(path: Path) -> list[dict[str, Any]]:
    """All complete lines of a trace (a torn last line, from a crash, is skipped)."""
    out = []
    if not Path(path).exists():
        return out
    # bytes, line by line: one line of invalid UTF-8 (a disk error, a hand edit) is skipped
    # like a torn line instead of making the whole trace unreadable
    for raw in Path(path).read_bytes().splitlines():
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def trace_attempts(rt: Any, attempts: list[Any], *, fallback: bool = False) -> Any:
    """Write each attempt (and its replayable model answers) to the trace; return the
    role call's :class:`~agentnas.agents.usage.LLMUsage` for the state."""
    from agentnas.agents.usage import usage_of

    for a in attempts:
        record = a.model_dump(mode="json")
        rt.trace.write("agent_attempt", **record)
        for call in record.get("llm_calls") or []:
            rt.trace.write("llm_call", **call)
    return usage_of(attempts, fallback=fallback)


def count_requests(path: Path) -> int:
    """Model requests journalled in a trace (``llm_request`` lines, one written before each
    request is sent): what a run has spent of its ``--max-llm-calls``, including requests
    of work a kill interrupted before its result reached the checkpoint."""
    return sum(1 for e in read_trace(path) if e.get("event") == "llm_request")


def journal_usage(path: Path) -> dict[str, int]:
    """Run-wide ``calls`` and tokens as the trace journals them: each request before it
    was sent (``llm_request``), the tokens of each answer as it arrived (``llm_tokens``).
    They include work a kill interrupted before its result reached the checkpoint, which
    the checkpointed usage lacks."""
    calls = prompt = completion = 0
    for e in read_trace(path):
        kind = e.get("event")
        if kind == "llm_request":
            calls += 1
        elif kind == "llm_tokens":
            try:
                prompt += int(e.get("prompt_tokens", 0))
                completion += int(e.get("completion_tokens", 0))
            except (TypeError, ValueError):
                continue
    return {"calls": calls, "prompt_tokens": prompt, "completion_tokens": completion}


def journal_wall_s(path: Path) -> float:
    """The largest ``wall_s`` a stopped process journalled (``run_stopped`` lines), 0.0
    when none did."""
    seen = [e.get("wall_s") for e in read_trace(path) if e.get("event") == "run_stopped"]
    return max((float(w) for w in seen if isinstance(w, int | float)), default=0.0)
