"""``table:PATH``: a user's CSV, validated row by row with one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agentnas.tools.errors import UserError
from agentnas.tools.hardware.registry import get_backend
from agentnas.tools.spaces.nb201 import all_cells, index_to_cell

ARCH0 = index_to_cell(0)
ARCH5 = index_to_cell(5)


def write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def refused(path: Path | str) -> str:
    with pytest.raises(UserError) as info:
        get_backend(f"table:{path}")
    message = str(info.value)
    assert "\n" not in message
    return message


def test_string_and_index_keys_with_extra_columns(tmp_path: Path) -> None:
    spaced = f"  {ARCH5}  "  # same cell, padded: still valid
    path = write(
        tmp_path,
        "arch_str,arch_idx,latency_ms,energy_mj,note\n"
        f"{ARCH0},,1.5,2.25,first\n"
        f",7,3.0,4.0,by index\n"
        f"{spaced},5,0.0,0.5,both agree\n",
    )
    backend = get_backend(f"table:{path}")
    assert backend.metrics == ("latency_ms", "energy_mj")
    assert backend.spaces == ("nb201",)
    assert backend.evaluate(ARCH0) == {"latency_ms": 1.5, "energy_mj": 2.25}
    assert backend.evaluate(" " + index_to_cell(7)) == {"latency_ms": 3.0, "energy_mj": 4.0}
    assert backend.evaluate_many([ARCH5, ARCH0]) == [
        {"latency_ms": 0.0, "energy_mj": 0.5},
        {"latency_ms": 1.5, "energy_mj": 2.25},
    ]
    with pytest.raises(UserError, match=r"not in 'table:.*which holds 3 of 15625 cells"):
        backend.evaluate(index_to_cell(1))
    with pytest.raises(UserError, match="holds 3 of 15625 cells"):
        backend.all_values("latency_ms")
    with pytest.raises(UserError, match="malformed"):
        backend.evaluate("|nor_conv_3x3~0|")


def test_full_table_gives_all_values_in_index_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    latency = rng.uniform(1, 10, 15625)
    order = rng.permutation(15625)  # rows in any order
    lines = ["arch_idx,latency_ms"] + [f"{i},{float(latency[i])!r}" for i in order]
    backend = get_backend(f"table:{write(tmp_path, chr(10).join(lines))}")
    values = backend.all_values("latency_ms")
    assert np.array_equal(values, latency)
    assert backend.evaluate(all_cells()[42])["latency_ms"] == latency[42]
    with pytest.raises(UserError, match="no data for energy_mj; it provides: latency_ms"):
        backend.require(["energy_mj"])


def test_missing_file(tmp_path: Path) -> None:
    message = refused(tmp_path / "nope.csv")
    assert "does not exist" in message and "arch_str" in message and "latency_ms" in message


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\x00\x81arch\x00")
    assert "cannot read" in refused(path)
    assert "cannot read" in refused(write(tmp_path, "", "empty.csv"))


@pytest.mark.parametrize(
    "body", ["arch_idx,latency_ms\n0,1,2\n", "arch_idx,latency_ms\n0,1\n1,2,3\n"]
)
def test_rows_longer_than_the_header_are_refused(tmp_path: Path, body: str) -> None:
    assert "cannot read" in refused(write(tmp_path, body))


def test_short_row_is_an_empty_value(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "arch_idx,latency_ms\n0,1\n1\n"))
    assert "row 2: column latency_ms is empty/NaN" in message


def test_no_path(tmp_path: Path) -> None:
    assert "table:PATH needs a path" in refused("")


def test_no_key_column(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "cell,latency_ms\nx,1\n"))
    assert "no arch_str or arch_idx column" in message and "columns: cell, latency_ms" in message


def test_no_metric_column(tmp_path: Path) -> None:
    message = refused(write(tmp_path, f"arch_str,latency\n{ARCH0},1\n"))
    assert "no metric column" in message and "latency_ms and/or energy_mj" in message


def test_header_only(tmp_path: Path) -> None:
    assert "no rows" in refused(write(tmp_path, "arch_idx,latency_ms\n"))


def test_malformed_architecture_names_the_row(tmp_path: Path) -> None:
    message = refused(write(tmp_path, f"arch_str,latency_ms\n{ARCH0},1\n|conv~0|,2\n"))
    assert "row 2: unknown architecture" in message and "malformed NB201 cell string" in message


def test_index_out_of_range_names_the_row(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "arch_idx,latency_ms\n0,1\n1,1\n15625,2\n"))
    assert "row 3: arch_idx 15625 is out of range 0..15624" in message
    assert "row 1: arch_idx 'x' is not an integer" in refused(
        write(tmp_path, "arch_idx,latency_ms\nx,1\n", "b.csv")
    )
    assert "row 1: arch_idx '2.5' is not an integer" in refused(
        write(tmp_path, "arch_idx,latency_ms\n2.5,1\n", "c.csv")
    )


def test_row_without_architecture(tmp_path: Path) -> None:
    message = refused(write(tmp_path, f"arch_str,arch_idx,latency_ms\n{ARCH0},,1\n,,2\n"))
    assert "row 2: no architecture" in message


def test_string_and_index_that_disagree(tmp_path: Path) -> None:
    message = refused(write(tmp_path, f"arch_str,arch_idx,latency_ms\n{ARCH0},3,1\n"))
    assert "row 1: arch_str is NB201 index 0 but arch_idx says 3" in message


def test_duplicate_rows(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "arch_idx,latency_ms\n4,1\n9,1\n4,2\n"))
    assert "rows 1 and 3 are the same cell" in message and "NB201 index 4" in message


def test_duplicate_by_string_and_by_index(tmp_path: Path) -> None:
    message = refused(
        write(tmp_path, f"arch_str,arch_idx,latency_ms\n,0,1\n{ARCH5},,2\n {ARCH0} ,,3\n")
    )
    assert "rows 1 and 3 are the same cell" in message and ARCH0 in message


def test_non_numeric_value_names_row_and_column(tmp_path: Path) -> None:
    message = refused(write(tmp_path, "arch_idx,latency_ms,energy_mj\n0,1,2\n1,fast,2\n"))
    assert "row 2: column latency_ms has non-numeric value 'fast'" in message


@pytest.mark.parametrize("blank", ["", "NaN", "nan", "NA"])
def test_nan_or_empty_names_row_and_column(tmp_path: Path, blank: str) -> None:
    message = refused(write(tmp_path, f"arch_idx,latency_ms,energy_mj\n0,1,2\n1,1,{blank}\n"))
    assert "row 2: column energy_mj is empty/NaN" in message


def test_negative_and_infinite_values(tmp_path: Path) -> None:
    assert "row 1: column latency_ms has negative value '-1'" in refused(
        write(tmp_path, "arch_idx,latency_ms\n0,-1\n")
    )
    assert "non-finite value 'inf'" in refused(
        write(tmp_path, "arch_idx,latency_ms\n0,inf\n", "b.csv")
    )


def test_errors_are_distinct(tmp_path: Path) -> None:
    """Each defect has its own message, so a user can tell them apart."""
    bodies = [
        "cell,latency_ms\nx,1\n",
        f"arch_str,lat\n{ARCH0},1\n",
        "arch_idx,latency_ms\n99999,1\n",
        "arch_idx,latency_ms\n1,1\n1,1\n",
        "arch_idx,latency_ms\n1,abc\n",
        "arch_idx,latency_ms\n1,\n",
    ]
    messages = {
        refused(write(tmp_path, b, f"{k}.csv")).split(": ", 1)[1] for k, b in enumerate(bodies)
    }
    assert len(messages) == len(bodies)
