"""The default zero-cost predictor's calibration proxies ship with the package: a first
run on empty caches fits the predictor from them without scoring a cell, and the shipped
values are what scoring the same cells gives."""

from __future__ import annotations

import json

import pytest

from agentnas.tools.proxies import accuracy_source, parallel
from agentnas.tools.proxies.accuracy_source import ZeroCostAccuracy, default_model_path
from agentnas.tools.proxies.cache import ProxyCache
from agentnas.tools.proxies.calibration import shipped_calibration
from agentnas.tools.proxies.data import proxy_batch
from agentnas.tools.proxies.predictor import ZeroCostPredictor, split_cells
from agentnas.tools.proxies.proxies import PROXIES
from agentnas.tools.proxies.scoring import PROXY_BATCH_SIZE, score_cell

DIGEST = proxy_batch(PROXY_BATCH_SIZE, 0).digest


def test_shipped_file_is_the_default_calibration_set() -> None:
    shipped = shipped_calibration(150, 0, PROXY_BATCH_SIZE, DIGEST)
    assert shipped is not None
    assert list(shipped.cells) == split_cells(150, 0, 0)[0]
    assert all(set(p) == set(PROXIES) for p in shipped.proxies)
    # only the exact calibration asked for is served
    assert shipped_calibration(100, 0, PROXY_BATCH_SIZE, DIGEST) is None
    assert shipped_calibration(150, 1, PROXY_BATCH_SIZE, DIGEST) is None
    assert shipped_calibration(150, 0, 8, DIGEST) is None
    assert shipped_calibration(150, 0, PROXY_BATCH_SIZE, "other") is None


def test_shipped_values_are_what_scoring_gives(tmp_path) -> None:
    """Two calibration cells scored again here give the shipped values."""
    shipped = shipped_calibration(150, 0, PROXY_BATCH_SIZE, DIGEST)
    cache = ProxyCache(tmp_path)
    for i in (0, 77):
        fresh = score_cell(shipped.cells[i], PROXIES, batch_size=PROXY_BATCH_SIZE, cache=cache)
        for p in PROXIES:
            assert fresh[p] == pytest.approx(shipped.proxies[i][p], rel=1e-4, abs=1e-6), p


def test_first_use_on_empty_caches_scores_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path / "empty"))

    def no_scoring(*_a, **_k):
        raise AssertionError("the shipped calibration needs no proxy scoring")

    monkeypatch.setattr(accuracy_source, "score_cells", no_scoring)
    monkeypatch.setattr(parallel, "score_cells", no_scoring)
    for dataset in ("cifar10", "cifar100"):
        source = ZeroCostAccuracy(dataset=dataset)
        model = source.model
        assert model.n_calib == 150 and model.dataset == dataset
        assert "shipped" in model.calibration
        described = source.describe()
        assert described["calibration_cells"] == 150 and "shipped" in described["calibration"]
        # saved for the next run, with where its calibration came from
        saved = default_model_path(dataset, 150, 0)
        assert json.loads(saved.read_text())["agentnas_zero_cost"]["calibration"]
        assert ZeroCostPredictor.load(saved).calibration == model.calibration


def test_other_calibration_sizes_still_score_their_cells(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path / "empty"))
    asked = []

    def record(cells, *_a, **_k):
        asked.append(list(cells))
        raise RuntimeError("stop here")

    monkeypatch.setattr(accuracy_source, "score_cells", record)
    with pytest.raises(RuntimeError, match="stop here"):
        _ = ZeroCostAccuracy(n_calib=20).model
    assert asked == [split_cells(20, 0, 0)[0]]
