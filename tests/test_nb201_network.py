"""The torch NB201 network and its analytic params/FLOPs against NAS-Bench-Suite-Zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from agentnas.tools.errors import UserError
from agentnas.tools.spaces.nb201 import all_cells, features, format_cell, index_to_cell
from agentnas.tools.spaces.nb201_complexity import count_params_and_flops, params_and_flops
from agentnas.tools.spaces.nb201_torch import build_network

SUBSET = Path(__file__).resolve().parents[2] / "shared/data/nb201/naslib_zc_nasbench201_subset.json"

# (cell, params M cifar10, flops M cifar10, params M cifar100, params M IN16-120,
#  flops M IN16-120), copied from NAS-Bench-Suite-Zero (naslib_zc_nasbench201_subset.json)
REFERENCE = [
    ("|avg_pool_3x3~0|+|avg_pool_3x3~0|nor_conv_3x3~1|+|nor_conv_1x1~0|skip_connect~1|none~2|",
     0.344346, 50.706112, 0.350196, 0.351496, 12.684352),
    ("|avg_pool_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|skip_connect~1|avg_pool_3x3~2|",
     0.316346, 47.634112, 0.322196, 0.323496, 11.916352),
    ("|nor_conv_1x1~0|+|none~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_3x3~1|skip_connect~2|",
     0.400346, 56.850112, 0.406196, 0.407496, 14.220352),
    ("|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|",
     0.615386, 89.597632, 0.621236, 0.622536, 22.407232),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_3x3~0|nor_conv_3x3~1|none~2|",
     1.073466, 155.584192, 1.079316, 1.080616, 38.903872),
    ("|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_1x1~2|",
     0.372346, 52.487872, 0.378196, 0.379496, 13.129792),
]  # fmt: skip


def torch_params_m(net: nn.Module) -> float:
    return sum(p.numel() for p in net.parameters()) / 1e6


@pytest.mark.parametrize("row", REFERENCE, ids=lambda r: r[0][:30])
def test_torch_params_equal_reference(row: tuple) -> None:
    cell, p10, _, p100, p120, _ = row
    assert torch_params_m(build_network(cell, 10)) == pytest.approx(p10, abs=1e-9)
    assert torch_params_m(build_network(cell, 100)) == pytest.approx(p100, abs=1e-9)
    assert torch_params_m(build_network(cell, 120)) == pytest.approx(p120, abs=1e-9)


@pytest.mark.parametrize("row", REFERENCE, ids=lambda r: r[0][:30])
def test_analytic_params_flops_equal_reference(row: tuple) -> None:
    cell, p10, f10, p100, p120, f120 = row
    assert params_and_flops(cell, 10) == pytest.approx((p10, f10), rel=1e-9)
    assert params_and_flops(cell, 100)[0] == pytest.approx(p100, rel=1e-9)
    assert params_and_flops(cell, 120) == pytest.approx((p120, f120), rel=1e-9)


def _tensorwatch_flops(net: nn.Module, size: int) -> int:
    """FLOPs counted with forward hooks under NAS-Bench-Suite-Zero's per-module rules."""
    total = 0

    def hook(m: nn.Module, inp: tuple, out: torch.Tensor) -> None:
        nonlocal total
        x = inp[0]
        if isinstance(m, nn.Conv2d):
            total += m.kernel_size[0] * m.kernel_size[1] * m.in_channels * out[0].numel()
        elif isinstance(m, nn.Linear):
            total += m.in_features * m.out_features
        elif isinstance(m, nn.BatchNorm2d):
            total += 2 * x[0].numel()
        elif isinstance(m, nn.ReLU):
            total += x[0].numel()
        elif isinstance(m, nn.AvgPool2d):
            k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            total += k * k * out[0].numel() if m.stride == 1 else x[0].numel()
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            total += (x.shape[-1] + 1) ** 2 * x.shape[1]

    for m in net.modules():
        m.register_forward_hook(hook)
    with torch.no_grad():
        net.eval()(torch.zeros(1, 3, size, size))
    return total


@pytest.mark.parametrize("index", [0, 4321, 15624])
def test_analytic_counts_equal_torch(index: int) -> None:
    cell = index_to_cell(index)
    for classes, size in ((10, 32), (100, 32), (120, 16)):
        net = build_network(cell, classes)
        params, flops = count_params_and_flops(cell, classes)
        assert params == sum(p.numel() for p in net.parameters())
        assert flops == _tensorwatch_flops(net, size)


def test_all_subset_cells_match() -> None:
    if not SUBSET.exists():
        pytest.skip("NAS-Bench-Suite-Zero subset not present (../shared/data)")
    naslib_ops = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
    data = json.loads(SUBSET.read_text())
    checked = 0
    for dataset, classes in (("cifar10", 10), ("cifar100", 100), ("ImageNet16-120", 120)):
        for key, entry in data[dataset].items():
            ops = [int(t) for t in key.strip("()").split(",")]
            cell = format_cell([naslib_ops[ops[i]] for i in (0, 1, 3, 2, 4, 5)])
            p, f = params_and_flops(cell, classes)
            assert p == pytest.approx(entry["params"]["score"], rel=1e-6), (dataset, cell)
            assert f == pytest.approx(entry["flops"]["score"], rel=1e-6), (dataset, cell)
            checked += 1
    assert checked == 725 + 725 + 724


@pytest.mark.parametrize(("classes", "size"), [(10, 32), (100, 32), (120, 16)])
def test_forward_shapes(classes: int, size: int) -> None:
    net = build_network(index_to_cell(123), classes).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 3, size, size))
    assert out.shape == (2, classes)
    assert torch.isfinite(out).all()


def test_none_cell_output_is_input_independent() -> None:
    net = build_network("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").eval()
    with torch.no_grad():
        a = net(torch.randn(2, 3, 32, 32))
        b = net(torch.randn(2, 3, 32, 32))
    assert torch.allclose(a, b)


def test_build_refuses_bad_input() -> None:
    with pytest.raises(UserError):
        build_network("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(UserError):
        build_network(index_to_cell(0), 0)


def test_all_cells_fast_and_monotone_in_convs() -> None:
    values = [params_and_flops(c) for c in all_cells()]
    assert len(values) == 15625
    assert min(v[0] for v in values) == pytest.approx(0.073306)  # no conv at all
    assert max(v[0] for v in values) == pytest.approx(1.531546)  # six 3x3 convs


def test_features_include_shipped_complexity() -> None:
    cell = index_to_cell(0)
    feats = features(cell)
    p, f = params_and_flops(cell)
    assert feats["params"] == pytest.approx(p)
    assert feats["flops"] == pytest.approx(f)
