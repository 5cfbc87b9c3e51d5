"""Evaluation reuse: earlier runs' measured cells as data for this run's model.

A heuristic is knowledge about operations and edges; a table of cells with their
accuracies is data. The two are kept apart: ``--reuse-evaluations RUN_DIR[,RUN_DIR…]``
(off by default) reads earlier runs' ``candidates.csv`` and hands their cells to the
Designers as *reused* points. They feed the accuracy model only: they are not
evaluations of this run, do not count against its budget, never join its fronts, and a
Designer may still propose one (then it is evaluated and counted like any other cell).

What is taken from a run: table accuracy when both runs search the same space and
dataset with table accuracy (the benchmark's accuracy is the same on every device); every
other metric only when the hardware, its options and the accuracy source are the same too.
The cells are copied into ``RUN_DIR/reused.csv`` at the start (column ``source`` names the
run), so a resume does not depend on the earlier folders, and ``summary.json`` reports them
apart from the heuristics (``reused_evaluations``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from agentnas.graph.config import RunConfig
from agentnas.tools.csv_units import metrics_from_row
from agentnas.tools.errors import UserError

REUSED_NAME = "reused.csv"
TRANSFERABLE = ("accuracy",)
"""Metrics that hold on every device (table accuracy): reused across hardware."""


def _dataset(cfg: dict[str, Any] | RunConfig) -> str:
    from agentnas.tools.spaces.registry import get_space

    get = cfg.get if isinstance(cfg, dict) else lambda k, d=None: getattr(cfg, k, d)
    space = str(get("space") or "")
    return str(get("dataset") or get_space(space).datasets[0])


def _source_config(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"--reuse-evaluations {run_dir}: not a run folder (no config.json)"
        ) from None
    except (OSError, ValueError) as exc:
        raise UserError(f"--reuse-evaluations {run_dir}: config.json unreadable ({exc})") from None
    if not isinstance(data, dict) or "space" not in data:
        raise UserError(f"--reuse-evaluations {run_dir}: config.json is not a run's settings")
    return data


def _metrics_taken(src: dict[str, Any], cfg: RunConfig) -> tuple[str, ...] | None:
    """Which metrics of ``src``'s cells hold for ``cfg`` (None: every metric)."""
    if src.get("space") != cfg.space:
        raise UserError(
            f"--reuse-evaluations: a run of space '{src.get('space')}' cannot inform a "
            f"search of '{cfg.space}'"
        )
    if _dataset(src) != _dataset(cfg):
        raise UserError(
            f"--reuse-evaluations: a run on dataset '{_dataset(src)}' cannot inform a search "
            f"on '{_dataset(cfg)}'"
        )
    same_device = (
        src.get("hardware") == cfg.hardware
        and (src.get("backend_options") or {}) == cfg.backend_options
        and src.get("accuracy", "table") == cfg.accuracy
    )
    if same_device:
        return None
    if src.get("accuracy", "table") == "table" == cfg.accuracy:
        return TRANSFERABLE
    return ()


def load_reused(paths: list[str], cfg: RunConfig) -> list[dict[str, Any]]:
    """The reusable cells of the runs at ``paths``: ``{"arch", "metrics", "source"}``,
    first occurrence of a cell kept, failed or infeasible rows skipped. Bad folders raise
    :class:`UserError` (one line) before anything is written."""
    out: dict[str, dict[str, Any]] = {}
    for raw in paths:
        run_dir = Path(raw)
        if not run_dir.is_dir():
            raise UserError(f"--reuse-evaluations {raw}: no such run folder")
        src = _source_config(run_dir)
        taken = _metrics_taken(src, cfg)
        if taken == ():
            continue
        try:
            with (run_dir / "candidates.csv").open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
        except OSError as exc:
            raise UserError(
                f"--reuse-evaluations {raw}: no candidates.csv ({exc.strerror})"
            ) from None
        for row in rows:
            if row.get("status", "ok") != "ok" or not row.get("arch"):
                continue
            metrics = metrics_from_row(
                {k: v for k, v in row.items() if k not in ("order", "round", "partition")},
                cfg.space,
            )
            if taken is not None:
                metrics = {k: v for k, v in metrics.items() if k in taken}
            if metrics:
                cell = {"arch": row["arch"], "metrics": metrics, "source": raw}
                out.setdefault(row["arch"], cell)
    return list(out.values())


def write_reused(run_dir: Path, cells: list[dict[str, Any]]) -> None:
    """``RUN_DIR/reused.csv``: one row per reused cell, its source run and its metrics."""
    names = sorted({k for c in cells for k in c["metrics"]})
    with (run_dir / REUSED_NAME).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["arch", "source", *names])
        for c in cells:
            w.writerow([c["arch"], c["source"], *(c["metrics"].get(n, "") for n in names)])


def read_reused(run_dir: Path) -> list[dict[str, Any]]:
    """The cells :func:`write_reused` stored (empty when the run reuses nothing)."""
    path = run_dir / REUSED_NAME
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        metrics = {k: float(v) for k, v in r.items() if k not in ("arch", "source") and v}
        out.append({"arch": r["arch"], "metrics": metrics, "source": r["source"]})
    return out


def reuse_summary(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """What ``summary.json`` says of the reused cells (separately from heuristics)."""
    return {
        "cells": len(cells),
        "from": sorted({c["source"] for c in cells}),
        "metrics": sorted({k for c in cells for k in c["metrics"]}),
        "note": "earlier runs' measured cells, data for the accuracy model only: not "
        "evaluations of this run, not on its front, not in its budget",
    }
