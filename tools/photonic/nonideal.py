"""Physical non-idealities of an MZI mesh, as one validated parameter set, and their draw.

One Monte-Carlo *draw* is one chip (static errors: phase-shifter gain error, coupler
splitting error) observed at one moment (dynamic errors: phase noise, detector noise).
:func:`apply` turns the ideal phases of a mesh into the phases the chip actually sets:

1. wrap to [0, 2π) (a thermo-optic heater can only add phase, so its power ∝ phase),
2. quantize to ``phase_bits`` (step 2π/2^b; the heater DAC),
3. thermal crosstalk: each shifter also receives ``crosstalk`` × the phase of its
   physical neighbours (adjacent MZIs of the same column, adjacent output shifters),
4. static gain error: actual = (1 + g)·commanded, g ~ N(0, gain_error_std) per shifter,
5. dynamic phase noise: + N(0, phase_noise_std) rad per shifter;

plus a splitting error α ~ N(0, splitter_error_std) rad per directional coupler and a
deterministic insertion loss per MZI. :func:`detect` adds photodetector noise and ADC
quantization to a layer's outputs (both relative to the sample's full scale, max |y|).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from agentnas.tools.errors import UserError
from agentnas.tools.photonic.mesh import MeshPhases, mesh_layout, reconstruct

PRESETS: tuple[str, ...] = ("ideal", "realistic", "worst-case")


class NonIdealities(BaseModel):
    """Non-ideality parameters (all default to ideal). Angles in rad, losses in dB.

    phase_bits:         phase-shifter DAC resolution (1–16 bits); None = unquantized.
    gain_error_std:     static relative error of each shifter's phase/power gain (0–1).
    phase_noise_std:    dynamic Gaussian phase noise σ per shifter (rad, 0–π).
    crosstalk:          fraction of each neighbouring shifter's phase that leaks in (0–0.5).
    splitter_error_std: σ of the coupler splitting error α (rad, 0–π/4); 0 = 50:50.
    insertion_loss_db:  insertion loss per MZI (dB, 0–10).
    detector_noise_std: photodetector/TIA noise σ relative to the output full scale (0–1).
    adc_bits:           ADC resolution at the layer output (2–16 bits); None = exact.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase_bits: int | None = None
    gain_error_std: float = 0.0
    phase_noise_std: float = 0.0
    crosstalk: float = 0.0
    splitter_error_std: float = 0.0
    insertion_loss_db: float = 0.0
    detector_noise_std: float = 0.0
    adc_bits: int | None = None

    def __init__(self, **data: Any) -> None:
        # Pydantic's multi-line ValidationError becomes our one-line UserError.
        known = set(type(self).model_fields)
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(
                f"unknown non-ideality {', '.join(unknown)}; accepted: {', '.join(sorted(known))}"
            )
        try:
            super().__init__(**data)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "value"
            raise UserError(
                f"bad non-ideality {field}={err.get('input')!r}: {err['msg']}"
            ) from None

    @model_validator(mode="after")
    def _ranges(self) -> NonIdealities:
        for name, lo in (("phase_bits", 1), ("adc_bits", 2)):
            v = getattr(self, name)
            if v is not None and not lo <= v <= 16:
                raise UserError(f"{name} must be {lo}..16 bits (or None for exact), got {v}")
        limits = {
            "gain_error_std": 1.0,
            "phase_noise_std": math.pi,
            "crosstalk": 0.5,
            "splitter_error_std": math.pi / 4,
            "insertion_loss_db": 10.0,
            "detector_noise_std": 1.0,
        }
        for name, hi in limits.items():
            v = getattr(self, name)
            if not (math.isfinite(v) and 0.0 <= v <= hi):
                raise UserError(f"{name} must be a number in [0, {hi:.4g}], got {v}")
        return self

    @property
    def is_ideal(self) -> bool:
        return self == NonIdealities()


# Presets. Numbers are typical values from the photonic-neural-network literature; the
# "realistic" preset is a well-calibrated present-day silicon chip, "worst-case" an
# uncalibrated or poorly controlled one. Sources:
#  [Shen17]   Y. Shen et al., "Deep learning with coherent nanophotonic circuits",
#             Nat. Photonics 11, 441 (2017): phase-encoding and photodetection noise of
#             the order of 0.5–1 %, 8-bit-class phase control.
#  [Fang19]   M. Y.-S. Fang et al., "Design of optical neural networks with component
#             imprecisions", Opt. Express 27, 14009 (2019): coupler and phase-shifter
#             errors σ ≈ 0.01–0.05 rad studied as the practical range.
#  [Milan19]  M. Milanizadeh et al., "Canceling thermal cross-talk effects in photonic
#             integrated circuits", J. Lightwave Technol. 37, 1325 (2019): heater cross
#             talk of a few % between neighbouring shifters without trenches.
#  [papers]   ../shared/docs/papers.md: 8-bit DAC/ADC, MZI insertion loss ≈ 0.99 dB in
#             public photonic simulators; UH-NAS simulates 8-bit MZIs.
_PRESET_VALUES: dict[str, dict[str, Any]] = {
    "ideal": {},
    "realistic": {
        "phase_bits": 8,  # 8-bit heater DAC [papers]; step 0.025 rad
        "gain_error_std": 0.005,  # 0.5 % residual after calibration [Shen17]
        "phase_noise_std": 0.01,  # low end of the 0.01–0.05 rad range [Fang19]
        "crosstalk": 0.001,  # 0.1 % residual after crosstalk compensation [Milan19]
        "splitter_error_std": 0.01,  # 50±1 % split ratio (dr/dα = 1) [Fang19]
        "insertion_loss_db": 0.3,  # good foundry MZI, well below the 0.99 dB bound
        "detector_noise_std": 0.005,  # ~0.5 % of full scale [Shen17]
        "adc_bits": 8,  # 8-bit ADC, 1.5 pJ/conversion [papers]
    },
    "worst-case": {
        "phase_bits": 6,  # coarse DAC
        "gain_error_std": 0.02,  # uncalibrated heater efficiency spread
        "phase_noise_std": 0.05,  # top of the 0.01–0.05 rad range [Fang19]
        "crosstalk": 0.005,  # poorly compensated neighbouring heaters [Milan19]
        "splitter_error_std": 0.05,  # 50±5 % split ratio [Fang19]
        "insertion_loss_db": 0.99,  # the public-simulator MZI loss [papers]
        "detector_noise_std": 0.02,  # 2 % of full scale
        "adc_bits": 6,
    },
}


def preset(name: str, **overrides: Any) -> NonIdealities:
    """A named preset ("ideal" | "realistic" | "worst-case"), with any value overridden.

    Example: ``preset("realistic", phase_bits=6)``. See the module for the numbers' sources.
    """
    if name not in _PRESET_VALUES:
        raise UserError(f"unknown non-ideality preset '{name}'; accepted: {', '.join(PRESETS)}")
    return NonIdealities(**{**_PRESET_VALUES[name], **overrides})


# ---------------------------------------------------------------------------------------
# Applying the non-idealities


@dataclass(frozen=True)
class NoisyMesh:
    """What a chip realises for one mesh: perturbed phases, coupler errors, loss."""

    phases: MeshPhases
    alpha: torch.Tensor | None  # [..., n_mzi, 2] rad, or None for ideal couplers
    loss_db: float | None  # per MZI, or None for lossless

    def matrix(self) -> torch.Tensor:
        """The realised [..., N, N] complex transfer matrix."""
        return reconstruct(self.phases, alpha=self.alpha, loss_db=self.loss_db)


@lru_cache(maxsize=256)
def _mzi_neighbours(kind: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of the MZI physically above/below each MZI (same column, mode pair ±2);
    n_mzi (a padding slot holding 0) where there is none."""
    lay = mesh_layout(kind, n)
    where = {(c, m): k for k, (c, m) in enumerate(zip(lay.columns, lay.modes, strict=True))}
    up = [where.get((c, m - 2), lay.n_mzi) for c, m in zip(lay.columns, lay.modes, strict=True)]
    dn = [where.get((c, m + 2), lay.n_mzi) for c, m in zip(lay.columns, lay.modes, strict=True)]
    return torch.tensor(up), torch.tensor(dn)


def _with_crosstalk(
    x: torch.Tensor, kappa: float, up: torch.Tensor | None, dn: torch.Tensor | None
) -> torch.Tensor:
    """x + κ·(neighbours' x); without indices the neighbours are positions ±1."""
    if kappa == 0.0:
        return x
    pad = torch.nn.functional.pad(x, (0, 1))  # slot x.shape[-1] holds 0
    if up is None or dn is None:
        k = x.shape[-1]
        up = torch.tensor([i - 1 if i > 0 else k for i in range(k)])
        dn = torch.tensor([i + 1 if i < k - 1 else k for i in range(k)])
    return x + kappa * (pad[..., up] + pad[..., dn])


def _randn(
    like: torch.Tensor, std: float, generator: torch.Generator | None
) -> torch.Tensor | None:
    if std == 0.0:
        return None
    return std * torch.randn(like.shape, generator=generator, dtype=like.dtype)


def perturb_phases(
    x: torch.Tensor,
    nonideal: NonIdealities,
    generator: torch.Generator | None = None,
    static_generator: torch.Generator | None = None,
    neighbours: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Steps 1–5 of the module docstring on a tensor of phases [..., K] (rad).

    ``neighbours``: (up, down) index tensors into the last dim (K = none); default ±1.
    """
    two_pi = 2 * math.pi
    y = torch.remainder(x, two_pi)
    if nonideal.phase_bits is not None:
        step = two_pi / 2**nonideal.phase_bits
        y = torch.round(y / step) * step
    up, dn = neighbours if neighbours is not None else (None, None)
    y = _with_crosstalk(y, nonideal.crosstalk, up, dn)
    g = _randn(y, nonideal.gain_error_std, static_generator or generator)
    if g is not None:
        y = y * (1.0 + g)
    noise = _randn(y, nonideal.phase_noise_std, generator)
    if noise is not None:
        y = y + noise
    return y


def apply(
    phases: MeshPhases,
    nonideal: NonIdealities,
    generator: torch.Generator | None = None,
    static_generator: torch.Generator | None = None,
) -> NoisyMesh:
    """One draw of the non-idealities on a (batch of) mesh(es).

    ``static_generator`` (optional) draws the static errors (gain, coupler α) so a fixed
    chip can be observed under fresh dynamic noise; by default ``generator`` draws all.
    """
    nb = _mzi_neighbours(phases.kind, phases.n)
    theta = perturb_phases(phases.theta, nonideal, generator, static_generator, nb)
    phi = perturb_phases(phases.phi, nonideal, generator, static_generator, nb)
    out = perturb_phases(phases.out_phase, nonideal, generator, static_generator)
    alpha = None
    if nonideal.splitter_error_std > 0:
        shape = (*phases.theta.shape, 2)
        alpha = nonideal.splitter_error_std * torch.randn(
            shape, generator=static_generator or generator, dtype=phases.theta.dtype
        )
    loss = nonideal.insertion_loss_db if nonideal.insertion_loss_db > 0 else None
    return NoisyMesh(phases.replace(theta=theta, phi=phi, out_phase=out), alpha, loss)


def detect(
    y: torch.Tensor, nonideal: NonIdealities, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Photodetector noise and ADC quantization on layer outputs y [..., features].

    Full scale is each sample's max |y| (an auto-ranged receiver), so results do not
    depend on how samples are batched. Noise σ = detector_noise_std × full scale; the ADC
    has 2^b − 1 levels over [−full scale, +full scale] (signed, zero included).
    """
    if nonideal.detector_noise_std == 0.0 and nonideal.adc_bits is None:
        return y
    fs = y.detach().abs().amax(dim=-1, keepdim=True).clamp_min(1e-30)
    if nonideal.detector_noise_std > 0.0:
        noise = torch.randn(y.shape, generator=generator, dtype=y.dtype)
        y = y + nonideal.detector_noise_std * fs * noise
    if nonideal.adc_bits is not None:
        step = fs / (2 ** (nonideal.adc_bits - 1) - 1)  # signed, symmetric, 0 is a level
        y = torch.round(torch.minimum(torch.maximum(y, -fs), fs) / step) * step
    return y
