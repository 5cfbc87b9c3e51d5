"""Caps on model use: the run's wall clock, the check at every round boundary, raising a
cap on ``--resume``, and the use an LLM run expects before it starts.

Requests are refused by the backend as soon as a cap is spent (the role falls back to the
offline policy for that call, see :meth:`agentnas.agents.llm.LLMBackend.cap_reached`), so
a cap is overrun by the requests already in flight at most. At the next round boundary
:func:`at_boundary` then either stops the run (``on_llm_failure="stop"``: exit 4,
checkpointed, ``--resume`` with a larger cap continues) or records the cap in the state,
and the offline policy plays every role for the rest of the run (``"fallback"``; the
summary and the CLI say so).
"""

from __future__ import annotations

import math
import time
from typing import Any

from agentnas.agents.usage import Caps
from agentnas.graph.config import CAP_FIELDS, RunConfig
from agentnas.tools.errors import CapReached, UserError


class RunClock:
    """Wall seconds the run has been driven, over every process: the checkpointed
    ``wall_s`` a process started from plus the time its graph has been running since.
    Only time inside ``graph.invoke`` counts (a chat session's pauses do not).
    ``floor``: the wall seconds a process that a cap stopped journalled (it ran past its
    last checkpoint); a resume starts from at least that."""

    def __init__(self) -> None:
        self.base = 0.0
        self.floor = 0.0
        self.started: float | None = None

    def start(self, base: float) -> None:
        self.base = float(base or 0.0)
        self.started = time.monotonic()

    def stop(self) -> None:
        self.base = self()
        self.started = None

    def __call__(self) -> float:
        if self.started is None:
            return self.base
        return self.base + time.monotonic() - self.started


def at_boundary(rt: Any, state: dict[str, Any]) -> dict[str, Any]:
    """The check at a round boundary: nothing (``{}``) while every cap holds or the run is
    finishing anyway; else :class:`CapReached` (stop mode) or the state update that
    records the cap once (fallback mode: ``{"caps_reached": [record]}``)."""
    if not rt.llm.is_llm or state.get("done"):
        return {}
    reason = rt.llm.cap_reached()
    if reason is None:
        return {}
    caps = Caps.of(rt.config)
    flag = caps.flag(reason)
    rnd = int(state.get("round", 0))
    if rt.config.on_llm_failure == "fallback":
        limit = getattr(rt.config, flag.removeprefix("--").replace("-", "_"), None)
        if any(r["cap"] == flag and r["limit"] == limit for r in state.get("caps_reached", [])):
            return {}
        record = {"cap": flag, "limit": limit, "reason": reason, "round": rnd,
                  "then": "offline policy"}  # fmt: skip
        rt.trace.write("cap_reached", **record)
        return {"caps_reached": [record]}
    raise CapReached(
        f"{reason}; the run stopped after round {rnd}, checkpointed; continue with "
        f"agentnas run --resume RUN_DIR {flag} LARGER (or start with --on-llm-failure "
        f"fallback to let the offline policy go on)"
    )


def cap_line(summary: dict[str, Any]) -> str | None:
    """One line for the CLI when caps were reached and the offline policy went on."""
    reached = summary.get("caps_reached") or []
    if not reached:
        return None
    first = reached[0]
    return (
        f"{first['reason']} at round {first['round']}: from then on the offline policy "
        f"played every role (--on-llm-failure fallback); these rounds are not the model's"
    )


def raise_caps(cfg: RunConfig, caps: dict[str, Any]) -> RunConfig:
    """``cfg`` with the caps given on ``--resume`` (None: not given). Each must be at
    least the run's current cap; a run without a cap has none to raise (unlimited)."""
    given = {k: v for k, v in caps.items() if v is not None}
    unknown = sorted(set(given) - set(CAP_FIELDS))
    if unknown:
        raise UserError(f"--resume changes only caps ({', '.join(CAP_FIELDS)}); not {unknown}")
    for name, value in given.items():
        flag = "--" + name.replace("_", "-")
        current = getattr(cfg, name)
        if current is None:
            raise UserError(
                f"{flag} {value:g}: the run has no such cap (unlimited); a resume may only "
                f"raise a cap the run started with"
            )
        if value < current:
            raise UserError(
                f"{flag} {value:g} is below the run's cap of {current:g}; a resume may only "
                f"raise a cap"
            )
    if not given:
        return cfg
    return RunConfig.build(**{**cfg.model_dump(), **given})


TYPICAL_TOKENS: dict[str, tuple[int, int]] = {
    "partitioner": (1500, 250),
    "designer": (3500, 600),
    "reflector": (4000, 800),
}
"""Typical (input, output) tokens of one request per role: the size of the role's prompt
with a run's usual context, and of an answer in its schema. Only for the estimate printed
before a run; the run's own figures replace them once it has made calls."""


def expected_use(
    cfg: RunConfig, usage: dict[str, Any] | None = None, done_rounds: int = 0
) -> dict[str, Any]:
    """The calls, tokens (and cost, with prices) an LLM run is expected to spend from
    round ``done_rounds`` on: one request per decision (the Partitioner once, a Designer
    per partition that gets children in a round, the Reflector each round), at
    :data:`TYPICAL_TOKENS` per request, or at the run's own mean per request once
    ``usage`` has some. Repairs and tool calls add requests; this is an estimate."""
    seeds = cfg.partitions * cfg.seed_per_partition
    rounds = max(0, cfg.rounds - done_rounds)
    per_round = max(1, math.ceil(max(0, cfg.budget - seeds) / max(1, cfg.rounds)))
    designers = 1 if cfg.single_designer else min(cfg.partitions, per_round)
    calls = {
        "partitioner": 0 if done_rounds else 1,
        "designer": rounds * designers,
        "reflector": rounds if cfg.knowledge == "on" else 0,
    }
    n = sum(calls.values())
    u = usage or {}
    if int(u.get("calls", 0)) > 0:
        mean_in = int(u.get("prompt_tokens", 0)) / int(u["calls"])
        mean_out = int(u.get("completion_tokens", 0)) / int(u["calls"])
        t_in, t_out = round(n * mean_in), round(n * mean_out)
    else:
        t_in = sum(c * TYPICAL_TOKENS[r][0] for r, c in calls.items())
        t_out = sum(c * TYPICAL_TOKENS[r][1] for r, c in calls.items())
    out: dict[str, Any] = {"calls": n, "by_role": calls, "tokens_in": t_in, "tokens_out": t_out}
    cost = Caps.of(cfg).cost({"prompt_tokens": t_in, "completion_tokens": t_out})
    if cost is not None:
        out["cost_usd"] = cost
    return out


def expected_line(cfg: RunConfig, usage: dict[str, Any] | None = None, done_rounds: int = 0) -> str:
    """The estimate as one line for ``agentnas run`` (printed before an LLM run starts)."""
    e = expected_use(cfg, usage, done_rounds)
    roles = ", ".join(f"{r} {c}" for r, c in e["by_role"].items() if c)
    basis = (
        "the run's mean tokens per call so far"
        if (usage or {}).get("calls")
        else ("typical tokens per call")
    )
    line = (
        f"expected LLM use (estimate): ~{e['calls']} calls ({roles}; repairs and tool calls "
        f"add more), ~{e['tokens_in'] + e['tokens_out']:,} tokens "
        f"({e['tokens_in']:,} in, {e['tokens_out']:,} out, at {basis})"
    )
    if "cost_usd" in e:
        line += f", ~${e['cost_usd']:.2f}"
    caps = [f"{k.replace('_', '-')} {getattr(cfg, k):g}" for k in CAP_FIELDS
            if getattr(cfg, k) is not None]  # fmt: skip
    if caps:
        line += f"; caps: {', '.join(caps)}"
    return line


def remaining_line(run_dir: Any, cfg: RunConfig) -> str:
    """:func:`expected_line` for the rest of a run being resumed: from its last finished
    round on, at its own mean tokens per call (both read from its trace)."""
    from pathlib import Path

    from agentnas.graph.trace import journal_usage, read_trace

    path = Path(run_dir) / "trace.jsonl"
    rounds = [int(e.get("round", 0)) for e in read_trace(path) if e.get("event") == "select"]
    done = max(rounds, default=0)
    usage = journal_usage(path)
    total = usage["prompt_tokens"] + usage["completion_tokens"]
    spent = f"spent so far: {usage['calls']} calls, {total:,} tokens"
    return f"{spent}; rest of the run, {expected_line(cfg, usage, done)}"
