"""``RUN_DIR/trace.jsonl``: one JSON line per decision (prompts, answers, tool calls,
validation failures, children, KB changes, timings, tokens).

Lines are written whole under a lock and flushed, so a crash leaves at most a missing last
line, never a torn one. Anything that looks like a secret is masked before writing: the
trace is meant to be shared, an API key must never reach it.
"""

from __future__ import annotations

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


class TraceWriter:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, event: str, **fields: Any) -> None:
        record = {"event": event, "time": round(time.time(), 3), **fields}
        line = json.dumps(redact(record), default=str, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()


def read_trace(path: Path) -> list[dict[str, Any]]:
    """All complete lines of a trace (a torn last line, from a crash, is skipped)."""
    out = []
    if not Path(path).exists():
        return out
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def trace_attempts(rt: Any, attempts: list[Any]) -> int:
    """Write each attempt to the trace; return the number of real LLM calls made."""
    calls = 0
    for a in attempts:
        record = a.model_dump(mode="json")
        rt.trace.write("agent_attempt", **record)
        for call in record.get("llm_calls") or []:
            rt.trace.write("llm_call", **call)
        calls += len(record.get("llm_calls") or []) if rt.llm.is_llm else 0
    return calls
