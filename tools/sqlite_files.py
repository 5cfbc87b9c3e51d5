"""Checks on an SQLite file before anyone opens it for writing.

SQLite opens an empty file as a new database and writes its schema into it, and it
silently ignores a write-ahead log (``-wal``) whose header or frames fail their checksums,
which rolls the database back by as many commits as the damage hides. Both would turn a
damaged checkpoint or knowledge base into a different, plausible one. These checks read
the bytes (and, for the quick check, open the file with ``mode=ro``), so they never change
the file they look at.

A ``kill -9`` never leaves a bad WAL frame behind: the kernel keeps every byte a process
wrote. A frame that carries the log's current salts but fails its checksum is therefore
damage, not an interrupted write, and is refused.
"""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

from agentnas.tools.errors import UserError

SQLITE_HEADER = b"SQLite format 3\x00"
_WAL_MAGIC = (0x377F0682, 0x377F0683)  # checksums in little- / big-endian words
_WAL_HEADER = 32
_FRAME_HEADER = 24


def check_sqlite(db: Path, what: str, fix: str, *, tables: tuple[str, ...] = ()) -> None:
    """Raise :class:`UserError` (one line: ``what`` is …; ``fix``) when ``db`` is empty,
    not SQLite, truncated, has a damaged WAL, fails ``PRAGMA quick_check`` or lacks one
    of ``tables``. A missing file is not checked."""
    if not db.exists():
        return
    size = db.stat().st_size
    if size == 0:
        raise UserError(f"{what} is unreadable (empty: 0 bytes, not a new database); {fix}")
    with db.open("rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_HEADER):
        raise UserError(f"{what} is unreadable (not an SQLite database: damaged header); {fix}")
    wal = db.with_name(db.name + "-wal")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    in_step = header[92:96] == header[24:28]  # the header's page count is current
    if in_step and size < pages * page_size and not wal.exists():
        raise UserError(
            f"{what} is unreadable (truncated: {size} of {pages * page_size} bytes); {fix}"
        )
    damage = wal_damage(wal) if wal.exists() else None
    if damage:
        raise UserError(f"{what} is unreadable (write-ahead log {wal.name}: {damage}); {fix}")
    _quick_check(db, what, fix, tables)


def _quick_check(db: Path, what: str, fix: str, tables: tuple[str, ...]) -> None:
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        try:
            found = conn.execute("PRAGMA quick_check").fetchone()
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise UserError(f"{what} is unreadable ({exc}); {fix}") from None
    if not found or found[0] != "ok":
        detail = " ".join(str(found[0]).split())[:200] if found else "no answer"
        raise UserError(f"{what} is unreadable (damaged: {detail}); {fix}")
    missing = [t for t in tables if t not in names]
    if missing:
        raise UserError(f"{what} is unreadable (no table {', '.join(missing)}); {fix}")


def _checksum(data: bytes, s0: int, s1: int, big: bool) -> tuple[int, int]:
    words = struct.unpack((">" if big else "<") + f"{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def wal_damage(wal: Path) -> str | None:
    """Why the WAL is damaged, or ``None`` when SQLite would read every frame it wrote.

    Frames of an older generation (other salts, left after SQLite restarted the log) are
    normal; a bad log header, or a frame with the current salts whose checksum fails, is
    damage."""
    data = wal.read_bytes()
    if len(data) == 0:
        return None
    if len(data) < _WAL_HEADER:
        return f"{len(data)}-byte header"
    magic, _version, page_size, _ckpt, salt1, salt2, c0, c1 = struct.unpack(">8I", data[:32])
    if magic not in _WAL_MAGIC:
        return "bad header"
    big = magic == _WAL_MAGIC[1]
    s0, s1 = _checksum(data[:24], 0, 0, big)
    if (s0, s1) != (c0, c1) or not page_size:
        return "header checksum fails"
    frame = _FRAME_HEADER + page_size
    offset, valid = _WAL_HEADER, True
    while offset + frame <= len(data):
        head = data[offset : offset + _FRAME_HEADER]
        f_salt1, f_salt2, f0, f1 = struct.unpack(">4I", head[8:24])
        current = (f_salt1, f_salt2) == (salt1, salt2)
        if valid:
            t0, t1 = _checksum(head[:8], s0, s1, big)
            t0, t1 = _checksum(data[offset + _FRAME_HEADER : offset + frame], t0, t1, big)
            if current and (t0, t1) == (f0, f1):
                s0, s1 = t0, t1
            else:
                valid = False
                if current:
                    return f"frame at byte {offset} fails its checksum"
        elif current:
            return f"frame at byte {offset} follows a broken one"
        offset += frame
    return None
