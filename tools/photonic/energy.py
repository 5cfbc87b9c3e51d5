"""Energy (pJ) and latency (ns) per inference of MZI-mesh layers, with cited constants.

Pure Python (no torch), so a backend can price a candidate without building it.

Architecture assumed (weight-stationary, fully spatial, one inference per clock):
a layer (out × in) is tiled into ⌈out/k⌉·⌈in/k⌉ blocks of k×k; every block is its own
U Σ V† unit (two k-port meshes, k attenuators) with k input modulators (each driven by
its own DAC), one laser feed and k photodetectors + TIAs + ADCs. Block partial sums are
added digitally. Per inference:

* laser:      n_blocks · P_laser/η_wall-plug / f_clk, with the loss budget
              P_laser[dBm] = S_PD + IL_mod + IL_MZI·(depth(V†) + 1 + depth(U)) + 10·log10(k)
              (every one of the k detectors must receive S_PD through the longest path);
* dac:        n_blocks·k conversions · E_DAC;
* modulator:  n_blocks·k symbols · input_bits · E_mod/bit;
* adc:        n_blocks·k conversions · E_ADC (SAR: energy ∝ bits);
* detectors_tia: n_blocks·k · (P_PD + P_TIA) / f_clk;
* heaters:    thermo-optic shifters are static: n_shifters · P_π·(mean phase/π) held for
              one inference slot (1/f_clk), where n_shifters = 2k² + k per block
              (2 per MZI, k output phases per mesh, k attenuators).

Units: mW · ns = pJ (1e-3 W × 1e-9 s = 1e-12 J), so the slot-long terms are P[mW] ×
(1/f_clk)[ns]; P[mW] = 10^(P[dBm]/10).

Finding (defaults, ``optical-mzi:realistic``, MNIST 784→…→10): with thermo-optic heaters
charged their static P_π for every 0.1 ns inference slot, **heaters dominate** and the
optical energy **exceeds the electronic GPU reference** (0.89 pJ/MAC,
:mod:`agentnas.tools.hardware.electronic`) for every network of the space, while staying
below the CPU (91.7 pJ/MAC). Example ``mlp:h=64-32|k=16``: 356 nJ per inference, of which
heaters 326 nJ, DACs 11.9 nJ, modulators 11.9 nJ, ADCs 4.9 nJ, detectors+TIAs 1.4 nJ,
laser 0.07 nJ; GPU 46.8 nJ, CPU 4,818 nJ. Over the 504 relu/8-bit/nat=1 networks of the
space: optical/GPU 7.3-16× with heaters 85-92 % of the total at P_π = 30 mW; 1.6-4.2×
(heaters 51-67 %) at the efficient 5.6 mW; only without heater power (e.g. non-volatile
phase-change shifters) do 315 of 504 fall below the GPU (0.33-1.5×). The claim that MZI
meshes beat GPUs therefore rests on the heater technology, not on the mesh itself (a
longer ``heater_hold_ns``, e.g. idle time between inferences, only makes it worse).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from agentnas.tools.errors import UserError


class InfeasibleDesign(UserError):
    """A design the hardware cannot be built or operated as (a limit below is broken):
    reported as ``infeasible`` (``candidates.csv`` status), never priced."""

    kind = "infeasible"


MESHES: tuple[str, ...] = ("clements", "reck")
MIN_BLOCK, MAX_BLOCK = 2, 64
EFFICIENT_HEATER_P_PI_MW = 5.6  # efficient thermo-optic shifter (see heater_p_pi_mw)
SPEED_OF_LIGHT_UM_PER_NS = 299_792.458

# Phase-shifter technologies (``--backend-option shifter=NAME``, or a preset name such as
# ``optical-mzi:realistic+pcm``): static power to hold a phase of π, and the source.
# Weights are stationary (programmed once, then many inferences), so a non-volatile or
# capacitive shifter's programming energy is amortised to ~0 per inference and only a
# static holding power is charged.
SHIFTERS: dict[str, tuple[float, str]] = {
    "thermo": (
        30.0,
        "thermo-optic silicon heater, P_pi ~ 30 mW typical [papers.md 'Optical MZI "
        "models'; Shen et al., Nat. Photonics 11, 441 (2017)]",
    ),
    "thermo-efficient": (
        EFFICIENT_HEATER_P_PI_MW,
        "efficient thermo-optic design, P_pi ~ 5.6 mW [papers.md 'Optical MZI models']",
    ),
    "pcm": (
        0.0,
        "non-volatile phase-change shifter: the phase is held with no power [Rios et al., "
        "'Integrated all-photonic non-volatile multi-level memory', Nat. Photonics 9, 725 "
        "(2015)]",
    ),
    "eo": (
        0.0,
        "electro-optic (thin-film lithium niobate) shifter: capacitive, no static current "
        "to hold a phase [Wang et al., 'Integrated lithium niobate electro-optic modulators "
        "operating at CMOS-compatible voltages', Nature 562, 101 (2018)]",
    ),
}
DEFAULT_SHIFTER = "thermo"

# Limits that make a design infeasible (checked by :func:`check_feasible`):
# * laser power per block feed: a silicon waveguide carries at most ~100 mW (20 dBm)
#   before two-photon and free-carrier absorption make loss grow with power [Tsang & Liu,
#   "Nonlinear optical properties of silicon waveguides", Semicond. Sci. Technol. 23,
#   064007 (2008)]; the loss budget of a deep mesh (Reck k=64 at 0.3 dB/MZI needs ~69 dBm,
#   i.e. 8 kW of light) cannot be met, however much wall-plug power is paid for it.
MAX_LASER_DBM = 20.0
# * total chip power (optional, ``max_chip_power_w``): a package dissipates a few hundred
#   W at most (the Xeon 8380 reference: 270 W TDP, Intel ARK). Off by default: with
#   thermo-optic heaters at the cited P_pi every network of the 784-input photonic-mlp
#   space draws kW of static heater power (~100k shifters x 30 mW), so the limit would
#   refuse the whole space; set it to see which designs survive with other shifters.


def shifter_constants(name: str, **overrides: Any) -> EnergyConstants:
    """Energy constants for phase-shifter technology ``name`` (see :data:`SHIFTERS`)."""
    if name not in SHIFTERS:
        raise UserError(f"unknown phase shifter '{name}'; available: {', '.join(SHIFTERS)}")
    return EnergyConstants(heater_p_pi_mw=SHIFTERS[name][0], **overrides)


def _one_line(exc: ValidationError, what: str) -> UserError:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "value"
    return UserError(f"bad {what} {field}={err.get('input')!r}: {err['msg']}")


class LayerSpec(BaseModel):
    """One MZI layer as the energy model sees it (shapes only, no weights)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    in_features: int
    out_features: int
    mesh: str = "clements"
    block_size: int = 16

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _one_line(exc, "layer") from None

    @model_validator(mode="after")
    def _check(self) -> LayerSpec:
        for name in ("in_features", "out_features"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.mesh not in MESHES:
            raise UserError(f"unknown mesh '{self.mesh}'; accepted: {', '.join(MESHES)}")
        if not MIN_BLOCK <= self.block_size <= MAX_BLOCK:
            raise UserError(
                f"block size {self.block_size} cannot be mapped; accepted: integers "
                f"{MIN_BLOCK}..{MAX_BLOCK} (k×k MZI blocks)"
            )
        return self

    @property
    def grid(self) -> tuple[int, int]:
        k = self.block_size
        return math.ceil(self.out_features / k), math.ceil(self.in_features / k)

    @property
    def n_blocks(self) -> int:
        rb, cb = self.grid
        return rb * cb

    @property
    def mesh_depth(self) -> int:
        """Optical depth of one k-port mesh (equals mesh.mesh_depth)."""
        return unitary_depth(self.mesh, self.block_size)

    @property
    def mzi_count(self) -> int:
        """MZIs of the unitary meshes: n_blocks · 2 · k(k−1)/2 (attenuators not counted)."""
        k = self.block_size
        return self.n_blocks * k * (k - 1)

    @property
    def phase_shifters(self) -> int:
        k = self.block_size
        return self.n_blocks * (2 * k * k + k)

    @property
    def macs(self) -> int:
        return self.in_features * self.out_features


def unitary_depth(kind: str, n: int) -> int:
    """MZI columns of an n-port mesh: n (Clements), 2n−3 (Reck), 1 when n = 2."""
    if n == 2:
        return 1
    return n if kind == "clements" else 2 * n - 3


class EnergyConstants(BaseModel):
    """Device constants. Sources:

    [LT]   H. Zhu et al., "Lightening-Transformer: A Dynamically-operated
           Optically-interconnected Photonic Transformer Accelerator", HPCA 2024 — the
           public hardware simulator's device tables (github.com/zhuhanqing/
           Lightening-Transformer, hardware_simulator/params, hardware/ADC.py, DAC.py).
    [Shen] Y. Shen et al., Nat. Photonics 11, 441 (2017) (thermo-optic MZI meshes).
    [pap]  ../shared/docs/papers.md "Optical MZI models" (the same numbers, collected).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mzi_il_db: float = 0.99  # per MZI: 2 couplers + phase shifter [LT mzi, pap]
    modulator_il_db: float = 1.2  # MZI input modulator [LT mzi_modulator]
    pd_sensitivity_dbm: float = -25.0  # photodetector sensitivity [LT photo_detector, pap]
    pd_power_mw: float = 1.1  # photodetector power [LT photo_detector, pap]
    tia_power_mw: float = 3.0  # TIA per detector [LT core.interface.TIA, pap]
    laser_wall_plug: float = 0.2  # electrical → optical efficiency [LT laser, pap]
    dac_pj: float = 3.6  # 8-bit DAC, 50 mW at 14 GS/s [LT DAC.py choice 2, pap]
    adc_pj: float = 1.5  # 8-bit SAR ADC, 14.8 mW at 10 GS/s [LT ADC.py, pap]
    converter_ref_bits: int = 8  # resolution the two numbers above are quoted at
    input_bits: int = 8  # DAC/modulator resolution of the activations
    modulator_fj_per_bit: float = 450.0  # MZI modulator [LT mzi_modulator, pap]
    # Thermo-optic P_π: 30 mW typical silicon heater; 5.6 mW efficient designs
    # (EFFICIENT_HEATER_P_PI_MW) and far lower with undercut [pap, Shen].
    heater_p_pi_mw: float = 30.0
    # Mean set phase in units of π: phases uniform in [0, 2π) average π, i.e. P_π each.
    heater_mean_phase_pi: float = 1.0
    # 10 GHz: the 8-bit SAR ADC above samples at 10 GS/s, the slowest converter in the
    # chain, so one inference per 0.1 ns slot (LT runs its cores at 5 GHz; we take the
    # converter limit).
    clock_ghz: float = 10.0
    # Heaters are static; per inference they are charged for this long. None = one slot
    # (1/f_clk), i.e. the chip streams inferences back to back.
    heater_hold_ns: float | None = None
    mzi_length_um: float = 180.0  # shifter + couplers + spacing [LT mzi length]
    group_index: float = 4.2  # silicon strip waveguide at 1550 nm (typ. 4.2–4.3)
    max_laser_dbm: float = MAX_LASER_DBM  # optical power one waveguide feed may carry
    max_chip_power_w: float | None = None  # total electrical power limit (None = none)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _one_line(exc, "energy constant") from None

    @model_validator(mode="after")
    def _check(self) -> EnergyConstants:
        positive = (
            "laser_wall_plug", "clock_ghz", "mzi_length_um", "group_index", "converter_ref_bits",
            "input_bits",
        )  # fmt: skip
        for name in positive:
            if not getattr(self, name) > 0:
                raise UserError(f"energy constant {name} must be > 0, got {getattr(self, name)}")
        if self.laser_wall_plug > 1:
            raise UserError(f"laser_wall_plug must be in (0, 1], got {self.laser_wall_plug}")
        for name, v in self.model_dump().items():
            if isinstance(v, float) and name != "pd_sensitivity_dbm" and v < 0:
                raise UserError(f"energy constant {name} must be >= 0, got {v}")
        return self

    @property
    def slot_ns(self) -> float:
        return 1.0 / self.clock_ghz


class EnergyBreakdown(BaseModel):
    """Energy per inference (pJ) by component."""

    laser: float = 0.0
    dac: float = 0.0
    adc: float = 0.0
    modulator: float = 0.0
    heaters: float = 0.0
    detectors_tia: float = 0.0

    @property
    def total_pj(self) -> float:
        return self.laser + self.dac + self.adc + self.modulator + self.heaters + self.detectors_tia

    @property
    def total_mj(self) -> float:
        return self.total_pj * 1e-9

    def __add__(self, other: EnergyBreakdown) -> EnergyBreakdown:
        a, b = self.model_dump(), other.model_dump()
        return EnergyBreakdown(**{k: a[k] + b[k] for k in a})

    def to_dict(self) -> dict[str, float]:
        """Component energies and ``total_pj``, all in pJ."""
        return {**self.model_dump(), "total_pj": self.total_pj}


def _mzi_il_db(constants: EnergyConstants, nonideal: Any) -> float:
    """The non-ideality set's insertion loss when one is given (ideal = lossless)."""
    if nonideal is None:
        return constants.mzi_il_db
    return float(nonideal.insertion_loss_db)


def _adc_bits(constants: EnergyConstants, nonideal: Any) -> int:
    bits = getattr(nonideal, "adc_bits", None) if nonideal is not None else None
    return constants.converter_ref_bits if bits is None else int(bits)


def laser_power_dbm(spec: LayerSpec, constants: EnergyConstants, mzi_il_db: float) -> float:
    """Optical power one block's laser feed needs (dBm), from the loss budget."""
    path_mzis = 2 * spec.mesh_depth + 1  # V† mesh, attenuator, U mesh
    return (
        constants.pd_sensitivity_dbm
        + constants.modulator_il_db
        + mzi_il_db * path_mzis
        + 10.0 * math.log10(spec.block_size)
    )


def layer_energy(
    spec: LayerSpec, constants: EnergyConstants | None = None, nonideal: Any = None
) -> EnergyBreakdown:
    """Energy breakdown (pJ) of one layer for one inference; see the module docstring.

    ``nonideal`` (a NonIdealities or None): its insertion_loss_db replaces the constant's
    MZI loss, and its adc_bits scales the ADC energy (SAR: ∝ bits).
    """
    c = constants or EnergyConstants()
    slot = c.slot_ns  # ns; mW · ns = pJ
    k = spec.block_size
    n_blocks = spec.n_blocks
    channels = n_blocks * k
    p_opt_mw = 10.0 ** (laser_power_dbm(spec, c, _mzi_il_db(c, nonideal)) / 10.0)
    hold = c.heater_hold_ns if c.heater_hold_ns is not None else slot
    return EnergyBreakdown(
        laser=n_blocks * p_opt_mw / c.laser_wall_plug * slot,
        dac=channels * c.dac_pj * c.input_bits / c.converter_ref_bits,
        adc=channels * c.adc_pj * _adc_bits(c, nonideal) / c.converter_ref_bits,
        modulator=channels * c.input_bits * c.modulator_fj_per_bit * 1e-3,
        heaters=spec.phase_shifters * c.heater_p_pi_mw * c.heater_mean_phase_pi * hold,
        detectors_tia=channels * (c.pd_power_mw + c.tia_power_mw) * slot,
    )


def energy_per_inference(
    layers: list[LayerSpec], constants: EnergyConstants | None = None, nonideal: Any = None
) -> EnergyBreakdown:
    """Summed breakdown (pJ) of a network's MZI layers for one inference."""
    total = EnergyBreakdown()
    for spec in layers:
        total = total + layer_energy(spec, constants, nonideal)
    return total


def check_feasible(
    layers: list[LayerSpec], constants: EnergyConstants | None = None, nonideal: Any = None
) -> None:
    """Refuse (:class:`InfeasibleDesign`) a network whose laser feed would exceed
    ``max_laser_dbm`` or whose total power would exceed ``max_chip_power_w``."""
    c = constants or EnergyConstants()
    il = _mzi_il_db(c, nonideal)
    for i, spec in enumerate(layers):
        dbm = laser_power_dbm(spec, c, il)
        if dbm > c.max_laser_dbm:
            raise InfeasibleDesign(
                f"layer {i + 1} ({spec.mesh} k={spec.block_size}, {2 * spec.mesh_depth + 1} "
                f"MZIs deep at {il:g} dB each) needs {dbm:.1f} dBm of laser power per feed; "
                f"a silicon waveguide carries at most {c.max_laser_dbm:g} dBm"
            )
    if c.max_chip_power_w is not None:
        watts = energy_per_inference(layers, c, nonideal).total_pj * c.clock_ghz * 1e-3
        if watts > c.max_chip_power_w:
            raise InfeasibleDesign(
                f"the chip would draw {watts:.4g} W at {c.clock_ghz:g} GHz, above the "
                f"{c.max_chip_power_w:g} W limit"
            )


def latency_estimate_ns(layers: list[LayerSpec], constants: EnergyConstants | None = None) -> float:
    """Latency of one inference (ns): per layer, light's time of flight through the
    longest path (2·depth + 1 MZIs of ``mzi_length_um`` at ``group_index``) plus one DAC
    and one ADC slot at the clock rate. Digital partial-sum adds and activations are
    taken to fit inside the ADC slot."""
    c = constants or EnergyConstants()
    total = 0.0
    for spec in layers:
        path_um = (2 * spec.mesh_depth + 1) * c.mzi_length_um
        total += path_um * c.group_index / SPEED_OF_LIGHT_UM_PER_NS + 2 * c.slot_ns
    return total
