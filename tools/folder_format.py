"""Format versions of the folders agentnas writes: run folders and knowledge bases.

Each carries ``format.json`` (``{"kind": "run" | "kb", "version": N}``), written when the
folder is created. On opening, a folder of this version loads; one without the file was
written before versions were recorded, in today's layout, and loads too; any other
version (older, newer, or not a number) is refused with one line that names it and the
command that upgrades it (``agentnas upgrade DIR``). :func:`upgrade` brings a folder to
this version step by step (:data:`_STEPS`) and records it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentnas.tools.atomic_io import write_json_atomic
from agentnas.tools.errors import UserError

FORMAT_FILE = "format.json"
VERSIONS = {"run": 1, "kb": 1}  # the version this agentnas writes and reads
KIND_NAMES = {"run": "run folder", "kb": "knowledge base"}


def write_format(folder: Path, kind: str) -> None:
    """Record that ``folder`` holds a ``kind`` of today's version (atomic)."""
    write_json_atomic(Path(folder) / FORMAT_FILE, {"kind": kind, "version": VERSIONS[kind]})


def read_format(folder: Path) -> dict[str, Any] | None:
    """``format.json`` of ``folder`` (None without one); a damaged file is an unknown
    version, not a crash."""
    path = Path(folder) / FORMAT_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {"version": "unreadable"}
    return data if isinstance(data, dict) else {"version": repr(data)[:40]}


def folder_version(folder: Path, kind: str) -> Any:
    """The folder's format version: today's when it records none."""
    found = read_format(folder)
    return VERSIONS[kind] if found is None else found.get("version", "missing")


def check_format(folder: Path, kind: str) -> None:
    """Refuse a ``kind`` folder of another format version, in one line."""
    version = folder_version(folder, kind)
    if version == VERSIONS[kind] and not isinstance(version, bool):
        return
    raise UserError(
        f"{folder} is a {KIND_NAMES[kind]} of format version {version}; this agentnas "
        f"reads version {VERSIONS[kind]}; upgrade it with: agentnas upgrade {folder}"
    )


def _run_0_to_1(folder: Path) -> None:
    """Version 0 is today's layout without ``format.json``: check that its config.json is
    readable (a damaged one is refused, not marked as fine)."""
    path = folder / "config.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        if not isinstance(data, dict):
            raise UserError(f"{path} is not a JSON object; cannot upgrade {folder}")


def _kb_0_to_1(folder: Path) -> None:
    """Version 0 had no ``format.json``; the Chroma collection itself is unchanged."""


# (kind, from version) -> the step to the next version
_STEPS: dict[tuple[str, int], Callable[[Path], None]] = {
    ("run", 0): _run_0_to_1,
    ("kb", 0): _kb_0_to_1,
}


def detect_kind(folder: Path) -> str:
    """``run`` or ``kb`` from the folder's marker or its files, else a UserError."""
    found = read_format(folder) or {}
    if found.get("kind") in VERSIONS:
        return str(found["kind"])
    if (folder / "config.json").is_file() or (folder / "trace.jsonl").is_file():
        return "run"
    if (folder / "chroma.sqlite3").is_file():
        return "kb"
    raise UserError(f"{folder} is neither a run folder nor a knowledge base")


def upgrade(folder: Path | str) -> tuple[str, Any, int]:
    """Bring a run folder or KB to today's format; returns (kind, old version, new one).
    A folder with no marker is taken as version 0; a newer one is refused."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder; give a run folder or a knowledge base")
    kind = detect_kind(folder)
    found = read_format(folder)
    old = 0 if found is None else found.get("version")
    if isinstance(old, bool) or not isinstance(old, int) or old < 0:
        raise UserError(
            f"{folder} has format version {old!r}, which no agentnas wrote; cannot upgrade it"
        )
    if old > VERSIONS[kind]:
        raise UserError(
            f"{folder} is a {KIND_NAMES[kind]} of format version {old}, newer than this "
            f"agentnas (version {VERSIONS[kind]}); install a newer agentnas"
        )
    for version in range(old, VERSIONS[kind]):
        _STEPS[(kind, version)](folder)
    write_format(folder, kind)
    return kind, old, VERSIONS[kind]
