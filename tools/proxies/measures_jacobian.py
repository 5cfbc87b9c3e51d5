"""Activation and input-Jacobian proxies: nwot (NASWOT), jacov, epe_nas.

They share the forward pass of the loss-gradient proxies
(:func:`agentnas.tools.proxies.measures_grad.gradient_scores`): ReLU hooks give NASWOT's
kernel, one backward pass of Σ logits to the input gives the Jacobians. Definitions
follow the NAS-Bench-Suite-Zero reference code:

* ``nwot`` (Mellor et al., ICML 2021, v2): K = Σ_ReLU [c cᵀ + (1−c)(1−c)ᵀ] with c the
  binary code "ReLU input > 0" of each image; score = log|det K|.
* ``jacov`` (Mellor et al., v1): eigenvalues λ of the correlation matrix of the per-image
  input Jacobians J = ∂(Σ logits)/∂x; score = −Σ log(λ+k) + 1/(λ+k), k = 1e-5.
* ``epe_nas`` (Lopes et al., 2021): per class c, s_c = Σ log(|corr(J_c)| + k); score =
  Σ_c |s_c| (≤ 100 classes).

Degenerate networks (output independent of the input) make these undefined; the reference
stores −1e8 for jacov/epe_nas and −inf for nwot. We return :data:`UNDEFINED` (−1e8) for
all three so every score stays a finite float that ranks such cells last.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

JACOBIAN_PROXIES: tuple[str, ...] = ("nwot", "jacov", "epe_nas")
UNDEFINED = -1e8
_K = 1e-5


class NwotKernel:
    """Forward hooks on every ReLU accumulating the NASWOT kernel K of a batch."""

    def __init__(self, net: nn.Module, batch_size: int) -> None:
        self.b = batch_size
        self.kernel = np.zeros((batch_size, batch_size), dtype=np.float64)
        self.handles = [
            m.register_forward_hook(self._count) for m in net.modules() if isinstance(m, nn.ReLU)
        ]

    def _count(self, _m: nn.Module, inp: tuple, _out: torch.Tensor) -> None:
        c = (inp[0].detach().reshape(self.b, -1) > 0).to(torch.float64)
        self.kernel += (c @ c.t() + (1.0 - c) @ (1.0 - c).t()).numpy()

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def score(self) -> float:
        sign, logdet = np.linalg.slogdet(self.kernel)
        return float(logdet) if sign != 0 and np.isfinite(logdet) else UNDEFINED


def jacobian_scores(jac: torch.Tensor, labels: torch.Tensor, wanted: set[str]) -> dict[str, float]:
    """jacov and/or epe_nas from the per-image input Jacobians (B, 3, H, W)."""
    j = jac.detach().reshape(jac.shape[0], -1).to(torch.float64).numpy()
    out: dict[str, float] = {}
    if "jacov" in wanted:
        out["jacov"] = _finite(_jacov(j))
    if "epe_nas" in wanted:
        out["epe_nas"] = _finite(_epe_nas(j, labels.numpy()))
    return out


def _finite(value: float) -> float:
    return float(value) if np.isfinite(value) else UNDEFINED


def _corrcoef(rows: np.ndarray) -> np.ndarray | None:
    """Row correlation matrix, or None when a row is constant (correlation undefined)."""
    if rows.shape[0] < 2 or np.any(rows.std(axis=1) == 0):
        return None
    return np.corrcoef(rows)


def _jacov(jac: np.ndarray) -> float:
    corr = _corrcoef(jac)
    if corr is None:
        return UNDEFINED
    v = np.clip(np.linalg.eigvalsh(corr), 0.0, None)  # symmetric PSD: round-off only
    return float(-np.sum(np.log(v + _K) + 1.0 / (v + _K)))


def _epe_nas(jac: np.ndarray, labels: np.ndarray) -> float:
    classes = np.unique(labels)
    if len(classes) > 100:  # the reference switches formula above 100 classes
        raise ValueError("epe_nas is defined here for at most 100 classes")
    score = 0.0
    seen = 0
    for c in classes:
        rows = jac[labels == c]
        if rows.shape[0] < 2:
            continue  # a single image has no correlation matrix; the reference skips it too
        corr = _corrcoef(rows)
        if corr is None:
            return UNDEFINED
        score += abs(float(np.sum(np.log(np.abs(corr) + _K))))
        seen += 1
    return score if seen else UNDEFINED
