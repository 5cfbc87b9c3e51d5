"""The zero-cost accuracy predictor: fits, generalises to held-out cells, saves/loads,
and serves as an accuracy source and a LangChain tool."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from agentnas.tools.errors import UserError
from agentnas.tools.proxies.cache import ProxyCache
from agentnas.tools.proxies.data import proxy_batch
from agentnas.tools.proxies.predictor import (
    MODEL_PROXIES,
    ZeroCostPredictor,
    split_cells,
    true_accuracy,
)
from agentnas.tools.proxies.proxies import set_threads
from agentnas.tools.proxies.scoring import score_cell

# cheap proxies (no backward pass over a batch): a fast but real predictor for unit tests
CHEAP = ("synflow", "l2_norm", "params", "flops")  # in PROXIES order


@pytest.fixture(scope="module")
def cheap_split(tmp_path_factory) -> tuple[list, list, list, list]:
    set_threads(1)
    cache = ProxyCache(tmp_path_factory.mktemp("cache"))
    calib, test = split_cells(40, 40, seed=3)
    score = [score_cell(c, CHEAP, batch_size=8, cache=cache) for c in calib + test]
    return calib, test, score[:40], score[40:]


def test_split_is_disjoint_and_stable() -> None:
    calib, test = split_cells(150, 500, seed=0)
    assert len(calib) == 150 and len(test) == 500
    assert not set(calib) & set(test)
    calib2, test2 = split_cells(200, 500, seed=0)
    assert test2 == test and calib2[:150] == calib
    with pytest.raises(UserError):
        split_cells(5, 10)


def test_predictor_ranks_held_out_cells(cheap_split) -> None:
    calib, test, p_calib, p_test = cheap_split
    model = ZeroCostPredictor(dataset="cifar10", proxy_names=CHEAP).fit(calib, p_calib)
    pred = model.predict(test, p_test)
    rho = spearmanr(pred, true_accuracy(test, "cifar10")).statistic
    assert rho > 0.5, rho
    assert np.all(np.isfinite(pred))


def test_save_load_round_trip(cheap_split, tmp_path: Path) -> None:
    calib, test, p_calib, p_test = cheap_split
    model = ZeroCostPredictor(dataset="cifar100", proxy_names=CHEAP).fit(calib, p_calib)
    path = tmp_path / "model.json"
    model.save(path)
    loaded = ZeroCostPredictor.load(path)
    assert loaded.dataset == "cifar100"
    assert loaded.proxy_names == CHEAP
    assert loaded.n_calib == 40
    np.testing.assert_allclose(loaded.predict(test, p_test), model.predict(test, p_test))


def test_bad_model_file_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(UserError):
        ZeroCostPredictor.load(bad)
    bad.write_text(json.dumps({"agentnas_zero_cost": {"format": 1, "features": ["x"]}}))
    with pytest.raises(UserError):
        ZeroCostPredictor.load(bad)


def test_unfitted_and_missing_proxies_refused(cheap_split) -> None:
    calib, _, p_calib, _ = cheap_split
    with pytest.raises(UserError):
        ZeroCostPredictor().predict(calib[:1], p_calib[:1])
    with pytest.raises(UserError):  # the default model wants all of MODEL_PROXIES
        ZeroCostPredictor().fit(calib, p_calib)


def test_accuracy_source_and_tool(tmp_path: Path, monkeypatch) -> None:
    """A saved model is loaded, not refitted; the tool returns prediction + raw proxies."""
    from agentnas.tools.proxies import accuracy_source
    from agentnas.tools.proxies.accuracy_source import ZeroCostAccuracy
    from agentnas.tools.proxies.tool import make_zero_cost_tool

    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path))
    set_threads(1)
    calib, _ = split_cells(10, 0, seed=5)
    proxies = [score_cell(c, MODEL_PROXIES, batch_size=8) for c in calib]
    digest = proxy_batch(8, 0).digest
    model = ZeroCostPredictor(batch_size=8, batch_digest=digest).fit(calib, proxies)
    path = tmp_path / "zc.json"
    model.save(path)

    def no_fit(*_a, **_k):
        raise AssertionError("should load the saved model, not fit")

    monkeypatch.setattr(accuracy_source, "fit_predictor", no_fit)
    source = ZeroCostAccuracy(model_path=path)
    assert source.name == "zero-cost"
    value = float(np.clip(model.predict(calib[:1], proxies[:1])[0], 0, 100))
    assert source.accuracy(calib[0]) == pytest.approx(value)
    assert source.accuracy_many(calib[:2])[0] == pytest.approx(value)
    assert source.proxies(calib[0]) == proxies[0]  # same 8-image batch as the fit

    tool = make_zero_cost_tool(source)
    assert tool.name == "score_zero_cost"
    answer = tool.invoke({"cell": calib[0]})
    assert answer["predicted_accuracy"] == pytest.approx(value, abs=1e-3)
    assert set(answer["proxies"]) == set(MODEL_PROXIES)
    assert "malformed" in tool.invoke({"cell": "|bogus|"})  # error goes back to the agent

    ZeroCostPredictor(batch_size=8, batch_digest="other").fit(calib, proxies).save(path)
    with pytest.raises(UserError):
        _ = ZeroCostAccuracy(model_path=path).model
    with pytest.raises(UserError):
        ZeroCostAccuracy(dataset="mnist")


@pytest.mark.slow
def test_full_predictor_on_held_out_cells() -> None:
    """The default proxies, 100 calibration cells, 100 held-out cells (minutes of scoring)."""
    from agentnas.tools.proxies.parallel import score_cells

    calib, test = split_cells(100, 100, seed=0)
    proxies = score_cells(calib + test, MODEL_PROXIES, progress=False)
    model = ZeroCostPredictor().fit(calib, proxies[:100])
    rho = spearmanr(model.predict(test, proxies[100:]), true_accuracy(test)).statistic
    assert rho > 0.7, rho


def test_cli_refuses_bad_input(capsys) -> None:
    from agentnas.cli import main

    assert main(["predictor", "eval", "--n-test", "3"]) == 2
    assert main(["predictor", "score", "|bogus|"]) == 2
    assert main(["predictor", "fit", "--dataset", "mnist", "--n-calib", "10"]) == 2
    assert main(["bench", "proxies", "--cells", "0"]) == 2
    err = capsys.readouterr().err
    assert "n-test" in err and "malformed" in err and "mnist" in err


def test_cell_graph_features() -> None:
    """Path features count what lies on each open input -> output path; an edge that feeds
    nothing that reaches the output counts as none."""
    from agentnas.tools.proxies.cell_encoding import ENCODING_FEATURES, encoding_features

    def feats(cell: str) -> dict[str, float]:
        return dict(zip(ENCODING_FEATURES, encoding_features(cell), strict=True))

    conv3 = feats(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|"
        "nor_conv_3x3~1|nor_conv_3x3~2|"
    )
    assert conv3["open_paths"] == 4 and conv3["degenerate"] == 0
    assert conv3["max_conv3_on_path"] == 3 and conv3["conv3_on_paths"] == 1 + 2 + 2 + 3
    assert conv3["min_conv_on_path"] == 1 and conv3["live_n_nor_conv_3x3"] == 6
    dead = feats("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    assert dead["degenerate"] == 1 and dead["open_paths"] == 0 and dead["live_n_none"] == 6
    # node 1 feeds only edges that are none: its input edge is dead, counted as none
    side = feats("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|none~1|skip_connect~2|")
    assert side["live_n_none"] == 3 and side["live_n_nor_conv_3x3"] == 0
    assert side["open_paths"] == 2 and side["all_skip_path"] == 1
    assert side["pool_on_paths"] == 1 and side["open_paths_without_conv"] == 2
    assert side["path0_n_pool"] == 1 and side["path1_open"] == 0 and side["path1_n_conv"] == -1


def test_degenerate_cells_are_predicted_at_chance(cheap_split) -> None:
    """A cell whose output is constant is predicted at chance, whatever its proxies say,
    and calibration cells that are degenerate are not learned from."""
    calib, test, p_calib, p_test = cheap_split
    dead = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    half_dead = "|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|none~2|"
    for dataset, chance in (("cifar10", 10.0), ("cifar100", 1.0)):
        model = ZeroCostPredictor(dataset=dataset, proxy_names=CHEAP).fit(calib, p_calib)
        pred = model.predict([dead, half_dead, test[0]], [p_test[0]] * 3)
        assert pred[0] == chance and pred[1] == chance
        assert pred[2] == pytest.approx(model.predict(test[:1], p_test[:1])[0])
        assert pred[2] > chance


def test_held_out_tau_from_shipped_proxies() -> None:
    """The default predictor ranks the 500 shipped held-out cells, and random 150-cell
    draws from the 650 shipped cells rank the other 500, above the Kendall tau of the
    XGBoost-on-13-proxies predictor this one replaced (0.825 on the same 500 cells)."""
    from agentnas.tools.proxies.calibration import held_out_taus, shipped_heldout

    held = shipped_heldout()
    assert held is not None and len(held.cells) == 500
    assert list(held.cells) == split_cells(150, 500, 0)[1]
    default, taus = held_out_taus("cifar10", splits=3)
    assert default > 0.84, default
    assert np.mean(taus) > 0.83, taus


def test_evaluator_scores_only_the_predictors_proxies(tmp_path: Path, monkeypatch) -> None:
    """A zero-cost run's workers compute the proxies the predictor reads, no others."""
    from agentnas.tools.evaluation import Evaluator

    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path))
    ev = Evaluator("nb201", "cifar10", "hwnasbench:fpga", ["accuracy", "latency"], "zero-cost")
    job = ev.job()
    assert job.proxy_batch is not None and job.proxy_batch[2] == MODEL_PROXIES
    cell = split_cells(10, 0, seed=4)[0][0]
    measured = ev.measure(cell, (8, 0, ("synflow", "params")))
    assert set(measured["proxies"]) == {"synflow", "params"}


def test_stale_default_model_is_refitted(tmp_path: Path, monkeypatch) -> None:
    """A default model file another version wrote is refitted; a named one is refused."""
    from agentnas.tools.proxies.accuracy_source import ZeroCostAccuracy, default_model_path

    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path))
    path = default_model_path("cifar10", 150, 0)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"agentnas_zero_cost": {"format": 1}, "xgboost": {}}))
    model = ZeroCostAccuracy().model
    assert model.n_calib == 150 and model.proxy_names == MODEL_PROXIES
    assert ZeroCostPredictor.load(path).proxy_names == MODEL_PROXIES  # saved over it
    path.write_text(json.dumps({"agentnas_zero_cost": {"format": 1}, "xgboost": {}}))
    with pytest.raises(UserError, match="another version"):
        _ = ZeroCostAccuracy(model_path=path).model


def test_eval_cli_reads_shipped_held_out_proxies(tmp_path: Path, monkeypatch, capsys) -> None:
    """`agentnas predictor eval` on the default 500 held-out cells scores nothing: their
    proxies ship with the package, and the tau it prints is the shipped-data tau."""
    from agentnas.cli import main
    from agentnas.tools.proxies import accuracy_source, parallel
    from agentnas.tools.proxies.calibration import held_out_taus

    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path))

    def no_scoring(*_a, **_k):
        raise AssertionError("the shipped held-out proxies need no scoring")

    monkeypatch.setattr(accuracy_source, "score_cells", no_scoring)
    monkeypatch.setattr(parallel, "score_cells", no_scoring)
    assert main(["predictor", "eval"]) == 0
    out = capsys.readouterr().out
    default, _ = held_out_taus("cifar10", splits=0)
    assert f"kendall={default:.4f}" in out and "n_test=500" in out
