"""Atomic file writes: a reader (or a crash) sees the old file or the new one, never half.

Every file a run writes (CSV, JSON, caches) goes through here: write to a temporary file
in the same folder, flush and fsync, then ``os.replace``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any


def write_bytes_atomic(path: Path | str, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path | str, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path | str, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, default=str) + "\n")


SIGNIFICANT_DIGITS = 4


def round_sig(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``value`` to ``digits`` significant digits, never dropping digits before the point
    (15625.3 -> 15625, 89.52999999999999 -> 89.53, 0.000123456 -> 0.0001235). A value
    that holds fewer digits comes back unchanged; nan and inf too."""
    if not math.isfinite(value) or value == 0:
        return value
    magnitude = math.floor(math.log10(abs(value))) + 1  # digits before the point
    return round(value, max(digits - magnitude, 0))


def csv_cell(value: Any) -> Any:
    """What a CSV holds for ``value``: floats rounded (:func:`round_sig`), other values
    as given."""
    if isinstance(value, float) and not isinstance(value, bool):
        return round_sig(value)
    return value


def write_csv_atomic(
    path: Path | str, header: Sequence[str], rows: Iterable[Sequence[Any]], *, exact: bool = False
) -> None:
    """A CSV, its floats rounded to 4 significant digits (``exact=True`` keeps them whole,
    for files a program reads back rather than a person)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows if exact else ([csv_cell(v) for v in row] for row in rows))
    write_text_atomic(path, buf.getvalue())
