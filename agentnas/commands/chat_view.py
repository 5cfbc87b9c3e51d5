"""What ``agentnas chat`` shows: the help text, front rows and tables, the status line at
a pause, the knowledge-base table and one-line trace events. Pure functions that return
strings or rich renderables; :mod:`agentnas.commands.chat` prints them.
"""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table
from rich.text import Text

from agentnas.agents.steering import SteerContext
from agentnas.commands.run_text import fmt_value

HELP = """\
Type what you want, in plain words; it applies at this round boundary. Examples:
  keep latency under 3 ms · energy below 5 mJ · accuracy at least 93 · clear the constraint
  avoid avg_pool_3x3 near the output · no avg pools · prefer nor_conv_3x3 on edge 3<-2
  focus on partitions 4 and 5 · focus on low latency · freeze p3 · unfreeze p3
  add 50 evaluations · 2 more rounds · budget to 200 · pause · resume · stop
  prefer nor_conv_3x3 on edge 3<-2 where possible  (soft: a heuristic, not a hard rule)
  rule: skip_connect at the output cuts latency  (a heuristic in words, for the KB)
  why was f1 chosen? · why is partition 5 slow?  (questions change nothing)
  (empty line) or go = continue
A message that maps to none of these is "not understood" and changes nothing.
Slash commands: /constraint latency < 3 · /constraint clear · /avoid OP [near the output]
  /prefer OP [EDGE] · /rules clear · /focus p1 p2|all · /freeze p3 · /unfreeze [p3]
  /budget +50 · /rounds +2 · /pause · /resume · /stop · /why TARGET (cell, fN, pN, rN)
  /heuristic add TEXT | edit ID TEXT | rm ID | list · /front · /status · /kb
  /trace [N] (last N trace events) · /help · /quit (stop: write the report and exit)
End of input (Ctrl-D) continues to the end without more pauses."""


def front_rows(
    candidates: list[dict[str, Any]], front: list[str], objectives: list[Any]
) -> list[dict[str, Any]]:
    """Front members as ``{"arch", "partition", <objective metrics>}``, sorted like
    ``front.csv`` (by the first objective, best first)."""
    by_arch = {c["arch"]: c for c in candidates}
    members = [by_arch[a] for a in front if a in by_arch]
    members.sort(key=lambda c: tuple(c["metrics"].get(o.metric, 0.0) * o.sign for o in objectives))
    return [
        {
            "arch": c["arch"],
            "partition": c["partition"],
            **{o.metric: c["metrics"].get(o.metric) for o in objectives},
        }
        for c in members
    ]


def front_table(rows: list[dict[str, Any]], title: str) -> Table:
    """Front rows as a borderless table: one column per key, floats to 4 digits."""
    table = Table(title=title, box=None, pad_edge=False, title_justify="left")
    cols = list(rows[0]) if rows else ["arch"]
    for c in cols:
        table.add_column(c, justify="left" if c == "arch" else "right", overflow="fold")
    for r in rows:
        table.add_row(*(Text(f"{v:.4g}" if isinstance(v, float) else str(v)) for v in r.values()))
    return table


def status_line(pause: dict[str, Any], ctx: SteerContext) -> str:
    """The round's figures at a pause (rich markup): evaluations, rounds, front, HV, IGD."""
    s = pause.get("stats") or {}
    line = (
        f"[bold]round {pause['round']}[/] · {s.get('attempted', ctx.evaluations)}/"
        f"{ctx.budget} evaluations{failed_note(s)} · {ctx.round}/{ctx.rounds} rounds · front "
        f"{s.get('front_size', len(ctx.front))} · HV ratio {fmt_value(s.get('hv_ratio'), '.4f')} · "
        f"IGD {fmt_value(s.get('igd'), '.4f')} · LLM calls {s.get('llm_calls', 0)}"
    )
    if s.get("constraint"):
        line += (
            f"\n[bold]constraint {s['constraint']}[/]: {s.get('feasible', 0)} cells satisfy it, "
            f"front {s.get('front_constrained_size', 0)}, HV ratio "
            f"{fmt_value(s.get('hv_ratio_constrained'), '.4f')} (against the exact front of the "
            f"cells that satisfy it)"
        )
    if ctx.focus:
        line += f" · focus {ctx.focus}"
    if ctx.frozen:
        line += f" · frozen {ctx.frozen}"
    if s.get("dry_partitions") and not ctx.focus:
        line += (
            f"\n[yellow]{s['dry_partitions']}: no cell left that keeps the constraints and "
            f"rules; their share goes to the other partitions[/]"
        )
    full = [p for p in ctx.focus if p in ctx.full_partitions]
    if full:
        line += (
            f"\n[yellow]focus partitions {full} have no cell left to propose (all evaluated, "
            f"or none keeps the constraints and rules); their share goes to the others[/]"
        )
    if pause.get("done"):
        line += "\n[yellow]limits reached: the run ends here unless you extend them[/]"
    return line


def failed_note(stats: dict[str, Any]) -> str:
    """`` (2 failed or infeasible)`` when some attempts spent budget without a result."""
    lost = int(stats.get("attempted", 0)) - int(stats.get("evaluations", 0))
    return f" ({lost} failed or infeasible)" if lost > 0 else ""


def steering_status(ctx: SteerContext) -> str:
    """What binds the search now (``/status``): limits, constraints, rules, focus."""
    lines = [
        f"round {ctx.round}: {ctx.evaluations}/{ctx.budget} evaluations, {ctx.rounds} rounds",
        "constraints: " + (", ".join(c.text() for c in ctx.constraints) or "none"),
        "rules: " + (", ".join(r.text() for r in ctx.rules) or "none"),
        f"focus: {ctx.focus or 'all partitions'}; frozen: {ctx.frozen or 'none'}",
        f"heuristics in scope: {ctx.heuristics}",
    ]
    if ctx.full_partitions:
        lines.append(f"partitions with no cell left to propose: {ctx.full_partitions}")
    return "\n".join(lines)


def kb_table(records: list[dict[str, Any]]) -> Table:
    """Heuristic records (knowledge-base JSON) as a table, one row each."""
    table = Table(title=f"heuristics in scope ({len(records)})", box=None, pad_edge=False)
    for c in ("id", "polarity", "+/-", "partition", "source"):
        table.add_column(c, no_wrap=True)
    table.add_column("text", ratio=1, overflow="fold")
    for r in records:
        part = (r.get("scope") or {}).get("partition")
        table.add_row(
            str(r.get("id", ""))[:10],
            r.get("polarity", ""),
            f"+{r.get('evidence_for', 0)}/-{r.get('evidence_against', 0)}",
            "all" if part is None else str(part),
            str(r.get("source", "")).split(":")[0],  # "reflector:<label>" → reflector
            Text(str(r.get("text", ""))),  # plain text: brackets are not markup
        )
    return table


def trace_line(e: dict[str, Any]) -> str:
    """One short line for a trace event (``/trace``)."""
    kind = e.get("event", "?")
    rnd_value = e.get("round", (e.get("key") or {}).get("round"))
    rnd = f"r{rnd_value}" if rnd_value is not None else "  "
    if kind == "evaluation":
        m = ", ".join(f"{k}={v:.4g}" for k, v in (e.get("metrics") or {}).items())
        what = f"p{e.get('partition')} {e.get('operator')} {e.get('arch')} {m}"
    elif kind == "select":
        what = (
            f"{e.get('evaluations')} evals, front {e.get('front_size')}, "
            f"HV {fmt_value(e.get('hv_ratio'), '.4f')}, IGD {fmt_value(e.get('igd'), '.4f')}"
        )
    elif kind == "steer":
        c = e.get("command") or {}
        keys = ("amount", "partitions", "metric", "op", "value", "edges", "id", "target")
        what = " ".join(str(x) for x in [c.get("action"), *(c.get(k) for k in keys)] if x)
        what += f" {c.get('text', '')}".rstrip()
    elif kind == "chat":
        what = f"{e.get('message')!r} → {e.get('reply')} [{e.get('label')}]"
    elif kind == "agent_attempt":
        key = e.get("key") or {}
        errors = e.get("errors") or []
        part = f" p{key['partition']}" if key.get("partition") is not None else ""
        what = f"{e.get('role')}{part} by {e.get('label')}" + (
            f", {len(errors)} error(s): {errors[0]}" if errors else ""
        )
    elif kind == "kb_changes":
        what = "; ".join(
            f"{c.get('action')} {c.get('text', c.get('id', ''))}" for c in e["changes"]
        )
        what = what or "no change"
    else:
        rest = {k: v for k, v in e.items() if k not in ("event", "time", "round")}
        what = json.dumps(rest, default=str, ensure_ascii=False)
    line = f"{kind:<16} {rnd:>3} {what}"
    return line if len(line) <= 160 else line[:157] + "..."
