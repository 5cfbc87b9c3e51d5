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
from agentnas.commands.run import _fmt

HELP = """\
Type what you want, in plain words; it applies at this round boundary. Examples:
  add 50 evaluations · 2 more rounds · budget to 200
  focus on partitions 4 and 5 · focus on low latency · focus on all partitions
  avoid avg_pool_3x3 near the output · rule: skip_connect at the output cuts latency
  prefer 3x3 convs in the last edge · stop · (empty line) or go = continue
Anything else becomes an instruction shown to every Designer.
Slash commands: /help · /front (full front) · /kb (heuristics in scope) ·
  /trace [N] (last N trace events) · /quit (stop: write the report and exit)
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
        f"[bold]round {pause['round']}[/] · {s.get('evaluations', ctx.evaluations)}/"
        f"{ctx.budget} evaluations · {ctx.round}/{ctx.rounds} rounds · front "
        f"{s.get('front_size', len(ctx.front))} · HV ratio {_fmt(s.get('hv_ratio'), '.4f')} · "
        f"IGD {_fmt(s.get('igd'), '.4f')} · LLM calls {s.get('llm_calls', 0)}"
    )
    if ctx.focus:
        line += f" · focus {ctx.focus}"
    if pause.get("done"):
        line += "\n[yellow]limits reached: the run ends here unless you extend them[/]"
    return line


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
            f"HV {_fmt(e.get('hv_ratio'), '.4f')}, IGD {_fmt(e.get('igd'), '.4f')}"
        )
    elif kind == "steer":
        c = e.get("command") or {}
        what = " ".join(
            str(x) for x in (c.get("action"), c.get("amount") or "", c.get("partitions") or "")
        )
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
