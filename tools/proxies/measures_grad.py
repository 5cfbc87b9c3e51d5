"""Gradient proxies from one shared forward pass: grad_norm, snip, plain, fisher, grasp
(loss gradients) and nwot, jacov, epe_nas (activations and input Jacobians).

Definitions follow NAS-Bench-Suite-Zero / zero-cost-nas (Abdelfattah et al., ICLR 2021,
re-implemented here): the network in training mode with BN, default init, cross-entropy
on one labelled batch; every loss score is a sum over the Conv2d and Linear weights
``w`` with gradient ``g = ∂L/∂w``:

* ``grad_norm`` = Σ_layers ‖g‖₂
* ``snip``      = Σ |g ⊙ w|   (= |∂L/∂mask| for a multiplicative mask at 1)
* ``plain``     = Σ g ⊙ w
* ``fisher``    = Σ_layers Σ_channels fan_in · ½·mean_batch(Σ_spatial a ⊙ ∂L/∂a)², with
  ``a`` the layer's output (the reference broadcasts each channel's value over its
  fan-in before summing, hence the ``fan_in`` factor)
* ``grasp``     = Σ −w ⊙ (H g), H the Hessian of L w.r.t. the weights.

The reference runs one forward pass per measure on copies of the same network; here one
forward pass serves all eight (the Jacobian backward keeps the graph, the loss gradient
is taken with ``create_graph`` when GraSP needs H·g). This is exact: no measure changes
the weights, and BN in training mode normalises with the batch's own statistics.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from agentnas.tools.proxies.data import ProxyBatch
from agentnas.tools.proxies.measures_jacobian import (
    JACOBIAN_PROXIES,
    NwotKernel,
    jacobian_scores,
)

GRAD_PROXIES: tuple[str, ...] = ("grad_norm", "snip", "plain", "fisher", "grasp")
SHARED_PASS_PROXIES: frozenset[str] = frozenset(GRAD_PROXIES + JACOBIAN_PROXIES)


def weight_layers(net: nn.Module) -> list[nn.Module]:
    """Conv2d and Linear layers in module order: the layers every pruning score sums."""
    return [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


class _FisherHooks:
    """Capture ½·mean_n(Σ_spatial a·∂L/∂a)² per channel at every weight layer's output,
    only while ``active`` (the Jacobian backward pass must not count)."""

    def __init__(self, layers: list[nn.Module]) -> None:
        self.active = False
        self.values: dict[int, torch.Tensor] = {}
        self.handles = [m.register_forward_hook(self._forward(i)) for i, m in enumerate(layers)]

    def _forward(self, layer_id: int):
        def hook(_m: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
            act = out.detach()

            def on_grad(grad: torch.Tensor) -> None:
                if self.active:
                    prod = act * grad.detach()
                    g_nk = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
                    self.values[layer_id] = 0.5 * g_nk.pow(2).mean(0)

            if out.requires_grad:
                out.register_hook(on_grad)

        return hook

    def remove(self) -> None:
        for h in self.handles:
            h.remove()


def gradient_scores(net: nn.Module, batch: ProxyBatch, wanted: Iterable[str]) -> dict[str, float]:
    """The requested subset of :data:`SHARED_PASS_PROXIES` for ``net`` (training mode)."""
    wanted = set(wanted) & SHARED_PASS_PROXIES
    layers = weight_layers(net)
    weights = [m.weight for m in layers]
    net.train()
    net.zero_grad(set_to_none=True)
    want_jac = bool(wanted & {"jacov", "epe_nas"})
    want_loss = bool(wanted & set(GRAD_PROXIES))

    nwot = NwotKernel(net, batch.size) if "nwot" in wanted else None
    fisher = _FisherHooks(layers) if "fisher" in wanted else None
    x = batch.x.clone().requires_grad_(want_jac)
    try:
        y = net(x)
    finally:
        for hooks in (nwot, fisher):
            if hooks is not None:
                hooks.remove()

    out: dict[str, float] = {}
    if nwot is not None:
        out["nwot"] = nwot.score()
    if want_jac:
        (jac,) = torch.autograd.grad(y.sum(), x, retain_graph=want_loss)
        out.update(jacobian_scores(jac, batch.y, wanted))
    if not want_loss:
        return out

    loss = F.cross_entropy(y, batch.y)
    if fisher is not None:
        fisher.active = True
    grads = torch.autograd.grad(loss, weights, create_graph="grasp" in wanted, allow_unused=True)
    if fisher is not None:
        fisher.active = False
    g = [None if t is None else t.detach() for t in grads]
    with torch.no_grad():
        pairs = [(gi, w) for gi, w in zip(g, weights, strict=True) if gi is not None]
        if "grad_norm" in wanted:
            out["grad_norm"] = float(sum(gi.norm() for gi, _ in pairs))
        if "snip" in wanted:
            out["snip"] = float(sum((gi * w).abs().sum() for gi, w in pairs))
        if "plain" in wanted:
            out["plain"] = float(sum((gi * w).sum() for gi, w in pairs))
        if fisher is not None:
            out["fisher"] = float(
                sum(
                    float(fisher.values[i].abs().sum()) * m.weight[0].numel()
                    for i, m in enumerate(layers)
                    if i in fisher.values
                )
            )
    if "grasp" in wanted:
        out["grasp"] = _grasp(weights, g, grads)
    return out


def _grasp(
    weights: list[torch.Tensor],
    grad_w: list[torch.Tensor | None],
    grad_f: tuple[torch.Tensor | None, ...],
) -> float:
    """GraSP (Wang et al., ICLR 2020) as zero-cost-nas scores it: Σ −w ⊙ H·g."""
    terms = [
        (gw * gf).sum()
        for gw, gf in zip(grad_w, grad_f, strict=True)
        if gw is not None and gf is not None and gf.requires_grad
    ]
    if not terms:
        return 0.0
    hg = torch.autograd.grad(sum(terms), weights, allow_unused=True)
    with torch.no_grad():
        return float(sum((-w * h).sum() for w, h in zip(weights, hg, strict=True) if h is not None))
