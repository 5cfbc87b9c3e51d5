"""Loss-gradient proxies: grad_norm, snip, plain, fisher (one backward pass) and grasp
(one more Hessian-gradient pass).

Definitions follow NAS-Bench-Suite-Zero / zero-cost-nas (Abdelfattah et al., ICLR 2021,
re-implemented here): the network in training mode with BN, default init, cross-entropy
on one labelled batch; every score is a sum over the Conv2d and Linear weights ``w``
with gradient ``g = ∂L/∂w``:

* ``grad_norm`` = Σ_layers ‖g‖₂
* ``snip``      = Σ |g ⊙ w|   (= |∂L/∂mask| for a multiplicative mask at 1)
* ``plain``     = Σ g ⊙ w
* ``fisher``    = Σ_layers Σ_channels fan_in · ½·mean_batch(Σ_spatial a ⊙ ∂L/∂a)², with
  ``a`` the layer's output (the reference broadcasts each channel's value over its
  fan-in before summing, hence the ``fan_in`` factor)
* ``grasp``     = Σ −w ⊙ (H g), H the Hessian of L w.r.t. the weights.

Sharing one forward/backward between the first four is exact: none of them changes
the weights, and BN in training mode normalises with batch statistics.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import nn

from agentnas.tools.proxies.data import ProxyBatch

GRAD_PROXIES: tuple[str, ...] = ("grad_norm", "snip", "plain", "fisher", "grasp")


def weight_layers(net: nn.Module) -> list[nn.Module]:
    """Conv2d and Linear layers in module order: the layers every pruning score sums."""
    return [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.Linear)]


def loss_gradient_scores(
    net: nn.Module, batch: ProxyBatch, wanted: Iterable[str]
) -> dict[str, float]:
    """The requested subset of :data:`GRAD_PROXIES` for ``net`` (left in training mode)."""
    wanted = set(wanted)
    layers = weight_layers(net)
    net.train()
    net.zero_grad(set_to_none=True)

    fisher: dict[int, torch.Tensor] = {}
    handles = []
    if "fisher" in wanted:

        def capture(layer_id: int):
            def hook(_m: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
                act = out.detach()

                def on_grad(grad: torch.Tensor) -> None:
                    prod = act * grad
                    g_nk = prod.sum(dim=tuple(range(2, prod.dim()))) if prod.dim() > 2 else prod
                    fisher[layer_id] = 0.5 * g_nk.pow(2).mean(0)

                out.register_hook(on_grad)

            return hook

        handles = [m.register_forward_hook(capture(i)) for i, m in enumerate(layers)]

    try:
        loss = F.cross_entropy(net(batch.x), batch.y)
        loss.backward()
    finally:
        for h in handles:
            h.remove()

    grads = [m.weight.grad if m.weight.grad is not None else None for m in layers]
    out: dict[str, float] = {}
    with torch.no_grad():
        if "grad_norm" in wanted:
            out["grad_norm"] = float(sum(g.norm() for g in grads if g is not None))
        if "snip" in wanted:
            out["snip"] = float(
                sum(
                    (g * m.weight).abs().sum()
                    for g, m in zip(grads, layers, strict=True)
                    if g is not None
                )
            )
        if "plain" in wanted:
            out["plain"] = float(
                sum(
                    (g * m.weight).sum()
                    for g, m in zip(grads, layers, strict=True)
                    if g is not None
                )
            )
        if "fisher" in wanted:
            total = 0.0
            for i, m in enumerate(layers):
                if i in fisher:
                    fan_in = m.weight[0].numel()
                    total += float(fisher[i].abs().sum()) * fan_in
            out["fisher"] = total
    if "grasp" in wanted:
        out["grasp"] = _grasp(net, batch, layers, grads)
    net.zero_grad(set_to_none=True)
    return out


def _grasp(
    net: nn.Module,
    batch: ProxyBatch,
    layers: list[nn.Module],
    grad_w: list[torch.Tensor | None],
) -> float:
    """GraSP (Wang et al., ICLR 2020) as zero-cost-nas scores it: Σ −w ⊙ H·g."""
    weights = [m.weight for m in layers]
    net.zero_grad(set_to_none=True)
    loss = F.cross_entropy(net(batch.x), batch.y)
    grad_f = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    z = sum(
        (gw.detach() * gf).sum()
        for gw, gf in zip(grad_w, grad_f, strict=True)
        if gw is not None and gf is not None
    )
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        return 0.0
    z.backward()
    with torch.no_grad():
        return float(sum((-w * w.grad).sum() for w in weights if w.grad is not None))
