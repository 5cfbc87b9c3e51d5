"""``agentnas why``: answers name the run's real cells, agree with candidates.csv and
front.csv, reach the same target from plain words, and change nothing in the run folder."""

from __future__ import annotations

import csv
import hashlib
import json

import pytest

from agentnas.cli import main
from agentnas.graph.run_record import load_run
from agentnas.graph.why import answer, question_target, why
from agentnas.tools.errors import UserError


@pytest.fixture
def run_dir(small_run):
    return small_run


def _rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def _digest(d):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(d.iterdir())
        if p.is_file()
    }


def test_front_members_are_front_csv_rows_in_order(run_dir):
    front = [r["arch"] for r in _rows(run_dir / "front.csv")]
    assert front
    for n, arch in enumerate(front, start=1):
        ans = why(run_dir, f"f{n}")
        assert ans.kind == "cell" and ans.target == arch
        assert ans.data["cell"]["front"] == f"f{n}"


def test_cell_lineage_names_parents_and_ends_at_seeds(run_dir):
    rows = _rows(run_dir / "candidates.csv")
    designed = [r for r in rows if r["parents"]]
    assert designed
    record = load_run(run_dir)
    for r in designed:
        ans = answer(record, r["arch"])
        for parent in r["parents"].split(";"):
            assert parent in ans.text  # the parents are named
        ancestors = ans.data["ancestors"]
        assert {a["arch"] for a in ancestors} >= set(r["parents"].split(";"))
        # every ancestor without parents is a seed, and the seeds are listed
        roots = [a["arch"] for a in ancestors if not a["parents"]]
        assert roots and set(roots) == set(ans.data["seeds"])
        assert all(record.by_arch[a]["operator"] == "seed" for a in roots)
        assert ans.data["cell"]["operator"] == r["operator"]
        assert ans.data["cell"]["designer"] == r["designer"]


def test_partition_answer_counts_match_candidates(run_dir):
    rows = _rows(run_dir / "candidates.csv")
    record = load_run(run_dir)
    for p in record.partitions:
        ans = answer(record, f"p{p['id']}")
        mine = [r for r in rows if r["partition"] == str(p["id"])]
        assert ans.data["evaluations"] == len(mine)
        best = ans.data["best"]["accuracy"]
        if mine:
            top = max(float(r["accuracy"]) for r in mine)
            assert float(record.by_arch[best]["metrics"]["accuracy"]) == pytest.approx(
                top, rel=1e-3
            )
            assert best in ans.text
        assert "what limits it" in ans.text


def test_round_answer_lists_its_cells(run_dir):
    rows = _rows(run_dir / "candidates.csv")
    record = load_run(run_dir)
    for r in record.rounds:
        n = int(r["round"])
        ans = answer(record, f"r{n}")
        assert ans.data["new_cells"] == [x["arch"] for x in rows if x["round"] == str(n)]
        assert ans.data["evaluations_after"] == r["evaluations"]
        assert ans.data["front_after"] == r["front_size"]
    assert "partitions on" in answer(record, "r0").text


@pytest.mark.parametrize("bad", ["f0", "f999", "p99", "r99", "zz", "|nor_conv_3x3~0|", ""])
def test_unknown_target_is_refused_with_the_valid_forms(run_dir, bad):
    with pytest.raises(UserError, match=r"unknown target .*f1\.\.f\d+.*p0\.\.p\d+.*r0\.\.r\d+"):
        why(run_dir, bad)


def test_cli_unknown_target_one_line_exit_2(run_dir, capsys):
    assert main(["why", str(run_dir), "p99"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "p0..p" in err


def test_cli_json_and_nothing_changes(run_dir, capsys):
    before = _digest(run_dir)
    capsys.readouterr()
    assert main(["why", str(run_dir), "f1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "cell" and data["text"].startswith("f1 ")
    for t in ("p0", "r1"):
        assert main(["why", str(run_dir), t]) == 0
    assert _digest(run_dir) == before


def test_cli_refuses_a_folder_without_trace(tmp_path, capsys):
    assert main(["why", str(tmp_path), "f1"]) == 2
    assert "trace.jsonl" in capsys.readouterr().err


def test_question_words_reach_the_same_target(run_dir):
    record = load_run(run_dir)
    arch = record.cells[-1]["arch"]
    cases = {
        "why was f2 chosen?": "f2",
        "why is partition 5 so slow?": "p5",
        "what happened in round 2": "r2",
        "why p3": "p3",
        f"why was {arch} chosen?": arch,
    }
    for text, target in cases.items():
        assert question_target(text, record) == target, text
    for text in ("hello there", "thanks!", "keep latency under 3 ms", "hwo are yuo"):
        assert question_target(text, record) is None, text


QUESTIONS = [
    "why was f1 chosen?",
    "why was f2 chosen",
    "Why is f3 on the front?",
    "where does front member 4 come from?",
    "why is partition 0 so slow?",
    "what limits partition 1?",
    "why is p2 behind?",
    "how is partition 3 doing",
    "what about partition 4?",
    "why is partition 5 so slow?",
    "what happened in round 0?",
    "what changed in round 1",
    "why did round 2 go that way?",
    "explain round 3",
    "what did r1 do?",
    "why p4?",
    "tell me about f1",
    "lineage of f2 please",
    "why was {cell} chosen?",
    "where does {cell} come from",
]
NON_ACTIONS = [
    "hello",
    "thanks!",
    "ok",
    "hmm",
    "lol",
    "what?",
    "good job",
    "nice",
    "whatever",
    "???",
    "hwo are yuo",
    "teh fornt",
    "lattency pls",
    "asdf",
    "",
    "   ",
    "yes",
    "no",
    "cool",
    ":)",
]


def test_twenty_questions_name_real_cells_and_change_nothing(run_dir):
    record = load_run(run_dir)
    cell = record.cells[-1]["arch"]
    before = _digest(run_dir)
    for q in QUESTIONS:
        q = q.format(cell=cell)
        target = question_target(q, record)
        assert target is not None, q
        ans = answer(record, target)
        named = [a for a in record.by_arch if a in ans.text]
        assert named, (q, ans.text)
    for text in NON_ACTIONS:
        assert question_target(text, record) is None, text
    assert _digest(run_dir) == before
