"""`agentnas kb …` end to end through `agentnas.cli.main` on a real Chroma folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agentnas.cli import main
from agentnas.memory.knowledge_base import KnowledgeBase

RULE = "Cells with many nor_conv_3x3 operations have high latency on the FPGA"
SCOPE = ["--space", "nb201", "--hardware", "hwnasbench:fpga"]


def _add(kb: Path, capsys: pytest.CaptureFixture[str], *extra: str, text: str = RULE) -> str:
    assert main(["kb", "--kb", str(kb), "add", text, *SCOPE, *extra]) == 0
    out = capsys.readouterr().out
    match = re.search(r"(added|merged into existing) (h[0-9a-f]{8})", out)
    assert match, out
    return match.group(2)


def test_add_then_list_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = tmp_path / "kb"
    hid = _add(kb, capsys, "--partition", "2", "--negative", "--round", "3")

    assert main(["kb", "--kb", str(kb), "list"]) == 0
    listed = capsys.readouterr().out
    assert hid in listed and "nor_conv_3x3" in listed and "p2" in listed

    # --kb also works after the subcommand; another partition's view does not show it.
    assert main(["kb", "list", "--kb", str(kb), "--partition", "1"]) == 0
    assert hid not in capsys.readouterr().out

    assert main(["kb", "--kb", str(kb), "show", hid]) == 0
    shown = capsys.readouterr().out
    assert "negative" in shown and "hwnasbench:fpga" in shown and "last round" in shown

    with KnowledgeBase(kb, create=False) as base:
        stored = base.get(hid)
    assert (stored.scope.partition, stored.polarity, stored.created_round) == (2, "negative", 3)
    assert stored.source == "user"


def test_adding_a_rewording_merges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = tmp_path / "kb"
    first = _add(kb, capsys)
    assert main(["kb", "--kb", str(kb), "add", RULE + ".", *SCOPE]) == 0
    out = capsys.readouterr().out
    assert f"merged into existing {first}" in out


def test_rm_unknown_id_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = tmp_path / "kb"
    hid = _add(kb, capsys)
    assert main(["kb", "--kb", str(kb), "rm", "h00000000"]) == 2
    err = capsys.readouterr().err
    assert "no heuristic with id 'h00000000'" in err and len(err.strip().splitlines()) == 1
    assert main(["kb", "--kb", str(kb), "show", "nope"]) == 2
    capsys.readouterr()

    assert main(["kb", "--kb", str(kb), "rm", hid]) == 0
    assert hid in capsys.readouterr().out
    assert main(["kb", "--kb", str(kb), "list"]) == 0
    assert "no heuristics" in capsys.readouterr().out


def test_read_commands_refuse_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    for command in (["list"], ["show", "h1"], ["export"]):
        assert main(["kb", "--kb", str(missing), *command]) == 2
        assert "no knowledge base" in capsys.readouterr().err
    assert not missing.exists()


def test_export_and_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = tmp_path / "kb"
    hid = _add(kb, capsys, "--round", "1")
    _add(kb, capsys, "--partition", "0", text="Skip connections help small cells")

    assert main(["kb", "--kb", str(kb), "export"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 2 and hid in {r["id"] for r in records}

    out = tmp_path / "exports" / "kb.json"
    assert main(["kb", "--kb", str(kb), "export", "--out", str(out)]) == 0
    capsys.readouterr()
    assert json.loads(out.read_text()) == records
    assert [p.name for p in out.parent.iterdir()] == ["kb.json"]  # no temp file left

    copy = tmp_path / "copy"
    assert main(["kb", "--kb", str(copy), "import", str(out)]) == 0
    assert "imported 2" in capsys.readouterr().out
    assert main(["kb", "--kb", str(copy), "export"]) == 0
    # the same records, their claims now marked as imported (who wrote them stays in source)
    moved = [
        {**r, "claim": {**r["claim"], "source": "imported"}} if r.get("claim") else r
        for r in records
    ]
    assert json.loads(capsys.readouterr().out) == moved
    assert any(r.get("claim") for r in records)  # "nor_conv_3x3" is named: a claim

    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert main(["kb", "--kb", str(copy), "import", str(garbage)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_invalid_scope_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb = tmp_path / "kb"
    assert main(["kb", "--kb", str(kb), "add", RULE, "--space", " ", "--hardware", "x"]) == 2
    assert "--space" in capsys.readouterr().err


def test_brackets_in_a_rule_are_text_not_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rules come from users and LLMs; "[/x]" must print as written, not crash rich."""
    kb = tmp_path / "kb"
    text = "prefer [bold]skip[/] at edge [3<-2] and [/x] near the output"
    hid = _add(kb, capsys, text=text)
    assert main(["kb", "--kb", str(kb), "show", hid]) == 0
    assert text in capsys.readouterr().out
    assert main(["kb", "--kb", str(kb), "list"]) == 0
    assert "[/x]" in capsys.readouterr().out
    assert main(["kb", "--kb", str(kb), "rm", hid]) == 0
    assert text in capsys.readouterr().out.replace("\n", "")
