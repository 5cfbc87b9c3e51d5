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
from agentnas.tools.proxies.predictor import ZeroCostPredictor, split_cells, true_accuracy
from agentnas.tools.proxies.proxies import PROXIES, set_threads
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
    with pytest.raises(UserError):  # the default model wants all 13 proxies
        ZeroCostPredictor().fit(calib, p_calib)


def test_accuracy_source_and_tool(tmp_path: Path, monkeypatch) -> None:
    """A saved model is loaded, not refitted; the tool returns prediction + raw proxies."""
    from agentnas.tools.proxies import accuracy_source
    from agentnas.tools.proxies.accuracy_source import ZeroCostAccuracy
    from agentnas.tools.proxies.tool import make_zero_cost_tool

    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path))
    set_threads(1)
    calib, _ = split_cells(10, 0, seed=5)
    proxies = [score_cell(c, PROXIES, batch_size=8) for c in calib]
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
    assert set(answer["proxies"]) == set(PROXIES)
    assert "malformed" in tool.invoke({"cell": "|bogus|"})  # error goes back to the agent

    ZeroCostPredictor(batch_size=8, batch_digest="other").fit(calib, proxies).save(path)
    with pytest.raises(UserError):
        _ = ZeroCostAccuracy(model_path=path).model
    with pytest.raises(UserError):
        ZeroCostAccuracy(dataset="mnist")


@pytest.mark.slow
def test_full_predictor_on_held_out_cells() -> None:
    """All 13 proxies, 100 calibration cells, 100 held-out cells (minutes of scoring)."""
    from agentnas.tools.proxies.parallel import score_cells

    calib, test = split_cells(100, 100, seed=0)
    proxies = score_cells(calib + test, PROXIES, progress=False)
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
