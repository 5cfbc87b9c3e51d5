"""Clements/Reck decomposition and reconstruction of unitaries (tools/photonic/mesh.py)."""

from __future__ import annotations

import math

import pytest
import torch

from agentnas.tools.errors import UserError
from agentnas.tools.photonic.energy import unitary_depth
from agentnas.tools.photonic.mesh import (
    MESH_KINDS,
    MeshPhases,
    clements_decompose,
    decompose,
    mesh_depth,
    mesh_layout,
    mzi_count,
    random_unitary,
    reck_decompose,
    reconstruct,
)


@pytest.mark.parametrize("kind", MESH_KINDS)
def test_reconstruction_is_exact_for_random_unitaries(kind: str) -> None:
    gen = torch.Generator().manual_seed(1)
    worst = 0.0
    for n in range(2, 33):
        u = random_unitary(n, (3,), gen)
        phases = decompose(u, kind)
        err = float((reconstruct(phases) - u).abs().amax())
        worst = max(worst, err)
        assert err < 1e-9, (kind, n, err)
    assert worst > 0  # it is a real computation, not a copy


@pytest.mark.parametrize("decomp", [clements_decompose, reck_decompose])
def test_real_orthogonal_float64_input(decomp) -> None:
    gen = torch.Generator().manual_seed(2)
    q, _ = torch.linalg.qr(torch.randn(4, 9, 9, dtype=torch.float64, generator=gen))
    phases = decomp(q)
    assert phases.theta.dtype == torch.float64
    rec = reconstruct(phases)
    assert rec.dtype == torch.complex128
    assert float((rec - q).abs().amax()) < 1e-9


@pytest.mark.parametrize("kind", MESH_KINDS)
def test_mzi_counts_and_phase_shapes(kind: str) -> None:
    for n in (2, 3, 4, 7, 16, 32):
        assert mzi_count(kind, n) == n * (n - 1) // 2
        assert mesh_layout(kind, n).n_mzi == n * (n - 1) // 2
        p = decompose(random_unitary(n, (5,)), kind)
        assert p.theta.shape == (5, n * (n - 1) // 2)
        assert p.phi.shape == (5, n * (n - 1) // 2)
        assert p.out_phase.shape == (5, n)


def test_depths_clements_n_reck_2n_minus_3() -> None:
    for n in range(3, 33):
        assert mesh_depth("clements", n) == n
        assert mesh_depth("reck", n) == 2 * n - 3
    assert mesh_depth("clements", 2) == mesh_depth("reck", 2) == 1  # a single MZI
    for kind in MESH_KINDS:
        for n in range(2, 33):
            assert unitary_depth(kind, n) == mesh_depth(kind, n)  # energy model agrees


@pytest.mark.parametrize("kind", MESH_KINDS)
def test_layout_couples_neighbours_and_columns_are_disjoint(kind: str) -> None:
    lay = mesh_layout(kind, 12)
    for c in range(lay.depth):
        modes = [m for m, col in zip(lay.modes, lay.columns, strict=True) if col == c]
        used = [x for m in modes for x in (m, m + 1)]
        assert len(used) == len(set(used))
        assert all(0 <= m < 11 for m in modes)


def test_single_mzi_transfer_matches_formula() -> None:
    theta, phi = 1.1, -0.7
    p = MeshPhases(
        theta=torch.tensor([theta], dtype=torch.float64),
        phi=torch.tensor([phi], dtype=torch.float64),
        out_phase=torch.zeros(2, dtype=torch.float64),
        kind="clements",
        n=2,
    )
    e = complex(math.cos(phi), math.sin(phi))
    s, c = math.sin(theta / 2), math.cos(theta / 2)
    expect = torch.tensor([[e * s, c], [e * c, -s]], dtype=torch.complex128)
    assert torch.allclose(reconstruct(p), expect, atol=1e-14)


@pytest.mark.parametrize("kind", MESH_KINDS)
def test_nonideal_couplers_and_loss(kind: str) -> None:
    gen = torch.Generator().manual_seed(3)
    u = random_unitary(8, (2,), gen)
    p = decompose(u, kind)
    zero = torch.zeros(*p.theta.shape, 2, dtype=torch.float64)
    assert float((reconstruct(p, alpha=zero) - u).abs().amax()) < 1e-12
    alpha = 0.05 * torch.randn(*p.theta.shape, 2, dtype=torch.float64, generator=gen)
    bad = reconstruct(p, alpha=alpha)
    eye = torch.eye(8, dtype=torch.complex128)
    assert float((bad @ bad.conj().transpose(-1, -2) - eye).abs().amax()) < 1e-12  # lossless
    assert float((bad - u).abs().amax()) > 1e-3  # but not the target any more
    lossy = reconstruct(p, loss_db=0.5)
    sv = torch.linalg.svdvals(lossy)
    assert float(sv.max()) < 1.0  # every path loses light
    depth = mesh_depth(kind, 8)
    assert float(sv.min()) >= 10 ** (-0.5 * (2 * depth) / 20) - 1e-12


def test_batched_equals_one_by_one() -> None:
    u = random_unitary(6, (4,), torch.Generator().manual_seed(4))
    batch = clements_decompose(u)
    for i in range(4):
        one = clements_decompose(u[i])
        assert torch.allclose(one.theta, batch.theta[i], atol=1e-12)
        assert torch.allclose(one.phi, batch.phi[i], atol=1e-12)


def test_reconstruct_is_differentiable_in_phases() -> None:
    p = decompose(random_unitary(4, (), torch.Generator().manual_seed(5)), "reck")
    theta = p.theta.clone().requires_grad_(True)
    m = reconstruct(p.replace(theta=theta))
    m.real.sum().backward()
    assert theta.grad is not None and float(theta.grad.abs().sum()) > 0


def test_bad_input_is_refused() -> None:
    with pytest.raises(UserError, match="square"):
        clements_decompose(torch.zeros(3, 4))
    with pytest.raises(UserError, match="not unitary"):
        reck_decompose(torch.ones(3, 3, dtype=torch.float64))
    with pytest.raises(UserError, match="unknown mesh 'butterfly'"):
        decompose(torch.eye(3), "butterfly")
    with pytest.raises(UserError, match="N >= 2"):
        mzi_count("clements", 1)
