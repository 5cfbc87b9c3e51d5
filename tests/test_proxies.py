# ruff: noqa: E501  (reference tables keep one cell per line)
"""The 13 zero-cost proxies: finite, deterministic, discriminative, cached, validated."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from scipy.stats import spearmanr

from agentnas.tools.errors import UserError
from agentnas.tools.proxies import scoring
from agentnas.tools.proxies.cache import ProxyCache
from agentnas.tools.proxies.data import make_batch, proxy_batch
from agentnas.tools.proxies.measures_jacobian import UNDEFINED
from agentnas.tools.proxies.proxies import (
    PROXIES,
    check_proxy_names,
    compute_proxies,
    key_cell,
    representative,
    set_threads,
)
from agentnas.tools.proxies.scoring import score_cell

CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|nor_conv_3x3~1|nor_conv_3x3~2|"
POOL = "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|none~0|avg_pool_3x3~1|skip_connect~2|"
DEAD = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
SMALL = 8  # images per batch in tests: same code paths, a fraction of the time

# (cell, synflow) from NAS-Bench-Suite-Zero (naslib_zc_nasbench201_subset.json, CIFAR-10)
SYNFLOW_REFERENCE = [
    ("|avg_pool_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|skip_connect~0|none~1|nor_conv_3x3~2|", 58.517612373381624),
    ("|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|", 14.79848894494909),
    ("|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|", 64.25322864276427),
    ("|avg_pool_3x3~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_1x1~2|", 69.34054204018919),
    ("|avg_pool_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_1x1~2|", 44.455924827102734),
    ("|avg_pool_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|none~2|", 47.45419384491017),
    ("|none~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_3x3~1|nor_conv_1x1~2|", 42.136356605842316),
    ("|none~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|", 14.772698377047265),
    ("|none~0|+|none~0|avg_pool_3x3~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|", 14.757489691422277),
    ("|none~0|+|none~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|", 14.811653232482989),
    ("|none~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|avg_pool_3x3~0|nor_conv_3x3~1|avg_pool_3x3~2|", 36.077649915032985),
    ("|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|", 49.14827658873203),
    ("|nor_conv_1x1~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|", 46.469432239283314),
    ("|nor_conv_1x1~0|+|avg_pool_3x3~0|skip_connect~1|+|none~0|nor_conv_1x1~1|none~2|", 47.839430070632574),
    ("|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|avg_pool_3x3~2|", 69.6961912716051),
    ("|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|nor_conv_1x1~2|", 70.52547822546157),
    ("|nor_conv_1x1~0|+|skip_connect~0|skip_connect~1|+|avg_pool_3x3~0|skip_connect~1|avg_pool_3x3~2|", 46.55605962037592),
    ("|nor_conv_3x3~0|+|none~0|none~1|+|nor_conv_1x1~0|skip_connect~1|avg_pool_3x3~2|", 51.864808681579945),
    ("|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_1x1~0|none~1|skip_connect~2|", 80.66330452435764),
    ("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|", 111.61699689312901),
]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> None:
    set_threads(1)


@pytest.fixture(scope="module")
def small_batch():
    return proxy_batch(SMALL, 0)


@pytest.fixture(scope="module")
def conv_scores(small_batch) -> dict[str, float]:
    return compute_proxies(CONV, None, small_batch, seed=0)


@pytest.fixture(scope="module")
def pool_scores(small_batch) -> dict[str, float]:
    return compute_proxies(POOL, None, small_batch, seed=0)


def test_every_proxy_is_a_finite_float(conv_scores, pool_scores) -> None:
    for scores in (conv_scores, pool_scores):
        assert tuple(scores) == PROXIES
        for name, value in scores.items():
            assert isinstance(value, float), name
            assert math.isfinite(value), name


def test_same_seed_same_values(conv_scores, small_batch) -> None:
    again = compute_proxies(CONV, None, small_batch, seed=0)
    assert again == conv_scores


def test_different_cells_differ(conv_scores, pool_scores) -> None:
    for name in PROXIES:
        assert conv_scores[name] != pool_scores[name], name
    # the conv-heavy cell is bigger and trains better: the classic proxies say so
    for name in ("params", "flops", "synflow", "snip", "grad_norm", "nwot"):
        assert conv_scores[name] > pool_scores[name], name


def test_seed_changes_weight_dependent_proxies(small_batch) -> None:
    a = compute_proxies(POOL, ["l2_norm", "params"], small_batch, seed=0)
    b = compute_proxies(POOL, ["l2_norm", "params"], small_batch, seed=1)
    assert a["params"] == b["params"]
    assert a["l2_norm"] != b["l2_norm"]


def test_degenerate_cell_is_finite_and_ranked_last(small_batch) -> None:
    dead = compute_proxies(DEAD, ["synflow", "jacov", "nwot", "grad_norm"], small_batch)
    assert dead["synflow"] == 0.0
    assert dead["grad_norm"] == 0.0
    assert dead["jacov"] == UNDEFINED


def test_synflow_ranks_like_nas_bench_suite_zero() -> None:
    batch = proxy_batch(SMALL, 0)  # synflow uses one all-ones input: batch size is moot
    ours = [compute_proxies(c, ["synflow"], batch)["synflow"] for c, _ in SYNFLOW_REFERENCE]
    theirs = [v for _, v in SYNFLOW_REFERENCE]
    rho = spearmanr(ours, theirs).statistic
    assert rho >= 0.9, rho
    # same scale too (ln of the synaptic flow sum)
    assert ours[1] == pytest.approx(theirs[1], abs=1.0)


def test_unknown_proxy_lists_all() -> None:
    with pytest.raises(UserError) as err:
        check_proxy_names(["synflow", "bogus"])
    assert "bogus" in str(err.value)
    for name in PROXIES:
        assert name in str(err.value)
    with pytest.raises(UserError):
        compute_proxies(CONV, ["naswot"])


@pytest.mark.parametrize(
    "x",
    [torch.zeros(4, 32, 32), torch.zeros(4, 1, 32, 32), torch.zeros(1, 3, 32, 32),
     torch.zeros(4, 3, 30, 30), torch.zeros(4, 3, 32, 16)],
    ids=["3d", "gray", "one-image", "odd-size", "not-square"],
)  # fmt: skip
def test_bad_batch_shape_refused(x: torch.Tensor) -> None:
    with pytest.raises(UserError):
        make_batch(x, torch.zeros(x.shape[0], dtype=torch.int64))


def test_bad_labels_refused() -> None:
    x = torch.zeros(4, 3, 32, 32)
    with pytest.raises(UserError):
        make_batch(x, torch.zeros(3, dtype=torch.int64))
    with pytest.raises(UserError):
        make_batch(x, torch.tensor([0, 1, 2, 10]))
    with pytest.raises(UserError):
        proxy_batch(1000)


def test_batch_is_real_normalised_and_hashed() -> None:
    a, b = proxy_batch(SMALL, 0), proxy_batch(SMALL, 1)
    assert a.x.shape == (SMALL, 3, 32, 32)
    assert -3.0 < float(a.x.mean()) < 3.0 and float(a.x.std()) > 0.3
    assert set(a.y.tolist()) <= set(range(10))
    assert a.digest != b.digest
    assert make_batch(a.x.clone(), a.y.clone()).digest == a.digest


def test_isomorphic_cells_share_functional_scores() -> None:
    # node 2's conv reads node 1, which is zero: this cell is isomorphic to one without it
    cell = "|none~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_1x1~0|skip_connect~1|none~2|"
    rep = representative(cell)
    assert rep != cell
    assert key_cell(cell, "synflow") == rep
    assert key_cell(cell, "l2_norm") == cell


class _Counter:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.real = scoring.compute_proxies

    def __call__(self, cell, names, batch, seed):
        self.calls.append((cell, tuple(names)))
        return self.real(cell, names, batch, seed)


def test_cache_hit_avoids_recomputation(tmp_path: Path, monkeypatch) -> None:
    counter = _Counter()
    monkeypatch.setattr(scoring, "compute_proxies", counter)
    cache = ProxyCache(tmp_path)
    names = ["synflow", "l2_norm", "params"]
    first = score_cell(POOL, names, batch_size=SMALL, cache=cache)
    computed = [c for c in counter.calls if set(c[1]) - {"params", "flops"}]
    assert computed == [(POOL, ("synflow", "l2_norm"))]  # POOL represents its own class
    counter.calls.clear()
    second = score_cell(POOL, names, batch_size=SMALL, cache=cache)
    assert second == first
    assert all(set(c[1]) <= {"params", "flops"} for c in counter.calls)


def test_corrupt_cache_is_recomputed(tmp_path: Path, monkeypatch) -> None:
    cache = ProxyCache(tmp_path)
    batch = proxy_batch(SMALL, 0)
    good = score_cell(POOL, ["synflow"], batch_size=SMALL, cache=cache)
    path = cache.path(cache.key(key_cell(POOL, "synflow"), batch.digest, 0))
    counter = _Counter()
    monkeypatch.setattr(scoring, "compute_proxies", counter)

    path.write_text("{ not json")  # corrupt file
    assert score_cell(POOL, ["synflow"], batch_size=SMALL, cache=cache) == good
    assert len(counter.calls) == 1
    assert json.loads(path.read_text())["values"]["synflow"] == good["synflow"]

    data = json.loads(path.read_text())  # corrupt entry: a value that is not a number
    data["values"]["synflow"] = "1e400"
    path.write_text(json.dumps(data))
    assert score_cell(POOL, ["synflow"], batch_size=SMALL, cache=cache) == good
    assert len(counter.calls) == 2

    data["values"]["synflow"] = 123.0  # entry stored under another key: not trusted
    data["key"]["seed"] = 99
    path.write_text(json.dumps(data))
    assert score_cell(POOL, ["synflow"], batch_size=SMALL, cache=cache) == good
    assert len(counter.calls) == 3


def test_cache_dir_env(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path))
    assert ProxyCache().root == tmp_path / "proxies"


def test_parallel_scoring_matches_in_process(tmp_path: Path) -> None:
    from agentnas.tools.proxies.parallel import score_cells

    cells = [CONV, POOL, DEAD, SYNFLOW_REFERENCE[0][0], CONV]  # a repeat is served once
    names = ["synflow", "l2_norm", "params"]
    parallel = score_cells(
        cells, names, batch_size=SMALL, workers=2, progress=False, cache=ProxyCache(tmp_path)
    )
    assert len(parallel) == len(cells)
    assert parallel[0] == parallel[4]
    for cell, got in zip(cells, parallel, strict=True):
        assert got == compute_proxies(cell, names, proxy_batch(SMALL, 0), seed=0)
    assert any(tmp_path.rglob("*.json"))  # the workers wrote the shared cache
