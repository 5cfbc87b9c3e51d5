"""Proxies that need no labels: synflow, zen, l2_norm (params and flops are analytic, in
:mod:`agentnas.tools.spaces.nb201_complexity`).

* ``synflow`` (Tanaka et al., NeurIPS 2020, as zero-cost-nas scores it): BN disabled,
  every parameter replaced by its absolute value, float64, one all-ones input;
  S = Σ |w ⊙ ∂(Σ output)/∂w| over Conv2d/Linear weights; reported as ln S (0 when S = 0),
  the scale NAS-Bench-Suite-Zero stores (S itself spans 1e6..1e50). Runs on a copy.
* ``zen`` (Lin et al., ICCV 2021, Zen-NAS): weights ~ N(0, 1), BN γ=1 β=0, training mode;
  score = log E|f(x) − f(x + 0.01·ε)| + Σ_BN log √(mean running_var), f the pre-pool
  feature map. Zen-NAS feeds Gaussian noise; here x is the real image batch and ε is
  seeded Gaussian noise (one repeat). Runs on a copy.
* ``l2_norm``: Σ_layers ‖w‖₂ over Conv2d/Linear weights at initialisation.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from agentnas.tools.proxies.data import ProxyBatch
from agentnas.tools.proxies.measures_grad import weight_layers

MIXUP_GAMMA = 1e-2


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def synflow(net: nn.Module, batch: ProxyBatch) -> float:
    net = copy.deepcopy(net).double()
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            m.forward = _identity  # type: ignore[method-assign]
    with torch.no_grad():
        for p in net.state_dict().values():
            p.abs_()
    net.zero_grad(set_to_none=True)
    ones = torch.ones((1, *batch.x.shape[1:]), dtype=torch.float64)
    net(ones).sum().backward()
    with torch.no_grad():
        total = float(
            sum(
                (m.weight * m.weight.grad).abs().sum()
                for m in weight_layers(net)
                if m.weight.grad is not None
            )
        )
    return math.log(total) if total > 0 and math.isfinite(total) else 0.0


def l2_norm(net: nn.Module) -> float:
    with torch.no_grad():
        return float(sum(m.weight.norm() for m in weight_layers(net)))


def zen(net: nn.Module, batch: ProxyBatch, seed: int) -> float:
    net = copy.deepcopy(net)
    gen = torch.Generator().manual_seed(int(seed) + 7919)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                m.weight.normal_(generator=gen)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(1.0)
                m.bias.zero_()
        net.train()
        noise = torch.randn(batch.x.shape, generator=gen)
        f_x = _pre_pool(net, batch.x)
        f_mix = _pre_pool(net, batch.x + MIXUP_GAMMA * noise)
        delta = torch.mean(torch.sum(torch.abs(f_x - f_mix), dim=1))
        log_bn = 0.0
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d) and m.running_var is not None:
                log_bn += 0.5 * math.log(float(torch.mean(m.running_var)) + 1e-5)
    return float(math.log(float(delta) + 1e-5) + log_bn)


def _pre_pool(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The feature map before global pooling (NB201 ``TinyNetwork``: after BN-ReLU)."""
    out = net.stem(x)
    for cell in net.cells:
        out = cell(out)
    return net.lastact(out)
