"""``--reuse-evaluations``: earlier runs' measured cells as data for the accuracy model,
kept apart from the run's own evaluations, its front and its budget; bad sources refused."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from agentnas.agents.offline_policy import design_offline
from agentnas.agents.prompts import designer_prompt
from agentnas.agents.schemas import DesignerContext, Partition, ScoredArch
from agentnas.cli import main
from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run
from agentnas.tools.evaluation import Evaluator
from agentnas.tools.spaces.registry import get_space


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("src")
    for device, seed in (("fpga", 0), ("raspi4", 1)):
        cfg = RunConfig(hardware=f"hwnasbench:{device}", budget=40, rounds=4, seed=seed)
        start_run(cfg, base / device)
    return {"fpga": base / "fpga", "raspi4": base / "raspi4"}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_reused_cells_feed_the_model_not_the_run(sources, tmp_path) -> None:
    cfg = RunConfig(
        hardware="hwnasbench:eyeriss",
        budget=30,
        rounds=3,
        seed=2,
        reuse_evaluations=[str(sources["fpga"]), str(sources["raspi4"])],
    )
    summary = start_run(cfg, tmp_path / "warm")
    cold = start_run(cfg.model_copy(update={"reuse_evaluations": []}), tmp_path / "cold")
    reused = _rows(tmp_path / "warm" / "reused.csv")
    own = {r["arch"] for r in _rows(sources["fpga"] / "candidates.csv")}
    own |= {r["arch"] for r in _rows(sources["raspi4"] / "candidates.csv")}
    # every source cell comes over with its table accuracy only (another device's latency
    # says nothing here), labelled with the run it came from
    assert {r["arch"] for r in reused} == own
    assert set(reused[0]) == {"arch", "source", "accuracy"}
    assert summary["reused_evaluations"]["cells"] == len(own)
    assert summary["reused_evaluations"]["metrics"] == ["accuracy"]
    assert "reused_evaluations" not in cold
    # the run's own evaluations, budget and front are its own
    cands = _rows(tmp_path / "warm" / "candidates.csv")
    assert summary["evaluations"] == len(cands) == 30
    front = {r["arch"] for r in _rows(tmp_path / "warm" / "front.csv")}
    assert front <= {r["arch"] for r in cands}
    # and the data changes what is proposed
    warm_archs = [r["arch"] for r in cands]
    cold_archs = [r["arch"] for r in _rows(tmp_path / "cold" / "candidates.csv")]
    assert warm_archs != cold_archs


def _ctx(reused: list[ScoredArch]) -> tuple[DesignerContext, object]:
    ev = Evaluator("nb201", "cifar10", "hwnasbench:eyeriss", ["accuracy", "latency"], "table")
    space = get_space("nb201")
    import random

    rng = random.Random(0)
    parents = []
    for arch in space.sample(rng, 12):
        m = ev.evaluate(arch)
        parents.append(ScoredArch(arch=arch, metrics=m))
    ctx = DesignerContext(
        space="nb201",
        hardware="hwnasbench:eyeriss",
        objectives=list(ev.objectives),
        round=1,
        partition=Partition(id=0, feature="flops", low=0, high=1e9, size=15625),
        parents=parents,
        history=parents,
        n_children=4,
        evaluated=[p.arch for p in parents],
        seed=0,
        reused=reused,
    )
    return ctx, space


def test_offline_designer_and_llm_prompt_use_reused_cells() -> None:
    ev = Evaluator("nb201", "cifar10", "hwnasbench:eyeriss", ["accuracy", "latency"], "table")
    import random

    space = get_space("nb201")
    known = [
        ScoredArch(arch=a, metrics={"accuracy": ev.evaluate(a)["accuracy"]})
        for a in space.sample(random.Random(7), 200)
    ]
    cold_ctx, sp = _ctx([])
    warm_ctx, _ = _ctx(known)
    cold, _ = design_offline(cold_ctx, sp)
    warm, _ = design_offline(warm_ctx, sp)
    assert [p.arch for p in cold] != [p.arch for p in warm]
    mean = {
        name: sum(ev.evaluate(p.arch)["accuracy"] for p in props) / len(props)
        for name, props in (("cold", cold), ("warm", warm))
    }
    assert mean["warm"] > mean["cold"]
    prompt = designer_prompt(warm_ctx, "desc", [])
    assert "Reused evaluations from earlier runs (200 cells" in prompt
    assert "Reused evaluations" not in designer_prompt(cold_ctx, "desc", [])


def test_bad_sources_are_one_line_and_write_nothing(sources, tmp_path, capsys) -> None:
    photonic = tmp_path / "photonic"
    photonic.mkdir()
    (photonic / "config.json").write_text(json.dumps({"space": "photonic-mlp"}))
    for source, says in (
        (tmp_path / "missing", "no such run folder"),
        (tmp_path, "not a run folder"),
        (photonic, "cannot inform a search of 'nb201'"),
    ):
        out = tmp_path / "never"
        code = main(
            [
                "run", "--hardware", "hwnasbench:eyeriss", "--budget", "12", "--rounds", "1",
                "--reuse-evaluations", str(source), "--out", str(out),
            ]
        )  # fmt: skip
        err = capsys.readouterr().err.strip()
        assert code == 2
        assert says in err and len(err.splitlines()) == 1
        assert not out.exists()
