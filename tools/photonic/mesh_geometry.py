"""The static geometry of unitary MZI meshes: which mode pair each MZI couples, in the
order light meets them, its column (optical stage), and the phases a mesh holds.

Nothing here depends on a unitary's values: the Clements (rectangular, depth N) and Reck
(triangular, depth 2N−3) nulling orders fix the layout, so it is cached per (kind, N).
Decomposition and reconstruction live in :mod:`agentnas.tools.photonic.mesh`, which
re-exports everything public here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import torch

from agentnas.tools.errors import UserError

MeshKind = Literal["clements", "reck"]
MESH_KINDS: tuple[str, ...] = ("clements", "reck")


@dataclass(frozen=True)
class MeshLayout:
    """The static geometry of a mesh: which mode pair each MZI couples, in the order light
    meets them, and the column (optical stage, 0-based) each sits in."""

    kind: str
    n: int
    modes: tuple[int, ...]  # top mode m of each MZI; it couples (m, m+1)
    columns: tuple[int, ...]  # column of each MZI, same order as ``modes``

    @property
    def n_mzi(self) -> int:
        return len(self.modes)

    @property
    def depth(self) -> int:
        return 1 + max(self.columns) if self.columns else 0

    @property
    def pairs(self) -> list[tuple[int, int]]:
        return [(m, m + 1) for m in self.modes]

    def column_groups(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per column: (indices of its MZIs, their top modes) as int64 tensors."""
        return _column_groups(self.kind, self.n)


@dataclass(frozen=True)
class MeshPhases:
    """Phases of one mesh or a batch of meshes (leading dims ``...``).

    theta, phi: [..., n_mzi] internal/external MZI phases (rad), in ``layout.modes`` order.
    out_phase:  [..., N] output phase shifters (rad).
    """

    theta: torch.Tensor
    phi: torch.Tensor
    out_phase: torch.Tensor
    kind: str
    n: int

    @property
    def layout(self) -> MeshLayout:
        return mesh_layout(self.kind, self.n)

    @property
    def modes(self) -> tuple[int, ...]:
        return self.layout.modes

    @property
    def columns(self) -> tuple[int, ...]:
        return self.layout.columns

    @property
    def n_mzi(self) -> int:
        return self.theta.shape[-1]

    def replace(
        self,
        theta: torch.Tensor | None = None,
        phi: torch.Tensor | None = None,
        out_phase: torch.Tensor | None = None,
    ) -> MeshPhases:
        """A copy with some phase tensors swapped (non-idealities produce these)."""
        return MeshPhases(
            theta=self.theta if theta is None else theta,
            phi=self.phi if phi is None else phi,
            out_phase=self.out_phase if out_phase is None else out_phase,
            kind=self.kind,
            n=self.n,
        )


def _check_kind(kind: str) -> None:
    if kind not in MESH_KINDS:
        raise UserError(f"unknown mesh '{kind}'; accepted: {', '.join(MESH_KINDS)}")


def _check_n(n: int) -> None:
    if not isinstance(n, int) or n < 2:
        raise UserError(f"a mesh needs N >= 2 modes, got {n}")


def mzi_count(kind: str, n: int) -> int:
    """MZIs of an N×N unitary mesh: N(N−1)/2 for both kinds."""
    _check_kind(kind)
    _check_n(n)
    return n * (n - 1) // 2


def mesh_depth(kind: str, n: int) -> int:
    """Optical depth (MZI columns on the longest path): N for Clements, 2N−3 for Reck.

    Taken from the actual layout, so N = 2 (one MZI) gives 1 for both kinds.
    """
    _check_kind(kind)
    _check_n(n)
    return mesh_layout(kind, n).depth


# ---------------------------------------------------------------------------------------
# Layout: the fixed nulling order of each kind (independent of the unitary's values).


def _clements_order(n: int) -> tuple[list[tuple[int, int]], list[tuple[int, int, int]]]:
    """Clements et al. 2016 nulling sequence.

    Returns right ops [(row to null, column m)] (zero U[row, m] by U ← U·T⁻¹ on columns
    m, m+1) and left ops [(row above, row to null, column)] (zero U[row, col] by U ← T·U on
    rows row−1, row), both in the order they are performed.
    """
    right: list[tuple[int, int]] = []
    left: list[tuple[int, int, int]] = []
    for i in range(n - 1):
        if i % 2 == 0:
            for j in range(i + 1):
                right.append((n - 1 - j, i - j))
        else:
            for j in range(1, i + 2):
                r = n + j - i - 2
                left.append((r - 1, r, j - 1))
    return right, left


def _reck_order(n: int) -> list[tuple[int, int]]:
    """Reck-style triangle: null row N−1 left to right, then row N−2, … (right ops only)."""
    return [(i, j) for i in range(n - 1, 0, -1) for j in range(i)]


@lru_cache(maxsize=256)
def mesh_layout(kind: str, n: int) -> MeshLayout:
    """The static layout for ``kind`` and ``n``: MZI mode pairs in light's order, columns."""
    _check_kind(kind)
    _check_n(n)
    if kind == "clements":
        right, left = _clements_order(n)
        modes = [m for _, m in right] + [top for top, _, _ in reversed(left)]
    else:
        modes = [m for _, m in _reck_order(n)]
    last = [-1] * n  # greedy layering: an MZI sits one column after its latest neighbour
    columns = []
    for m in modes:
        c = max(last[m], last[m + 1]) + 1
        columns.append(c)
        last[m] = last[m + 1] = c
    return MeshLayout(kind=kind, n=n, modes=tuple(modes), columns=tuple(columns))


@lru_cache(maxsize=256)
def _column_groups(kind: str, n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    lay = mesh_layout(kind, n)
    groups = []
    for c in range(lay.depth):
        idx = [k for k, col in enumerate(lay.columns) if col == c]
        groups.append(
            (
                torch.tensor(idx, dtype=torch.long),
                torch.tensor([lay.modes[k] for k in idx], dtype=torch.long),
            )
        )
    return groups
