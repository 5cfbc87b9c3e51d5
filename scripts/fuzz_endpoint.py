"""Fuzz whole LLM runs through the real ChatOpenAI client: a loopback OpenAI-compatible
server (tests/loopback_openai.py) answers every request with a random fault or odd
answer, until at least ``--answers`` requests were served.

Faults: useful answers, ``{}``, empty, deep nesting, huge answers, NUL bytes, lone
surrogates, truncated and wrongly typed JSON, tool calls to unknown tools or with broken
arguments, malformed HTTP bodies, 429 with Retry-After, 500/503, dropped connections,
slow answers. Runs use ``--on-llm-failure fallback`` so transport faults fall back
instead of stopping.

Checks, per run: exit status 0 and no traceback (no crash); every answer the client
accepted is an ``llm_call`` record in the trace (every failure is in the trace: a bad
answer as its record and the attempt's validation error, a transport fault as the
attempt's error); no string field in the trace over its cap; the planted key in no file.

    python scripts/fuzz_endpoint.py --answers 1000

Prints one line per run and a closing ``N passed, M failed`` line (runs).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from loopback_openai import LoopbackOpenAI, answer, drop, raw, role_of, slow, status

KEY = "sk-fuzz-planted-key-0123456789"
PARTITION = {"feature": "n_nor_conv_3x3", "groups": [[0, 1], [2, 6]], "rationale": "bands"}
CELL = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


def _useful(role: str) -> str:
    if role == "partitioner":
        return json.dumps(PARTITION)
    if role == "reflector":
        return json.dumps(
            {"add": [{"text": "Prefer nor_conv_3x3 on edge 1<-0.", "evidence_for": 1}]}
        )
    return json.dumps({"children": [{"arch": CELL, "parents": [], "operator": "mutation"}]})


FAULTS: list[tuple[str, Any]] = [
    ("useful", lambda r, rng: answer(_useful(r))),
    ("empty object", lambda r, rng: answer("{}")),
    ("empty", lambda r, rng: answer("")),
    ("deep nesting", lambda r, rng: answer("[" * rng.randint(500, 50_000))),
    ("deep objects", lambda r, rng: answer('{"a":' * rng.randint(500, 20_000))),
    ("huge", lambda r, rng: answer("x" * rng.randint(200_001, 2_000_000))),
    ("huge json", lambda r, rng: answer(json.dumps({"children": [{"arch": "y" * 300_000}]}))),
    ("NUL bytes", lambda r, rng: answer('{"children": [{"arch": "\x00\x00"}]}\x00')),
    ("lone surrogate", lambda r, rng: answer('{"arch": "\\ud800|nor_conv_3x3~0|"}')),
    ("truncated json", lambda r, rng: answer(_useful(r)[: rng.randint(1, 30)])),
    ("wrong types", lambda r, rng: answer('{"children": 7, "add": "x", "groups": {"a": 1}}')),
    ("prose", lambda r, rng: answer("I cannot help with that. " * rng.randint(1, 50))),
    ("echoes the key", lambda r, rng: answer(f"key {KEY} " + _useful(r))),
    (
        "unknown tool",
        lambda r, rng: answer("", [{"name": "rm_rf", "arguments": '{"path": "/"}'}]),
    ),
    (
        "broken tool arguments",
        lambda r, rng: answer("", [{"name": "hardware_metrics", "arguments": "{not json"}]),
    ),
    (
        "tool with bad cell",
        lambda r, rng: answer("", [{"name": "hardware_metrics", "arguments": '{"arch": "zz"}'}]),
    ),
    ("malformed body", lambda r, rng: raw(b'{"choices": [')),
    ("not UTF-8 body", lambda r, rng: raw(b"\xff\xfe\xfd")),
    ("no choices", lambda r, rng: raw(b'{"id": "x", "object": "chat.completion", "choices": []}')),
    ("429 Retry-After", lambda r, rng: status(429, headers={"Retry-After": "0"})),
    ("500", lambda r, rng: status(500)),
    ("503", lambda r, rng: status(503)),
    ("dropped", lambda r, rng: drop()),
    ("slow", lambda r, rng: slow(rng.uniform(0.05, 0.3), answer(_useful(r)))),
]


class Fuzzer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.accepted = 0  # completions the client could parse (answers reaching agents)

    def __call__(self, body: dict[str, Any], n: int) -> dict[str, Any]:
        with self.lock:
            name, make = self.rng.choice(FAULTS)
            self.counts[name] = self.counts.get(name, 0) + 1
            act = make(role_of(body), self.rng)
            inner = act["then"] if act["kind"] == "slow" else act
            if inner["kind"] == "answer":
                self.accepted += 1
        return act


def _fields_over_cap(trace: Path, cap: int) -> int:
    over = 0

    def walk(v: Any) -> None:
        nonlocal over
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and len(v) > cap:
            over += 1

    for line in trace.read_bytes().splitlines():
        walk(json.loads(line))
    return over


def one_run(run_dir: Path, seed: int, fuzzer: Fuzzer) -> tuple[bool, str]:
    from agentnas.cli import main
    from agentnas.graph.trace import MAX_FIELD_CHARS, read_trace

    before = fuzzer.accepted
    err = io.StringIO()
    args = [
        "run", "--out", str(run_dir), "--hardware", "hwnasbench:eyeriss", "--budget", "60",
        "--rounds", "8", "--partitions", "3", "--seed", str(seed), "--llm", "openai:fuzz",
        "--on-llm-failure", "fallback",
    ]  # fmt: skip
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(args)
    except BaseException as exc:  # a crash: exactly what the fuzz looks for
        return False, f"crashed: {type(exc).__name__}: {exc}"
    served = fuzzer.accepted - before
    events = read_trace(run_dir / "trace.jsonl")
    calls = sum(e["event"] == "llm_call" for e in events)
    recorded = sum(len(e.get("llm_calls") or []) for e in events if e["event"] == "agent_attempt")
    over = _fields_over_cap(run_dir / "trace.jsonl", MAX_FIELD_CHARS)
    leaked = [p.name for p in run_dir.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    ok = code == 0 and "Traceback" not in err.getvalue() and recorded == served
    ok = ok and over == 0 and not leaked
    return ok, (
        f"exit {code}, {served} answers accepted by the client, {recorded} in the trace "
        f"({calls} llm_call lines), {over} fields over the cap, key in {leaked or 'no file'}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=1000, help="requests to serve at least")
    ap.add_argument("--seed", type=int, default=13)
    ns = ap.parse_args()
    os.environ["OPENAI_API_KEY"] = KEY
    # the runs below call the CLI's main() in this process: scrub freed memory here as the
    # agentnas command does for itself (restarts this script once, before any thread)
    from agentnas.tools.scrubbed_memory import reexec_scrubbing

    reexec_scrubbing()
    fuzzer = Fuzzer(ns.seed)
    srv = LoopbackOpenAI(fuzzer)
    os.environ["OPENAI_BASE_URL"] = srv.base_url
    work = Path(tempfile.mkdtemp(prefix="fuzz-endpoint-"))
    passed = failed = 0
    i = 0
    try:
        while srv.requests < ns.answers:
            ok, line = one_run(work / f"run{i}", ns.seed + i, fuzzer)
            passed, failed = passed + ok, failed + (not ok)
            print(f"run {i}: {'ok' if ok else 'FAILED'}: {line}; {srv.requests} requests so far")
            sys.stdout.flush()
            i += 1
    finally:
        srv.close()
    print("faults served: " + ", ".join(f"{k} {v}" for k, v in sorted(fuzzer.counts.items())))
    print(f"{srv.requests} requests, {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
