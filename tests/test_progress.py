"""Long phases report progress: every evaluation, every Designer and Reflector step, each
training epoch and Monte-Carlo draw of a photonic candidate; the CLI draws it."""

from __future__ import annotations

import io
import re

from rich.console import Console

from agentnas.commands.progress_view import live_progress
from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run
from agentnas.tools.photonic.datasets import load_dataset
from agentnas.tools.photonic.nonideal import preset
from agentnas.tools.photonic.training import robust_accuracy, train
from agentnas.tools.progress import listening, progress, progress_sink
from agentnas.tools.spaces.photonic_mlp import parse


def _collect():
    seen: list[tuple[str, str, int | None, int | None]] = []
    return seen, lambda *event: seen.append(event)


def test_a_run_reports_every_evaluation_and_agent_step(tmp_path):
    seen, sink = _collect()
    with progress_sink(sink):
        assert listening()
        summary = start_run(
            RunConfig(hardware="hwnasbench:fpga", budget=18, rounds=1), tmp_path / "r"
        )
    assert not listening()
    texts = [t for level, t, _, _ in seen if level == "search"]
    batches = [int(m.group(1)) for t in texts if (m := re.search(r"evaluating (\d+) cell", t))]
    assert sum(batches) >= summary["evaluations"] == 18  # every evaluation was announced
    assert any("reads the knowledge base" in t for t in texts)
    assert any("proposes" in t for t in texts)
    assert any("reflector" in t for t in texts)


def test_photonic_training_reports_each_epoch_and_draw():
    data = load_dataset("digits")
    cfg = parse("mlp:h=16|act=relu|mesh=clements|k=8|bits=8|nat=0")
    seen, sink = _collect()
    with progress_sink(sink):
        model = train(cfg, data, epochs=3)
        robust_accuracy(model, data, preset("realistic"), draws=4)
    details = [(t, d, n) for level, t, d, n in seen if level == "detail"]
    assert [d for t, d, n in details if "epoch" in t] == [0, 1, 2]
    assert [d for t, d, n in details if "draw" in t] == [0, 1, 2, 3]
    assert all(n in (3, 4) for _, _, n in details)


def test_live_progress_draws_the_latest_step():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with live_progress(console) as bars:
        progress("round 2: evaluating 3 cell(s) of p3")
        progress("training epoch 2/5", 1, 5, level="detail")
        bars.refresh()
    text = out.getvalue()
    assert "round 2: evaluating 3 cell(s) of p3" in text and "training epoch 2/5" in text
    assert "1/5" in text


def test_chat_draws_progress_between_pauses_and_reports_every_evaluation(tmp_path, monkeypatch):
    from agentnas.cli import main
    from agentnas.commands import chat

    buf = io.StringIO()
    monkeypatch.setattr(chat, "console", Console(file=buf, force_terminal=True, width=120))
    script = tmp_path / "s.txt"
    script.write_text("keep latency under 3 ms\n", encoding="utf-8")
    seen, sink = _collect()
    args = ["--hardware", "hwnasbench:fpga", "--budget", "18", "--rounds", "1", "--seed", "1"]
    with progress_sink(sink):
        assert main(["chat", "--out", str(tmp_path / "r"), "--script", str(script), *args]) == 0
    texts = [t for level, t, _, _ in seen if level == "search"]
    assert texts[0].startswith("preparing the run")
    batches = [int(m.group(1)) for t in texts if (m := re.search(r"evaluating (\d+) cell", t))]
    assert sum(batches) >= 18
    assert any("proposes" in t for t in texts)
    # the chat's own display drew the steps (the bars are cleared when the run pauses)
    assert "evaluating" in buf.getvalue() or "proposes" in buf.getvalue()


def test_bench_steering_reports_its_runs_and_their_steps(monkeypatch):
    from agentnas.cli import main

    seen, sink = _collect()
    args = ["--seeds", "1", "--budget", "18", "--rounds", "1", "--scenarios", "avoid"]
    with progress_sink(sink):
        assert main(["bench", "steering", *args, "--no-baseline"]) == 0
    texts = [t for level, t, _, _ in seen if level == "search"]
    assert "bench steering: avoid, seed 1 of 1" in texts
    assert any(re.search(r"evaluating \d+ cell", t) for t in texts)  # the chat run's steps


def test_every_long_bench_command_shows_progress():
    from agentnas.cli import bench_app

    names = {c.name or c.callback.__name__: c.callback for c in bench_app.registered_commands}
    # readme writes one file; search draws its job bar with the run steps (progress_into)
    quiet = {"readme", "search"}
    assert {"steering", "baselines", "executor", "optical", "proxies"} <= set(names)
    for name, callback in names.items():
        assert name in quiet or getattr(callback, "shows_progress", False), name


def test_steps_reported_from_parallel_threads_share_one_row():
    """Designers run in parallel and report at the same moment: still one row per level."""
    import threading
    import time

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    start = threading.Barrier(8)

    def designer(i: int) -> None:
        start.wait()
        progress(f"round 1: designer p{i} reads the knowledge base")

    with live_progress(console) as bars:
        add_task = bars.add_task

        def slow_add_task(*args, **kwargs):  # widens the window a race would need
            time.sleep(0.05)
            return add_task(*args, **kwargs)

        bars.add_task = slow_add_task
        threads = [threading.Thread(target=designer, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(bars.tasks) == 1
