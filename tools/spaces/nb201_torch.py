"""The real NAS-Bench-201 network (``TinyNetwork``, C=16, N=5) in torch, from a cell string.

This mirrors the reference implementation of Dong & Yang (ICLR 2020,
``xautodl/models/cell_infers/tiny_network.py``) so that parameter counts, FLOPs, latency
and zero-cost proxies are those of the network the benchmark trained:

* stem: Conv3x3(3→16, no bias) + BN;
* 5 cells @16 channels, ResNet basic block 16→32 (stride 2), 5 cells @32,
  basic block 32→64 (stride 2), 5 cells @64;
* BN-ReLU, global average pool, Linear(64→classes).

Cell ops: ``nor_conv_kxk`` = ReLU-Conv(no bias)-BN(affine), ``avg_pool_3x3`` = AvgPool
(3, stride 1, pad 1, ``count_include_pad=False``), ``skip_connect`` = identity,
``none`` = zeros. CIFAR inputs are 32×32; ImageNet16-120 inputs are 16×16 (the network
is fully convolutional up to the global pool, so the same module serves both).
"""

from __future__ import annotations

import torch
from torch import nn

from agentnas.tools.errors import UserError
from agentnas.tools.spaces.nb201 import EDGES, parse_cell

C_INIT = 16  # channels of the first stage
N_CELLS_PER_STAGE = 5
NUM_CLASSES: dict[str, int] = {"cifar10": 10, "cifar100": 100, "ImageNet16-120": 120}
INPUT_SIZE: dict[str, int] = {"cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}


class ReLUConvBN(nn.Sequential):
    """ReLU → Conv (no bias) → BN with affine parameters, as in NB201."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=True, track_running_stats=True),
        )


class Zero(nn.Module):
    """The ``none`` op: an all-zero tensor of the input's shape (keeps the graph
    connected, so gradients flow as in the reference)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    """One cell edge (stride 1, same channels in and out)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise UserError(f"unknown NB201 op {name!r}")


class InferCell(nn.Module):
    """A fixed NB201 cell: node j = Σ_{i<j} op_{j←i}(node i); the output is node 3."""

    def __init__(self, ops: tuple[str, ...], channels: int) -> None:
        super().__init__()
        self.edges = EDGES
        self.layers = nn.ModuleList(make_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for node in (1, 2, 3):
            total = None
            for k, (dst, src) in enumerate(self.edges):
                if dst == node:
                    y = self.layers[k](nodes[src])
                    total = y if total is None else total + y
            nodes.append(total)
        return nodes[3]


class ResNetBasicBlock(nn.Module):
    """Reduction block between stages: two ReLU-Conv3x3-BN (the first with stride 2) plus
    an AvgPool(2)-Conv1x1 shortcut, as NB201's ``ResNetBasicblock``."""

    def __init__(self, c_in: int, c_out: int, stride: int = 2) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class TinyNetwork(nn.Module):
    """NB201 macro skeleton around one cell genotype."""

    def __init__(self, ops: tuple[str, ...], num_classes: int = 10) -> None:
        super().__init__()
        c = C_INIT
        self.stem = nn.Sequential(
            nn.Conv2d(3, c, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(c)
        )
        cells: list[nn.Module] = []
        for stage in range(3):
            if stage > 0:
                cells.append(ResNetBasicBlock(c, 2 * c, 2))
                c *= 2
            cells.extend(InferCell(ops, c) for _ in range(N_CELLS_PER_STAGE))
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-logit features (B, 64): used by the Zen-NAS proxy."""
        out = self.stem(x)
        for cell in self.cells:
            out = cell(out)
        out = self.lastact(out)
        return self.global_pooling(out).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def build_network(cell: str, num_classes: int = 10) -> nn.Module:
    """The NB201 ``TinyNetwork`` for a cell string (10 / 100 / 120 classes).

    Freshly initialised with torch's default initialisers (seed it with
    ``torch.manual_seed`` first for reproducible weights); in training mode.
    """
    if int(num_classes) < 1:
        raise UserError(f"num_classes must be a positive integer; got {num_classes}")
    return TinyNetwork(parse_cell(cell), int(num_classes))
