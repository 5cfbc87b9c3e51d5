"""``MZILinear``: a linear layer computed by tiled MZI meshes, with non-idealities.

API for the search-space helper (everything else here is detail):
  ``layer = MZILinear(784, 128, mesh="clements", block_size=16, nonideal=preset("realistic"))``;
  ``y = layer(x, generator=g)`` is one Monte-Carlo draw; ``nonideal=None`` is nn.Linear.
  ``set_nonideal(model, ni, generator)`` sets both on every MZILinear of a model. The
  decomposition is cached until the weights change; ``layer.mapped_weights(ni, gens)``
  realises K draws in one batched reconstruction.
  ``layer.mzi_count``, ``layer.spec()`` (energy LayerSpec), ``layer.mapped_weight(g)``.

Mapping: W (out × in, float32) is zero-padded to multiples of k and cut into k×k blocks;
each block is W_b = U Σ V† (SVD, float64). V† and U each become a k-port mesh (Clements or
Reck); Σ/σ_max becomes a line of MZI attenuators with transmission sin(θ/2) ≤ 1, and σ_max
is folded back electronically (the receiver gain). Light meets V†, then the attenuators,
then U; the block outputs of one block-row are summed after detection. The realised
matrix is the real part of the reconstructed complex product (coherent detection against
the carrier), rescaled per mesh by its RMS transmission (a calibration that removes the
average insertion loss, which detector noise relative to full scale already accounts for).

Training under noise uses a straight-through path: W_eff = W + (W_noisy − W).detach(),
and likewise for detector noise/ADC on the outputs, so gradients are those of nn.Linear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from agentnas.tools.photonic.energy import LayerSpec
from agentnas.tools.photonic.mesh import MeshPhases, decompose
from agentnas.tools.photonic.nonideal import (
    NoisyMesh,
    NonIdealities,
    apply,
    detect,
    perturb_phases,
)


def check_layer_args(in_features: int, out_features: int, mesh: str, block_size: int) -> None:
    """Refuse shapes/meshes the simulator cannot map, with a one-line UserError."""
    LayerSpec(in_features=in_features, out_features=out_features, mesh=mesh, block_size=block_size)


@dataclass(frozen=True)
class BlockMapping:
    """The decomposition of one weight matrix: everything a draw needs, nothing random.

    phases:    MeshPhases for [2·B] meshes (first B = U, last B = V†), B = block count.
    att_theta: [B, k] attenuator phases (rad), transmission sin(θ/2) = σ/σ_max.
    scale:     [B] σ_max of each block (folded back electronically).
    """

    phases: MeshPhases
    att_theta: torch.Tensor
    scale: torch.Tensor
    grid: tuple[int, int]  # (block rows, block columns)
    k: int


def map_weight(weight: torch.Tensor, mesh: str, k: int) -> BlockMapping:
    """Decompose a [out, in] weight into tiled U Σ V† meshes (float64, no gradient)."""
    with torch.no_grad():
        out_f, in_f = weight.shape
        rb, cb = math.ceil(out_f / k), math.ceil(in_f / k)
        w = torch.zeros(rb * k, cb * k, dtype=torch.float64)
        w[:out_f, :in_f] = weight.detach().to(torch.float64)
        blocks = w.reshape(rb, k, cb, k).permute(0, 2, 1, 3).reshape(rb * cb, k, k)
        u, s, vh = torch.linalg.svd(blocks)
        scale = s[:, 0]
        ratio = torch.where(scale[:, None] > 0, s / scale.clamp_min(1e-300)[:, None], 0.0)
        att = 2.0 * torch.asin(ratio.clamp(0.0, 1.0))
        phases = decompose(torch.cat([u, vh]), mesh, check=False)
        return BlockMapping(phases, att, scale, (rb, cb), k)


def _calibrated(m: torch.Tensor) -> torch.Tensor:
    """Divide each mesh by its RMS transmission (undoes the average insertion loss)."""
    k = m.shape[-1]
    norm = torch.linalg.matrix_norm(m).clamp_min(1e-300) / math.sqrt(k)
    return m / norm[..., None, None]


def realised_weight(
    mapping: BlockMapping,
    nonideal: NonIdealities,
    out_features: int,
    in_features: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One draw of the weight the chip realises, [out, in] (see :func:`realised_weights`)."""
    return realised_weights(mapping, nonideal, out_features, in_features, [generator])[0]


def realised_weights(
    mapping: BlockMapping,
    nonideal: NonIdealities,
    out_features: int,
    in_features: int,
    generators: list[torch.Generator | None],
) -> torch.Tensor:
    """``len(generators)`` draws of the realised weight at once, [draws, out, in].

    Draw d takes its random numbers from ``generators[d]`` only, in the order one draw
    uses them (mesh phases, couplers, then attenuators), so it does not depend on which
    other draws share the batch; the meshes of all draws are then reconstructed in one
    batched pass, which costs about as many torch calls as one draw (the reconstruction
    is a loop over mesh columns, so small blocks are dominated by per-call overhead).
    float64 for the ideal set (exact to ~1e-15); otherwise the perturbed phases are
    reconstructed in complex64, twice as fast and far more precise than any noise.
    """
    noisy = [apply(mapping.phases, nonideal, g) for g in generators]
    att = torch.stack([perturb_phases(mapping.att_theta, nonideal, g) for g in generators])
    real = torch.float64 if nonideal.is_ideal else torch.float32
    p = noisy[0].phases
    phases = p.replace(
        theta=torch.stack([m.phases.theta for m in noisy]).to(real),
        phi=torch.stack([m.phases.phi for m in noisy]).to(real),
        out_phase=torch.stack([m.phases.out_phase for m in noisy]).to(real),
    )
    alpha = None
    if noisy[0].alpha is not None:
        alpha = torch.stack([m.alpha for m in noisy if m.alpha is not None]).to(real)
    mats = _calibrated(NoisyMesh(phases, alpha, noisy[0].loss_db).matrix())
    b = mapping.scale.shape[0]
    u, vh = mats[:, :b], mats[:, b:]
    sigma = torch.sin(att / 2).to(u.dtype)  # attenuator loss is calibrated like the meshes
    blocks = (u * sigma[..., None, :]) @ vh
    blocks = blocks.real.to(torch.float64) * mapping.scale[:, None, None]
    rb, cb = mapping.grid
    k = mapping.k
    d = len(generators)
    w = blocks.reshape(d, rb, cb, k, k).permute(0, 1, 3, 2, 4).reshape(d, rb * k, cb * k)
    return w[:, :out_features, :in_features]


def _is_deterministic(ni: NonIdealities) -> bool:
    return (
        ni.gain_error_std == 0
        and ni.phase_noise_std == 0
        and ni.splitter_error_std == 0
        and ni.detector_noise_std == 0
    )


class MZILinear(nn.Module):
    """y = x W_realisedᵀ + b with W realised by k×k MZI blocks (see the module docstring).

    Weight and bias are trainable float32 parameters initialised like ``nn.Linear``.
    ``nonideal`` None bypasses the simulator (exactly ``F.linear``).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        mesh: str = "clements",
        block_size: int = 16,
        bias: bool = True,
        nonideal: NonIdealities | None = None,
    ) -> None:
        check_layer_args(in_features, out_features, mesh, block_size)
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.mesh = mesh
        self.block_size = block_size
        self.nonideal = nonideal
        self.generator: torch.Generator | None = None  # used when forward gets none
        ref = nn.Linear(in_features, out_features, bias=bias)  # same init as nn.Linear
        self.weight = nn.Parameter(ref.weight.detach().clone())
        self.bias = nn.Parameter(ref.bias.detach().clone()) if bias else None
        self._cache_key: tuple[int, int] | None = None
        self._mapping: BlockMapping | None = None
        self._fixed_weight: tuple[NonIdealities, torch.Tensor] | None = None
        # noise-aware training: decompose once every ``remap_every`` steps (see forward)
        self.remap_every = 1
        self._stale: tuple[torch.Tensor] | None = None  # errors of the coming steps
        self._stale_steps = 0

    @classmethod
    def from_linear(
        cls, linear: nn.Linear, mesh: str = "clements", block_size: int = 16
    ) -> MZILinear:
        has_bias = linear.bias is not None
        layer = cls(linear.in_features, linear.out_features, mesh, block_size, has_bias)
        with torch.no_grad():
            layer.weight.copy_(linear.weight)
            if linear.bias is not None and layer.bias is not None:
                layer.bias.copy_(linear.bias)
        return layer

    # -- mapping ------------------------------------------------------------------------
    def mapping(self) -> BlockMapping:
        """The decomposition of the current weights, recomputed only when they change."""
        key = (self.weight._version, self.weight.data_ptr())
        if self._mapping is None or key != self._cache_key:
            self._mapping = map_weight(self.weight, self.mesh, self.block_size)
            self._cache_key = key
            self._fixed_weight = None
        return self._mapping

    def mapped_weight(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """One draw of the realised weight [out, in] in the weight's dtype (no gradient)."""
        ni = self.nonideal if self.nonideal is not None else NonIdealities()
        m = self.mapping()
        if _is_deterministic(ni):  # quantization/crosstalk/loss only: same W every draw
            if self._fixed_weight is None or self._fixed_weight[0] != ni:
                w = realised_weight(m, ni, self.out_features, self.in_features, generator)
                self._fixed_weight = (ni, w.to(self.weight.dtype))
            return self._fixed_weight[1]
        w = realised_weight(m, ni, self.out_features, self.in_features, generator)
        return w.to(self.weight.dtype)

    def mapped_weights(
        self, nonideal: NonIdealities, generators: list[torch.Generator | None]
    ) -> torch.Tensor:
        """One realised weight per generator, [draws, out, in] in the weight's dtype (no
        gradient), from one decomposition and one batched reconstruction
        (:func:`realised_weights`); draw d equals ``mapped_weight(generators[d])`` up to
        float rounding. A deterministic set realises one weight, shared by all draws."""
        m = self.mapping()
        if _is_deterministic(nonideal):
            if self._fixed_weight is None or self._fixed_weight[0] != nonideal:
                w = realised_weight(m, nonideal, self.out_features, self.in_features)
                self._fixed_weight = (nonideal, w.to(self.weight.dtype))
            return self._fixed_weight[1].expand(len(generators), -1, -1)
        w = realised_weights(m, nonideal, self.out_features, self.in_features, generators)
        return w.to(self.weight.dtype)

    def _stale_error(self, generator: torch.Generator | None) -> torch.Tensor:
        """This step's hardware error W_realised − W, drawn on a decomposition at most
        ``remap_every`` steps old. The SVD and mesh decomposition cost far more than a
        training step, and between nearby steps the weights (hence the phases, and the
        error pattern quantization and noise make of them) barely move; the error is
        detached either way (straight-through), so only its statistics matter. At each
        re-map the errors of the next ``remap_every`` steps are drawn together, one
        fresh draw per step, in one batched reconstruction (:func:`realised_weights`);
        scoring always decomposes the final weights."""
        ni = self.nonideal if self.nonideal is not None else NonIdealities()
        if self._stale is None or self._stale_steps >= self._stale[0].shape[0]:
            w0 = self.weight.detach().clone()
            mapping = map_weight(w0, self.mesh, self.block_size)
            steps = 1 if _is_deterministic(ni) else self.remap_every  # else all alike
            gens = [generator] * steps  # one generator, consumed draw by draw
            w = realised_weights(mapping, ni, self.out_features, self.in_features, gens)
            w = w.expand(self.remap_every, -1, -1)
            self._stale = ((w.to(w0.dtype) - w0).detach(),)
            self._stale_steps = 0
        err = self._stale[0][self._stale_steps]
        self._stale_steps += 1
        return err

    def mapping_error(self, generator: torch.Generator | None = None) -> float:
        """‖W_realised − W‖_F / ‖W‖_F for one draw."""
        w = self.weight.detach()
        return float(torch.linalg.norm(self.mapped_weight(generator) - w) / torch.linalg.norm(w))

    # -- forward ------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.nonideal is None:
            return F.linear(x, self.weight, self.bias)
        if generator is None:
            generator = self.generator
        w = self.weight
        if self.training and self.remap_every > 1:
            w_eff = w + self._stale_error(generator).to(w.dtype)
        else:
            w_eff = w + (self.mapped_weight(generator).to(w.dtype) - w).detach()
        y = F.linear(x, w_eff.to(x.dtype))
        y_det = detect(y.detach(), self.nonideal, generator)
        y = y + (y_det - y).detach()
        return y if self.bias is None else y + self.bias.to(x.dtype)

    # -- hardware description -----------------------------------------------------------
    # (the tiling arithmetic lives in the energy model's LayerSpec, once)
    @property
    def grid(self) -> tuple[int, int]:
        """(block rows, block columns) of the tiling."""
        return self.spec().grid

    @property
    def n_blocks(self) -> int:
        return self.spec().n_blocks

    @property
    def mzi_count(self) -> int:
        """MZIs in the unitary meshes: blocks × 2 × k(k−1)/2 (attenuators not counted)."""
        return self.spec().mzi_count

    @property
    def attenuator_count(self) -> int:
        return self.n_blocks * self.block_size

    @property
    def mesh_shapes(self) -> list[tuple[int, int]]:
        """(k, k) for every mesh of the layer (2 per block)."""
        return [(self.block_size, self.block_size)] * (2 * self.n_blocks)

    def spec(self) -> LayerSpec:
        """This layer as the energy model sees it."""
        return LayerSpec(
            in_features=self.in_features,
            out_features=self.out_features,
            mesh=self.mesh,
            block_size=self.block_size,
        )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"mesh={self.mesh}, block_size={self.block_size}, bias={self.bias is not None}"
        )


def set_nonideal(
    model: nn.Module,
    nonideal: NonIdealities | None,
    generator: torch.Generator | None = None,
    remap_every: int | None = None,
) -> None:
    """Set the non-idealities (None = plain nn.Linear) and the Monte-Carlo generator of
    every MZILinear in ``model`` — for models (nn.Sequential) whose forward passes no
    generator. One forward of the model is then one draw. ``remap_every`` (training
    only): decompose the weights once every so many steps (1 = every step)."""
    for module in model.modules():
        if isinstance(module, MZILinear):
            module.nonideal = nonideal
            module.generator = generator
            module._stale = None
            if remap_every is not None:
                module.remap_every = max(1, int(remap_every))
