"""Parameters and FLOPs of the NAS-Bench-201 network, analytically (no torch needed).

The convention is the one NAS-Bench-Suite-Zero's ``params``/``flops`` proxies report,
so our proxies and the shipped ``params_m``/``flops_m`` columns agree with that data:

* parameters in millions, *all* trainable tensors: convolutions, affine BN (γ, β) and the
  classifier (weights + bias), as ``sum(p.numel() for p in net.parameters())``;
* FLOPs in millions for one image, counted per module as NAS-Bench-Suite-Zero's
  ``tensorwatch`` statistics do (reproduced exactly on all its 2,174 cells):
  convolution k·k·C_in·C_out per output position (multiply-adds, no bias), classifier
  in·out (no bias), ReLU 1 per input element, affine BN 2 per element, the cell's 3×3
  avg-pool 9 per output element, the shortcut's 2×2 avg-pool 1 per input element, and
  the global average pool (h+1)²·C for an h×h input. Tensor additions are not counted.
  These are not pure multiply-adds: the non-convolution terms are ~1–2 % of a
  conv-heavy cell's total but a large share for pooling-only cells.

Checked against torch (:func:`agentnas.tools.spaces.nb201_torch.build_network`) and
against every cell of the NAS-Bench-Suite-Zero subset (tests/test_nb201_network.py).
A closed form keeps all 15,625 cells under a second.
"""

from __future__ import annotations

from agentnas.tools.errors import UserError
from agentnas.tools.spaces.nb201 import parse_cell
from agentnas.tools.spaces.nb201_torch import C_INIT, N_CELLS_PER_STAGE

# input resolution per class count: ImageNet16-120 (120 classes) uses 16x16 images
_INPUT_SIZE = {10: 32, 100: 32, 120: 16}


def _cell_costs(ops: tuple[str, ...], c: int, hw: int) -> tuple[int, int]:
    """(params, flops) of one cell at ``c`` channels and ``hw``×``hw`` resolution."""
    params = flops = 0
    area = hw * hw
    for op in ops:
        if op == "nor_conv_3x3":
            params += 9 * c * c + 2 * c
            flops += (9 * c * c + 3 * c) * area  # conv + ReLU + BN
        elif op == "nor_conv_1x1":
            params += c * c + 2 * c
            flops += (c * c + 3 * c) * area
        elif op == "avg_pool_3x3":
            flops += 9 * c * area
    return params, flops


def _reduction_costs(c_in: int, c_out: int, hw_out: int) -> tuple[int, int]:
    """(params, flops) of the ResNet basic block that halves the resolution."""
    area = hw_out * hw_out
    params = 9 * c_in * c_out + 2 * c_out + 9 * c_out * c_out + 2 * c_out + c_in * c_out
    convs = (9 * c_in * c_out + 9 * c_out * c_out + c_in * c_out) * area
    relus = 4 * c_in * area + c_out * area  # conv_a's ReLU sees the full-size input
    bns = 2 * (2 * c_out * area)
    pool = 4 * c_in * area
    flops = convs + relus + bns + pool
    return params, flops


def count_params_and_flops(
    cell: str, num_classes: int = 10, input_size: int | None = None
) -> tuple[int, int]:
    """Exact integer (parameters, FLOPs) for one image, in the convention above."""
    ops = parse_cell(cell)
    if int(num_classes) < 1:
        raise UserError(f"num_classes must be a positive integer; got {num_classes}")
    hw = input_size if input_size is not None else _INPUT_SIZE.get(int(num_classes), 32)
    if hw < 4 or hw % 4:
        raise UserError(f"input size must be a multiple of 4 (two stride-2 stages); got {hw}")
    c = C_INIT
    params = 27 * c + 2 * c  # stem conv + BN
    flops = 27 * c * hw * hw + 2 * c * hw * hw  # stem conv + BN
    for stage in range(3):
        if stage > 0:
            hw //= 2
            p, f = _reduction_costs(c, 2 * c, hw)
            params, flops, c = params + p, flops + f, 2 * c
        p, f = _cell_costs(ops, c, hw)
        params += N_CELLS_PER_STAGE * p
        flops += N_CELLS_PER_STAGE * f
    params += 2 * c + c * num_classes + num_classes  # last BN + classifier
    flops += 3 * c * hw * hw  # last BN + ReLU
    flops += (hw + 1) ** 2 * c  # global average pool, as tensorwatch counts it
    flops += c * num_classes
    return params, flops


def params_and_flops(
    cell: str, num_classes: int = 10, input_size: int | None = None
) -> tuple[float, float]:
    """(parameters in M, FLOPs in M, convention above) of the NB201 network for ``cell``.

    ``input_size`` defaults to 32 (CIFAR, 10/100 classes) or 16 (ImageNet16-120, 120
    classes), matching the benchmark.
    """
    p, f = count_params_and_flops(cell, num_classes, input_size)
    return p / 1e6, f / 1e6
