"""``agentnas bench search``: every method on every device, budget and seed, scored from
kept points, resumable, and refusing bad input before anything is written."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from agentnas.cli import main
from agentnas.tools.spaces.nb201 import all_cells, parse_cell


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "results.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def _user_table(path: Path) -> Path:
    """A latency table over every NB201 cell, made up here: convolutions cost, the rest
    nearly nothing (so the exact front exists and differs from HW-NAS-Bench's)."""
    cost = {"nor_conv_3x3": 2.0, "nor_conv_1x1": 0.7, "avg_pool_3x3": 0.2}
    lines = ["arch_idx,latency_ms"]
    for i, cell in enumerate(all_cells()):
        ops = parse_cell(cell)
        lines.append(f"{i},{1.0 + sum(cost.get(op, 0.0) for op in ops) + 0.01 * (i % 7):.3f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_bench_on_a_user_table_scores_resumes_and_plots(tmp_path, capsys):
    table = _user_table(tmp_path / "mine.csv")
    out = tmp_path / "bench"
    args = ["bench", "search", "--devices", f"table:{table}", "--budgets", "24",
            "--seeds", "2", "--rounds", "2", "--methods", "agent,agent-no-kb,random,nsga2@40",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    rows = _rows(out)
    keys = {(r["method"], r["budget"], r["seed"]) for r in rows}
    assert keys == {(m, b, s) for m, b in [("agent", "24"), ("agent-no-kb", "24"),
                    ("random", "24"), ("nsga2", "40")] for s in "01"}  # fmt: skip
    for r in rows:
        assert 0.0 < float(r["hv_ratio"]) <= 1.0 and float(r["igd"]) >= 0.0
        assert int(r["evaluations"]) == int(r["budget"])
    # a longer NSGA-II run covers the front at least as well as a short random search
    mean = {
        m: sum(float(r["hv_ratio"]) for r in rows if r["method"] == m) / 2
        for m in ("random", "nsga2")
    }
    assert mean["nsga2"] >= mean["random"] - 0.05
    md = (out / "results.md").read_text()
    assert "exact front of all 15,625 cells" in md and "agent-no-kb@24" in md
    assert "Wilcoxon" in md
    with (out / "curves.csv").open(newline="") as fh:
        curve = [r for r in csv.DictReader(fh) if r["method"] == "agent" and r["seed"] == "0"]
    assert [int(r["n"]) for r in curve] == [10, 20, 24]  # HV after every 10 and at the end
    assert all(float(a["hv_ratio"]) <= float(b["hv_ratio"]) for a, b in itertools.pairwise(curve))
    png = out / "hv_table-mine.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    points = out / "runs" / "random" / "table-mine" / "b24" / "s0" / "points.csv"
    assert len(points.read_text().splitlines()) == 25  # header + 24 evaluated cells

    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- bench:start (agentnas bench readme; do not edit by hand) -->"
                      "\nold\n<!-- bench:end -->\ntail\n")  # fmt: skip
    assert main(["bench", "readme", str(out), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old" not in text and text.endswith("<!-- bench:end -->\ntail\n")
    assert "`agentnas bench search" in text and "| agent@24 |" in text
    # a named section has its own markers and leaves the main one as it is
    main_part = text
    assert main(["bench", "readme", str(out), "--readme", str(readme), "--section", "k"]) == 0
    text = readme.read_text()
    assert text.startswith(main_part.rstrip("\n"))
    assert "<!-- bench:start k (agentnas bench readme --section k" in text
    assert text.rstrip().endswith("<!-- bench:end k -->")

    # resume: a job whose row is gone runs again, the others are kept as they are
    kept = [r for r in rows if not (r["method"] == "random" and r["seed"] == "1")]
    with (out / "results.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(kept)
    capsys.readouterr()
    assert main([*args, "--score-only"]) == 0  # scores what is there, starts nothing
    assert "7 of 8 runs already done; 0 to run" in capsys.readouterr().out
    assert len(_rows(out)) == 7
    assert main(args) == 0
    assert "7 of 8 runs already done; 1 to run" in capsys.readouterr().out
    again = {(r["method"], r["seed"]): r["hv_ratio"] for r in _rows(out)}
    assert again == {(r["method"], r["seed"]): r["hv_ratio"] for r in rows}


def test_three_objective_bench_on_pi5(tmp_path):
    out = tmp_path / "b3"
    args = ["bench", "search", "--devices", "hwnb360:pi5-onnx", "--budgets", "24", "--seeds",
            "1", "--rounds", "2", "--methods", "agent,random,nsga2", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    rows = _rows(out)
    assert {r["method"] for r in rows} == {"agent", "random", "nsga2"}
    assert all(0.0 < float(r["hv_ratio"]) <= 1.0 for r in rows)
    header = out / "runs" / "agent" / "hwnb360-pi5-onnx" / "b24" / "s0" / "points.csv"
    assert header.read_text().splitlines()[0] == "order,arch,accuracy,latency_ms,energy_mj"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--methods", "agent,simulated-annealing"], "unknown method 'simulated-annealing'"),
        (["--methods", ""], "--methods is empty"),
        (["--devices", "fpga,,eyeriss"], "--devices is empty or has an empty item"),
        (["--budgets", ""], "--budgets is empty"),
        (["--methods", "re", "--budgets", "12"], "below its initial sample of 20"),
        (["--methods", "agent", "--budgets", "8"], "below its initial sample of 12"),
        (["--devices", "table:/no/such/table.csv"], "table.csv"),
        (["--methods", "agent-warm", "--devices", "fpga"], "give >= 2"),
        (["--methods", "agent-reuse", "--devices", "fpga"], "give >= 2"),
        (["--methods", "agent-reuse@50", "--budgets", "100"], "add 'agent' at budget 50"),
        (["--methods", "agent-llm"], "needs an LLM"),
        (["--methods", "agent-no-partition@50", "--budgets", "100"], "add 'agent' at budget 50"),
        (["--methods", "nsga2@x"], "positive integer"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, capsys, extra, expected):
    out = tmp_path / "never"
    code = main(["bench", "search", "--seeds", "1", "--out", str(out), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert expected in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_unreadable_table_file(tmp_path, capsys):
    bad = tmp_path / "broken.csv"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    out = tmp_path / "never"
    code = main(["bench", "search", "--devices", f"table:{bad}", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "broken.csv" in err
    assert not out.exists()


def test_agent_llm_reports_its_calls_from_a_replayed_model(tmp_path):
    """``agent-llm`` runs with the bench's ``--llm``: here the replay of a run recorded
    with a scripted chat model, so its LLM calls are counted in results.csv."""
    import json

    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    from agentnas.agents.llm import ChatBackend
    from agentnas.graph.config import RunConfig
    from agentnas.graph.runner import start_run

    class Scripted(FakeMessagesListChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            text = json.dumps({"add": [], "revise": [], "retire": []})
            if "Designer" in str(messages[0].content):
                text = "no idea"  # refused: the offline operator fills in, and says so
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    llm = ChatBackend(Scripted(responses=[]), label="fake:scripted", backoff_s=0)
    recorded = tmp_path / "recorded"
    cfg = RunConfig(hardware="hwnasbench:fpga", budget=24, rounds=2, seed=0, max_repairs=0)
    start_run(cfg, recorded, llm=llm)
    out = tmp_path / "bench"
    args = ["bench", "search", "--devices", "fpga", "--budgets", "24", "--seeds", "1",
            "--rounds", "2", "--methods", "agent-llm,agent", "--out", str(out),
            "--llm", f"replay:{recorded / 'trace.jsonl'}"]  # fmt: skip
    assert main(args) == 0
    rows = {r["method"]: r for r in _rows(out)}
    assert int(rows["agent-llm"]["llm_calls"]) > 0 and int(rows["agent"]["llm_calls"]) == 0
    assert 0.0 < float(rows["agent-llm"]["hv_ratio"]) <= 1.0


def test_agent_reuse_carries_heuristics_and_evaluations(tmp_path):
    """agent-reuse on each device starts from the other device's agent run: its heuristics
    in the KB and its cells (table accuracy only) in reused.csv, not in its own budget."""
    out = tmp_path / "b"
    code = main(
        [
            "bench", "search", "--devices", "fpga,eyeriss", "--budgets", "24", "--seeds", "1",
            "--methods", "agent,agent-reuse", "--rounds", "2", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    rows = {(r["method"], r["device"]): r for r in _rows(out)}
    assert {m for m, _ in rows} == {"agent", "agent-reuse"}
    for device, other in (("fpga", "eyeriss"), ("eyeriss", "fpga")):
        reused = out / "runs" / "agent-reuse" / f"hwnasbench-{device}" / "b24" / "s0" / "run"
        reused = reused / "reused.csv"
        with reused.open(newline="") as fh:
            cells = list(csv.DictReader(fh))
        src = out / "runs" / "agent" / f"hwnasbench-{other}" / "b24" / "s0" / "run"
        src = src / "candidates.csv"
        with src.open(newline="") as fh:
            own = {r["arch"] for r in csv.DictReader(fh)}
        assert {c["arch"] for c in cells} == own
        assert set(cells[0]) == {"arch", "source", "accuracy"}
        assert int(rows[("agent-reuse", f"hwnasbench:{device}")]["evaluations"]) == 24
