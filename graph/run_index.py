"""Run folders under a directory (default ``runs/``): which there are, their settings and
headline figures, and the latest one (``agentnas runs``, ``agentnas kb list`` without
``--kb``). Reads only small files (config, summary, rounds.csv), never the trace."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from agentnas.tools.errors import UserError

DEFAULT_RUNS_DIR = Path("runs")


def is_run_folder(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").exists()


def run_folders(root: Path | str = DEFAULT_RUNS_DIR) -> list[Path]:
    """Run folders in ``root`` and one level below (bench folders hold runs), oldest
    first by the time their config was written. ``root`` itself counts when it is one."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root} is not a folder; give the folder that holds run folders")
    if is_run_folder(root):
        return [root]
    found = [p for p in root.iterdir() if is_run_folder(p)]
    for sub in root.iterdir():
        if sub.is_dir() and not is_run_folder(sub):
            found += [p for p in sub.iterdir() if is_run_folder(p)]
    return sorted(found, key=lambda p: ((p / "config.json").stat().st_mtime, str(p)))


def latest_run(root: Path | str = DEFAULT_RUNS_DIR) -> Path | None:
    root = Path(root)
    if not root.is_dir():
        return None
    folders = run_folders(root)
    return folders[-1] if folders else None


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _last_round(path: Path) -> dict[str, str]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return {}
    return rows[-1] if rows else {}


def run_row(path: Path) -> dict[str, Any]:
    """Settings and headline figures of one run folder (a damaged file reads as missing)."""
    cfg, summary = _json(path / "config.json"), _json(path / "summary.json")
    last = _last_round(path / "rounds.csv")
    return {
        "run": str(path),
        "space": cfg.get("space"),
        "hardware": cfg.get("hardware"),
        "llm": cfg.get("llm"),
        "seed": cfg.get("seed"),
        "budget": cfg.get("budget"),
        "rounds": cfg.get("rounds"),
        "evaluations": summary.get("evaluations", last.get("evaluations")),
        "front": summary.get("front_size", last.get("front_size")),
        "hv_ratio": summary.get("hv_ratio", last.get("hv_ratio") or None),
        "igd": summary.get("igd", last.get("igd") or None),
        "state": "done" if summary else ("stopped" if last else "new"),
    }


def run_kb_dir(path: Path) -> Path:
    """The knowledge base a run used: its ``--kb`` folder, else its own ``kb/``."""
    kb = _json(path / "config.json").get("kb_dir")
    return Path(kb) if kb else path / "kb"
