"""Pathological model answers are reasons to repair, never exceptions out of the parser,
and the trace stays writable and bounded whatever an answer holds."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import BaseModel

from agentnas.agents.structured import MAX_ANSWER_CHARS, extract_json, parse_answer
from agentnas.graph.trace import MAX_FIELD_CHARS, TraceWriter, read_trace


class Answer(BaseModel):
    cells: list[str]


@pytest.mark.parametrize(
    "text",
    [
        "[" * 1000,
        "{" * 5000,
        '{"a":' * 3000,
        "[" * 100_000,
        "x" * (MAX_ANSWER_CHARS + 1),
        "\x00\x00{\x00",
        "{} " * 30_000,
    ],
)
def test_garbage_is_a_reason(text: str) -> None:
    model, reasons = parse_answer(text, Answer, list_field="cells")
    assert model is None
    assert reasons and all(isinstance(r, str) and len(r) < 500 for r in reasons)


def test_extraction_is_fast_on_long_answers() -> None:
    text = "{[" * 50_000  # 100k characters, every one a possible JSON start
    t0 = time.perf_counter()
    value, reason = extract_json(text)
    elapsed = time.perf_counter() - t0
    assert value is None and reason
    assert elapsed < 1.0, elapsed


def test_lone_surrogate_is_cleaned_and_traceable(tmp_path) -> None:
    text = '{"cells": ["\\ud800|nor_conv_3x3~0|"]}'
    model, reasons = parse_answer(text, Answer)
    assert reasons == []
    assert model is not None
    model.cells[0].encode("utf-8")  # must not raise
    writer = TraceWriter(tmp_path / "trace.jsonl")
    writer.write("answer", raw=json.loads(text)["cells"][0], parsed=model.cells)
    (rec,) = read_trace(tmp_path / "trace.jsonl")
    assert rec["parsed"][0].endswith("|nor_conv_3x3~0|")
    assert "\ufffd" in rec["raw"]


def test_trace_line_is_capped(tmp_path) -> None:
    writer = TraceWriter(tmp_path / "trace.jsonl")
    writer.write("answer", raw="y" * 1_000_000)
    size = (tmp_path / "trace.jsonl").stat().st_size
    assert size < MAX_FIELD_CHARS
    (rec,) = read_trace(tmp_path / "trace.jsonl")
    assert "1000000 characters" in rec["raw"]
