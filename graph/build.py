"""Wiring: the StateGraph and its SQLite checkpointer.

partition → seed → select → steer → design[p] (Send) → refill → select → reflect →
steer → … → report. ``select`` decides when the budget or the rounds are spent; ``steer``
either fans out one Designer per partition or goes to ``report``; ``refill`` sends a
share that barren partitions left unused back to ``design`` (other partitions).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from agentnas.graph import nodes
from agentnas.graph.context import RunContext
from agentnas.graph.state import SearchState
from agentnas.tools.errors import UserError

CHECKPOINT_FILE = "checkpoints.sqlite"
THREAD = {"configurable": {"thread_id": "run"}}


def open_checkpointer(run_dir: Path) -> SqliteSaver:
    path = Path(run_dir) / CHECKPOINT_FILE
    try:
        conn = sqlite3.connect(str(path), check_same_thread=False)
    except sqlite3.Error as exc:
        raise UserError(f"cannot open checkpoint database {path} ({exc})") from None
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        saver = SqliteSaver(conn)
        saver.setup()
        conn.execute("SELECT count(*) FROM checkpoints").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()  # closing also removes the -wal/-shm files it made
        raise UserError(
            f"checkpoint database {path} is unreadable ({exc}); start a new run or restore the file"
        ) from None
    return saver


def build_graph(checkpointer: SqliteSaver | None) -> Any:
    """The compiled graph; run it with ``invoke(..., context=RunContext(...))``."""
    g = StateGraph(SearchState, context_schema=RunContext)
    g.add_node("partition", nodes.partition_node)
    g.add_node("seed", nodes.seed_node)
    g.add_node("select", nodes.select_node)
    g.add_node("reflect", nodes.reflect_node)
    g.add_node("steer", nodes.steer_node)
    g.add_node("design", nodes.design_node)
    g.add_node("refill", nodes.refill_node)
    g.add_node("report", nodes.report_node)
    g.add_edge(START, "partition")
    g.add_edge("partition", "seed")
    g.add_edge("seed", "select")
    g.add_conditional_edges("select", nodes.route_after_select, ["steer", "reflect"])
    g.add_edge("reflect", "steer")
    g.add_conditional_edges("steer", nodes.route_after_steer, ["design", "report"])
    g.add_edge("design", "refill")
    g.add_conditional_edges("refill", nodes.route_after_design, ["design", "select"])
    g.add_edge("report", END)
    return g.compile(checkpointer=checkpointer)
