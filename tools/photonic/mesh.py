"""Unitary MZI meshes: Clements/Reck decomposition of a unitary into MZI phases, and back.

An N×N unitary is realised by N(N−1)/2 Mach-Zehnder interferometers on neighbouring mode
pairs (m, m+1) plus one output phase shifter per mode. Each MZI (two 50:50 couplers,
internal phase θ, external phase φ) has, up to a global phase, the transfer ::

    T(θ, φ) = [[e^{iφ} sin(θ/2),  cos(θ/2)],
               [e^{iφ} cos(θ/2), −sin(θ/2)]]

(Clements et al., Optica 3, 1460 (2016); Reck et al., PRL 73, 58 (1994)). The rectangular
Clements mesh has optical depth N, the triangular Reck mesh 2N−3 (N ≥ 3; a single MZI at
N = 2).

Everything is batched over leading dimensions: a 784→128 layer tiled into 16×16 blocks is
~800 unitaries, decomposed together. Decomposition loops over the N(N−1)/2 nulling steps,
each step acting on the whole batch; reconstruction loops over the mesh *columns* (MZIs in
one column act on disjoint mode pairs and are applied at once), so it costs ``depth`` steps.
The layouts themselves (mode pairs, columns, phases) are in :mod:`.mesh_geometry`.

Non-ideal reconstruction takes a splitting error α per coupler (coupler
[[cos(π/4+α), i sin(π/4+α)], [i sin(π/4+α), cos(π/4+α)]]) and an insertion loss per MZI;
the MZI is then modelled as −i·B(α₂)·diag(e^{iθ/2}, e^{−iθ/2})·B(α₁)·diag(e^{iφ}, 1) (a
push-pull internal shifter), which equals T(θ, φ) exactly when α = 0.
"""

from __future__ import annotations

import math

import torch

from agentnas.tools.errors import UserError
from agentnas.tools.photonic.mesh_geometry import (
    MESH_KINDS,
    MeshKind,
    MeshLayout,
    MeshPhases,
    _check_kind,
    _check_n,
    _clements_order,
    _reck_order,
    mesh_depth,
    mesh_layout,
    mzi_count,
)

__all__ = [
    "MESH_KINDS",
    "MeshKind",
    "MeshLayout",
    "MeshPhases",
    "clements_decompose",
    "decompose",
    "mesh_depth",
    "mesh_layout",
    "mzi_count",
    "random_unitary",
    "reck_decompose",
    "reconstruct",
]

# ---------------------------------------------------------------------------------------
# Decomposition


def _as_unitary_batch(u: torch.Tensor) -> torch.Tensor:
    if u.dim() < 2 or u.shape[-1] != u.shape[-2]:
        raise UserError(f"expected a square matrix [..., N, N], got shape {tuple(u.shape)}")
    _check_n(int(u.shape[-1]))
    if u.dtype in (torch.float64, torch.complex128):
        return u.to(torch.complex128).clone()
    if u.dtype in (torch.float32, torch.complex64, torch.float16, torch.bfloat16):
        return u.to(torch.complex64).clone()
    raise UserError(f"unsupported dtype {u.dtype}; use float32/64 or complex64/128")


def _null_right(w: torch.Tensor, r: int, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero w[..., r, m] by w ← w·T(θ,φ)⁻¹ on columns (m, m+1); returns θ, φ (in place)."""
    a = w[..., r, m]
    b = w[..., r, m + 1]
    theta = 2.0 * torch.atan2(b.abs(), a.abs())
    phi = torch.angle(-a * b.conj())
    s = torch.sin(theta / 2).unsqueeze(-1)
    c = torch.cos(theta / 2).unsqueeze(-1)
    e = torch.exp(-1j * phi).unsqueeze(-1)
    col_m = w[..., :, m].clone()
    col_n = w[..., :, m + 1].clone()
    w[..., :, m] = col_m * e * s + col_n * c
    w[..., :, m + 1] = col_m * e * c - col_n * s
    return theta, phi


def _null_left(w: torch.Tensor, top: int, r: int, col: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero w[..., r, col] by w ← T(θ,φ)·w on rows (top, r=top+1); returns θ, φ."""
    a = w[..., top, col]
    b = w[..., r, col]
    theta = 2.0 * torch.atan2(a.abs(), b.abs())
    phi = torch.angle(b * a.conj())
    s = torch.sin(theta / 2).unsqueeze(-1)
    c = torch.cos(theta / 2).unsqueeze(-1)
    e = torch.exp(1j * phi).unsqueeze(-1)
    row_t = w[..., top, :].clone()
    row_b = w[..., r, :].clone()
    w[..., top, :] = e * s * row_t + c * row_b
    w[..., r, :] = e * c * row_t - s * row_b
    return theta, phi


def _check_unitary(u: torch.Tensor, tol: float) -> None:
    n = u.shape[-1]
    eye = torch.eye(n, dtype=u.dtype)
    err = (u @ u.conj().transpose(-1, -2) - eye).abs().amax()
    if float(err) > tol:
        raise UserError(f"matrix is not unitary (max |UU†−I| = {float(err):.2e} > {tol:g})")


def clements_decompose(u: torch.Tensor, check: bool = True) -> MeshPhases:
    """Phases of a rectangular (Clements) mesh with ``reconstruct(...) == u``.

    u: [..., N, N] unitary (real or complex). Not differentiable (it is a mapping step).
    """
    with torch.no_grad():
        w = _as_unitary_batch(u)
        n = w.shape[-1]
        if check:
            _check_unitary(w, 1e-6 if w.dtype == torch.complex128 else 1e-3)
        right, left = _clements_order(n)
        thetas, phis = [], []
        left_phases = []
        # Alternate exactly as Clements: diagonal i is nulled either from the right or left.
        ri = li = 0
        for i in range(n - 1):
            if i % 2 == 0:
                for _ in range(i + 1):
                    r, m = right[ri]
                    ri += 1
                    t, p = _null_right(w, r, m)
                    thetas.append(t)
                    phis.append(p)
            else:
                for _ in range(i + 1):
                    top, r, col = left[li]
                    li += 1
                    left_phases.append(_null_left(w, top, r, col))
        d = torch.diagonal(w, dim1=-2, dim2=-1).clone()
        # Push every left MZI through the diagonal: T⁻¹·D = D'·T(θ, φ') with
        # φ' = arg(d_m / d_{m+1}), d'_m = e^{−iφ} d_{m+1}, d'_{m+1} = d_{m+1}.
        for (top, _, _), (t, p) in zip(reversed(left), reversed(left_phases), strict=True):
            d1 = d[..., top].clone()
            d2 = d[..., top + 1].clone()
            thetas.append(t)
            phis.append(torch.angle(d1 * d2.conj()))
            d[..., top] = torch.exp(-1j * p) * d2
        real = torch.float64 if w.dtype == torch.complex128 else torch.float32
        return MeshPhases(
            theta=torch.stack(thetas, dim=-1).to(real),
            phi=torch.stack(phis, dim=-1).to(real),
            out_phase=torch.angle(d).to(real),
            kind="clements",
            n=n,
        )


def reck_decompose(u: torch.Tensor, check: bool = True) -> MeshPhases:
    """Phases of a triangular (Reck) mesh with ``reconstruct(...) == u``; u: [..., N, N]."""
    with torch.no_grad():
        w = _as_unitary_batch(u)
        n = w.shape[-1]
        if check:
            _check_unitary(w, 1e-6 if w.dtype == torch.complex128 else 1e-3)
        thetas, phis = [], []
        for r, m in _reck_order(n):
            t, p = _null_right(w, r, m)
            thetas.append(t)
            phis.append(p)
        d = torch.diagonal(w, dim1=-2, dim2=-1)
        real = torch.float64 if w.dtype == torch.complex128 else torch.float32
        return MeshPhases(
            theta=torch.stack(thetas, dim=-1).to(real),
            phi=torch.stack(phis, dim=-1).to(real),
            out_phase=torch.angle(d).to(real),
            kind="reck",
            n=n,
        )


def decompose(u: torch.Tensor, kind: str = "clements", check: bool = True) -> MeshPhases:
    """Dispatch on ``kind`` ("clements" | "reck")."""
    _check_kind(kind)
    return clements_decompose(u, check) if kind == "clements" else reck_decompose(u, check)


# ---------------------------------------------------------------------------------------
# Reconstruction


def _mzi_entries(
    theta: torch.Tensor,
    phi: torch.Tensor,
    alpha: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """2×2 transfer entries (t11, t12, t21, t22) of MZIs, ideal or with coupler errors."""
    e_phi = torch.exp(1j * phi)
    if alpha is None:
        s = torch.sin(theta / 2).to(e_phi.dtype)
        c = torch.cos(theta / 2).to(e_phi.dtype)
        return e_phi * s, c, e_phi * c, -s
    a1 = math.pi / 4 + alpha[..., 0]
    a2 = math.pi / 4 + alpha[..., 1]
    c1, s1, c2, s2 = torch.cos(a1), torch.sin(a1), torch.cos(a2), torch.sin(a2)
    p = torch.exp(0.5j * theta)
    q = p.conj()
    t11 = -1j * (c1 * c2 * p - s1 * s2 * q)
    t12 = c2 * s1 * p + s2 * c1 * q
    t21 = s2 * c1 * p + c2 * s1 * q
    t22 = 1j * (s1 * s2 * p - c1 * c2 * q)
    return e_phi * t11, t12, e_phi * t21, t22


def reconstruct(
    phases: MeshPhases,
    alpha: torch.Tensor | None = None,
    loss_db: float | torch.Tensor | None = None,
) -> torch.Tensor:
    """The [..., N, N] complex transfer matrix of the mesh.

    alpha:   coupler splitting errors (rad), [..., n_mzi, 2] (first, second coupler); None
             means ideal 50:50 couplers.
    loss_db: insertion loss per MZI in dB (a float or [..., n_mzi]); None means lossless.
    Differentiable in the phases. complex128 when the phases are float64.
    """
    theta, phi, out = phases.theta, phases.phi, phases.out_phase
    n = phases.n
    cdtype = torch.complex128 if theta.dtype == torch.float64 else torch.complex64
    batch = torch.broadcast_shapes(theta.shape[:-1], phi.shape[:-1], out.shape[:-1])
    if alpha is not None:
        batch = torch.broadcast_shapes(batch, alpha.shape[:-2])
    amp = None
    if loss_db is not None:
        amp = torch.as_tensor(10.0 ** (-torch.as_tensor(loss_db, dtype=theta.dtype) / 20.0))
        if amp.dim() > 0:
            batch = torch.broadcast_shapes(batch, amp.shape[:-1])
    # In-place row updates on a private copy (autograd-safe: the rows read are copies).
    m = torch.eye(n, dtype=cdtype).expand(*batch, n, n).clone()
    theta = theta.expand(*batch, theta.shape[-1])
    phi = phi.expand(*batch, phi.shape[-1])
    if alpha is not None:
        alpha = alpha.expand(*batch, *alpha.shape[-2:])
    if amp is not None and amp.dim() > 0:
        amp = amp.expand(*batch, amp.shape[-1])
    for idx, tops in phases.layout.column_groups():
        a = None if alpha is None else alpha[..., idx, :]
        t11, t12, t21, t22 = _mzi_entries(theta[..., idx], phi[..., idx], a)
        if amp is not None:
            g = amp[..., idx] if amp.dim() > 0 else amp
            t11, t12, t21, t22 = t11 * g, t12 * g, t21 * g, t22 * g
        bots = tops + 1
        top = m[..., tops, :]
        bot = m[..., bots, :]
        m[..., tops, :] = t11.unsqueeze(-1) * top + t12.unsqueeze(-1) * bot
        m[..., bots, :] = t21.unsqueeze(-1) * top + t22.unsqueeze(-1) * bot
    return torch.exp(1j * out.expand(*batch, n)).unsqueeze(-1) * m


def random_unitary(
    n: int,
    batch: tuple[int, ...] = (),
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.complex128,
) -> torch.Tensor:
    """Haar-random unitaries [*batch, n, n] (QR of a complex Gaussian, phases fixed)."""
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    z = torch.complex(
        torch.randn(*batch, n, n, generator=generator, dtype=real),
        torch.randn(*batch, n, n, generator=generator, dtype=real),
    )
    q, r = torch.linalg.qr(z)
    d = torch.diagonal(r, dim1=-2, dim2=-1)
    return q * (d / d.abs()).unsqueeze(-2)
