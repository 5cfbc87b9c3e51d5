"""``RUN_DIR/report.md`` and its plots (``RUN_DIR/plots/*.png``), from the run's files.

The report names the command that reproduces the run, its headline figures, the front,
the rounds and the partitions, with one plot each; optical runs add the energy
breakdown, the robust degradation of the front members, and their energy beside the same
networks' CPU and GPU energy, the energy assumptions written on the plot. Everything is
read back through
:mod:`agentnas.graph.report_data`, so plots and tables show the same numbers as
``front.csv`` and ``rounds.csv``. Other slices add sections by appending to
:data:`SECTIONS` (a function ``(record, data, plots_dir) -> markdown lines``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentnas.graph.report_data import ReportData, read_csv, read_report_data
from agentnas.graph.report_plots import (
    electronic_figure,
    energy_breakdown_figure,
    front_figure,
    indicators_figure,
    partitions_figure,
    png_bytes,
    robust_figure,
)
from agentnas.graph.run_record import RunRecord, load_run
from agentnas.tools.atomic_io import write_bytes_atomic, write_text_atomic

PLOTS_DIR = "plots"
MAX_TABLE_ROWS = 30

COLUMNS_EXPLAINED = (
    "**HV ratio**: hypervolume of the found front over that of the exact front "
    "(1 = the whole exact front found; normalised by the exact front's ideal and nadir). "
    "**IGD**: mean distance from each exact-front point to the nearest found point "
    "(0 = all found). **front**: cells no other evaluated cell beats on every objective."
)


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v).replace("|", "\\|")


def md_table(rows: list[dict[str, Any]], cols: list[str] | None = None) -> list[str]:
    if not rows:
        return ["(none)"]
    cols = cols or list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    shown = rows[:MAX_TABLE_ROWS]
    out += ["| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |" for r in shown]
    if len(rows) > len(shown):
        out.append(f"\n… {len(rows) - len(shown)} more rows in the CSV")
    return out


def _save(plots: Path, name: str, fig: Any) -> str | None:
    if fig is None:
        return None
    write_bytes_atomic(plots / name, png_bytes(fig))
    return f"{PLOTS_DIR}/{name}"


def _headline(record: RunRecord, data: ReportData) -> list[str]:
    s, last = record.summary, (data.rounds[-1] if data.rounds else {})
    budget = s.get("budget", record.config.get("budget"))
    tokens = f"{_fmt(last.get('prompt_tokens'))} / {_fmt(last.get('completion_tokens'))}"
    rows = [
        ("evaluations", f"{len(data.candidates)} of budget {budget}"),
        ("rounds", _fmt(last.get("round"))),
        ("front size", str(len(data.front))),
        ("HV ratio", _fmt(last.get("hv_ratio"))),
        ("IGD", _fmt(last.get("igd"))),
        ("decided by", s.get("llm") or str(record.config.get("llm", "offline"))),
        ("LLM calls", _fmt(last.get("llm_calls", s.get("llm_calls")))),
        ("tokens (prompt / completion)", tokens),
        ("accuracy source", s.get("accuracy_source") or str(record.config.get("accuracy", ""))),
        ("finished", s.get("finished_at") or "not finished (report of the last round written)"),
    ]
    lines = ["| figure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]
    if s.get("hv_ratio_note"):
        lines += ["", f"Note: {s['hv_ratio_note']}."]
    return lines


def _front_section(record: RunRecord, data: ReportData, plots: Path) -> list[str]:
    img = _save(plots, "front.png", front_figure(data))
    raw = read_csv(record.run_dir / "front.csv")  # the file's own columns and units
    cols = list(raw[0]) if raw else ["arch"]
    out = ["## Front", "", f"![front per round]({img})", ""]
    if data.exact is None:
        out += ["(the exact front is not known for this space/backend without measuring it)", ""]
    out += ["`front.csv`, best first on the first objective (f1, f2, … in `agentnas why`):", ""]
    out += md_table([{"#": f"f{i + 1}", **r} for i, r in enumerate(raw)], ["#", *cols])
    if data.front_constrained:
        out += [
            "",
            "`front_constrained.csv` (the front of the cells that satisfy the constraints; "
            "red diamonds on the plot):",
            "",
        ]
        out += md_table(read_csv(record.run_dir / "front_constrained.csv"))
    return out


def _rounds_section(record: RunRecord, data: ReportData, plots: Path) -> list[str]:
    img = _save(plots, "indicators.png", indicators_figure(data))
    out = ["## Rounds", "", f"![HV ratio and IGD per round]({img})", "", COLUMNS_EXPLAINED, ""]
    return [*out, "`rounds.csv`:", "", *md_table(data.rounds)]


def _partitions_section(record: RunRecord, data: ReportData, plots: Path) -> list[str]:
    img = _save(plots, "partitions.png", partitions_figure(data))
    front = {r["arch"] for r in data.front}
    rows = []
    for p in record.partitions:
        mine = [c for c in data.candidates if c.get("partition") == float(p["id"])]
        rows.append(
            {
                "partition": f"p{p['id']}",
                "range": f"{p.get('feature')} {p.get('low'):g}–{p.get('high'):g}",
                "cells in space": p.get("size"),
                "evaluations": len(mine),
                "on front": sum(1 for c in mine if c["arch"] in front),
            }
        )
    out = ["## Partitions", "", f"![evaluations per partition]({img})", ""]
    return out + md_table(rows) + ["", "Ask `agentnas why RUN_DIR pN` what limits one."]


def _constraints_section(record: RunRecord, data: ReportData, plots: Path) -> list[str]:
    steers = record.events_of("steer")
    if not data.constraints and not steers:
        return []
    out = ["## Steering and constraints", ""]
    if data.constraints:
        out.append(
            "In force at the end (dashed lines on the front plot): "
            + "; ".join(c.text for c in data.constraints)
        )
        flagged = sum(1 for c in data.candidates if c.get("status") not in (None, "ok"))
        out += ["", f"{flagged} evaluated cell(s) flagged in `candidates.csv` (`status`).", ""]
    for e in steers:
        c = e.get("command") or {}
        words = ", ".join(f"{k}={v}" for k, v in c.items() if v not in (None, "", [], 0))
        out.append(f"- after round {e.get('round')}: {words}")
    return out


def _optical_section(record: RunRecord, data: ReportData, plots: Path) -> list[str]:
    energy = _save(plots, "energy_breakdown.png", energy_breakdown_figure(data))
    robust = _save(plots, "robust.png", robust_figure(data))
    out = []
    if energy:
        out += ["## Energy breakdown", "", f"![energy breakdown]({energy})", ""]
    if robust:
        out += ["## Robust degradation", "", f"![robust degradation]({robust})", ""]
    versus = _save(plots, "optical_vs_electronic.png", electronic_figure(data))
    if versus:
        out += [
            "## Optical vs CPU and GPU energy",
            "",
            "The front's networks at their optical energy and at the energy of the same "
            "networks on a CPU and a GPU; the assumptions are written under the plot:",
            "",
            *(f"- {a}" for a in data.assumptions),
            "",
            f"![optical vs electronic]({versus})",
            "",
        ]
    return out


Section = Callable[[RunRecord, ReportData, Path], list[str]]
SECTIONS: list[Section] = [
    _front_section,
    _rounds_section,
    _partitions_section,
    _constraints_section,
    _optical_section,
]


def _write_replay_script(record: Any) -> None:
    """A run steered with ``agentnas steer`` (no chat, so no steering.txt): write its
    traced actions as RUN_DIR/steering.txt, which the reproduce command then replays."""
    from agentnas.graph.steering import SCRIPT_FILE, script_from_steers

    path = record.run_dir / SCRIPT_FILE
    if path.exists() or record.events_of("chat"):
        return
    script = script_from_steers(record.events_of("steer"))
    if script:
        write_text_atomic(path, script)


def _steered_note(record: Any) -> str:
    from agentnas.graph.steering import SCRIPT_FILE

    if not record.events_of("steer"):
        return "It was asked questions in a chat; they changed nothing."
    note = "It was steered; its steering is listed below and in `trace.jsonl`."
    if not (record.run_dir / SCRIPT_FILE).is_file():
        return f"{note} The command does not replay it."
    if record.events_of("chat"):
        return f"{note} The command replays the chat's lines that moved the run ({SCRIPT_FILE})."
    return f"{note} The command replays its actions at the same rounds ({SCRIPT_FILE})."


def write_report(run_dir: Path | str) -> Path:
    """Write ``RUN_DIR/report.md`` and ``RUN_DIR/plots/``; return the report's path."""
    record = load_run(run_dir)
    _write_replay_script(record)
    data = read_report_data(record)
    plots = record.run_dir / PLOTS_DIR
    cfg = record.config
    lines = [
        f"# agentnas run report: {record.run_dir.name}",
        "",
        f"{cfg.get('space')} / {cfg.get('dataset') or 'default dataset'} / "
        f"{cfg.get('hardware')}, objectives {', '.join(o.metric for o in data.objectives)}.",
        "",
        "Reproduce this run (same settings and seed, new folder):",
        "",
        "```",
        f"{record.command} --out {record.run_dir}-again",
        "```",
        "",
    ]
    if record.events_of("steer") or record.events_of("chat"):
        lines += [_steered_note(record), ""]
    lines += [*_headline(record, data), ""]
    for section in SECTIONS:
        body = section(record, data, plots)
        if body:
            lines += [*body, ""]
    lines += [
        "## Files",
        "",
        "`candidates.csv` every evaluation in order · `front.csv` the front · `rounds.csv` "
        "one row per round · `summary.json` final figures · `trace.jsonl` every decision "
        "(`agentnas trace`, `agentnas why`). CSV values have 4 significant digits; the "
        "trace keeps them whole.",
    ]
    path = record.run_dir / "report.md"
    write_text_atomic(path, "\n".join(lines) + "\n")
    return path
