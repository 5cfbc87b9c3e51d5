"""``optical-mzi:<preset>``: MZI-mesh photonic hardware, simulated, for ``photonic-mlp``.

Members are the non-ideality presets of :mod:`agentnas.tools.photonic.nonideal`
(``ideal``, ``realistic``, ``worst-case``), optionally with a phase-shifter technology
(``optical-mzi:realistic+pcm``; or ``--backend-option shifter=pcm``): ``thermo`` (the
cited P_π, default), ``thermo-efficient``, ``pcm`` (non-volatile), ``eo``
(electro-optic), see :data:`agentnas.tools.photonic.energy.SHIFTERS`. A design that
breaks a physical limit (:func:`~agentnas.tools.photonic.energy.check_feasible`: laser
power per feed) is refused as infeasible before any training. Evaluating an
architecture

1. trains it briefly on the CPU (:func:`agentnas.tools.photonic.training.train`; with
   noise-aware training when the architecture says ``nat=1``),
2. scores it on the fixed test split over K Monte-Carlo draws of the preset's
   non-idealities (the architecture's ``bits`` sets the phase-shifter resolution),
3. prices it with the energy model (:mod:`agentnas.tools.photonic.energy`, cited
   constants) and its latency estimate.

Metrics (units in the names; accuracies in %): ``robust_accuracy`` (mean over draws),
``robust_accuracy_std``, ``clean_accuracy`` (ideal simulator), ``degradation``
(clean − robust, percentage points), ``energy_mj`` per inference with its breakdown
``energy_<component>_mj``, ``mzi_count``, ``latency_ms``, ``macs``, ``params``.

Training takes seconds to tens of seconds, so results are cached on disk, one JSON file
per (architecture, preset values, dataset, seed, draws, epochs) under
``$AGENTNAS_CACHE_DIR/optical/`` (default ``./.agentnas-cache/optical/``), written
atomically; an unreadable or incomplete file is recomputed and rewritten.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agentnas.tools.atomic_io import write_text_atomic
from agentnas.tools.errors import UserError
from agentnas.tools.hardware.base import BackendInfo, HardwareBackend
from agentnas.tools.hardware.registry import Family, register
from agentnas.tools.photonic.datasets import DATASETS, SHAPES, check_dataset
from agentnas.tools.photonic.energy import (
    DEFAULT_SHIFTER,
    SHIFTERS,
    EnergyBreakdown,
    EnergyConstants,
    LayerSpec,
    check_feasible,
    energy_per_inference,
    latency_estimate_ns,
    shifter_constants,
)
from agentnas.tools.spaces.photonic_mlp import NAME as SPACE
from agentnas.tools.spaces.photonic_mlp import PhotonicMLPConfig, format, parse

PREFIX = "optical-mzi"
CACHE_ENV = "AGENTNAS_CACHE_DIR"
CACHE_VERSION = 3  # bump when training/evaluation changes what a cached number means
PJ_PER_MJ = 1e9
NS_PER_MS = 1e6
DEFAULT_DATASET = "mnist"
DEFAULT_DRAWS = 32
DEFAULT_EPOCHS = 5
DEFAULT_SEED = 0
# Speed (24 realistic evaluations in about 90 s on 2 cores): noise-aware training runs in
# the last NAT_EPOCHS epochs on a decomposition refreshed every REMAP_EVERY steps, and the
# Monte-Carlo draws stop early once the mean's standard error is at most TOLERANCE_PP.
NAT_EPOCHS = 2
REMAP_EVERY = 16
TOLERANCE_PP = 0.1

BREAKDOWN_METRICS: tuple[str, ...] = tuple(f"energy_{c}_mj" for c in EnergyBreakdown.model_fields)
ACCURACY_METRICS: tuple[str, ...] = (
    "robust_accuracy",
    "robust_accuracy_std",
    "clean_accuracy",
    "degradation",
)
HARDWARE_METRICS: tuple[str, ...] = (
    "energy_mj",
    "mzi_count",
    "latency_ms",
    "macs",
    "params",
    *BREAKDOWN_METRICS,
)


_TRAINED: dict[tuple[Any, ...], Any] = {}  # recently trained models, oldest first
_TRAINED_MAX = 8


def presets() -> tuple[str, ...]:
    from agentnas.tools.photonic.nonideal import PRESETS  # lazy: torch

    return PRESETS


def cache_dir() -> Path:
    """``$AGENTNAS_CACHE_DIR/optical`` or ``./.agentnas-cache/optical``."""
    return Path(os.environ.get(CACHE_ENV) or Path.cwd() / ".agentnas-cache") / "optical"


def layer_specs(cfg: PhotonicMLPConfig, in_features: int, n_classes: int) -> list[LayerSpec]:
    return [
        LayerSpec(in_features=i, out_features=o, mesh=cfg.mesh, block_size=cfg.block_size)
        for i, o in cfg.layer_shapes(in_features, n_classes)
    ]


def hardware_metrics(
    cfg: PhotonicMLPConfig,
    in_features: int,
    n_classes: int,
    nonideal: Any = None,
    constants: EnergyConstants | None = None,
) -> dict[str, float]:
    """Energy (mJ, with breakdown), MZI count, latency (ms), MACs and params of a network;
    pure and instant (no training). ``nonideal`` sets insertion loss and ADC bits."""
    specs = layer_specs(cfg, in_features, n_classes)
    check_feasible(specs, constants, nonideal)  # refuses what cannot be built
    energy = energy_per_inference(specs, constants, nonideal)
    out = {
        "energy_mj": energy.total_pj / PJ_PER_MJ,
        "mzi_count": float(sum(s.mzi_count for s in specs)),
        "latency_ms": latency_estimate_ns(specs, constants) / NS_PER_MS,
        "macs": float(cfg.macs(in_features, n_classes)),
        "params": float(cfg.params(in_features, n_classes)),
    }
    out.update({f"energy_{c}_mj": pj / PJ_PER_MJ for c, pj in energy.model_dump().items()})
    return out


class OpticalResult(BaseModel):
    """Everything one evaluation produced (the metrics plus the per-draw accuracies)."""

    metrics: dict[str, float]
    per_draw: list[float]
    cached: bool = False


class OpticalMZIBackend(HardwareBackend):
    """Simulated MZI hardware under one non-ideality preset (see the module docstring)."""

    metrics = (*ACCURACY_METRICS, *HARDWARE_METRICS)
    spaces = (SPACE,)

    def __init__(
        self,
        preset: str,
        dataset: str = DEFAULT_DATASET,
        draws: int = DEFAULT_DRAWS,
        epochs: int = DEFAULT_EPOCHS,
        seed: int = DEFAULT_SEED,
        overrides: dict[str, Any] | None = None,
        constants: EnergyConstants | None = None,
        cache: bool = True,
        cache_path: Path | None = None,
        shifter: str | None = None,
        max_chip_power_w: float | None = None,
    ) -> None:
        from agentnas.tools.photonic.nonideal import preset as make_preset

        preset, _, named = preset.partition("+")
        if named and shifter is not None and named != shifter:
            raise UserError(
                f"phase shifter given twice: '+{named}' in the name and shifter={shifter}"
            )
        shifter = shifter or named or None
        if shifter is not None or max_chip_power_w is not None:
            if constants is not None:
                raise UserError("give either energy constants or shifter=/max_chip_power_w=")
            limits = {} if max_chip_power_w is None else {"max_chip_power_w": max_chip_power_w}
            constants = shifter_constants(shifter or DEFAULT_SHIFTER, **limits)
        self.shifter = shifter or DEFAULT_SHIFTER
        if preset not in presets():
            raise UserError(
                f"unknown optical-mzi preset '{preset}'; available: "
                + ", ".join(f"{PREFIX}:{p}" for p in presets())
            )
        check_dataset(dataset)
        for label, value in (("draws", draws), ("epochs", epochs)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"{label} must be a positive integer, got {value!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise UserError(f"seed must be a non-negative integer, got {seed!r}")
        self.preset = preset
        self.name = f"{PREFIX}:{preset}" + (f"+{shifter}" if shifter else "")
        self.nonideal = make_preset(preset, **(overrides or {}))
        if (overrides or {}).get("phase_bits") is not None:
            # the architecture's bits replace any preset resolution (hardware_nonideal):
            # an override could only be ignored, so say how to get what was meant
            raise UserError(
                "phase_bits is set by the architecture's bits=4|6|8, not by an override; "
                "change bits= in the architecture, or give phase_bits=none for unquantized "
                "phases"
            )
        self.dataset = dataset
        self.in_features, self.n_classes = SHAPES[dataset]
        self.draws = draws
        self.epochs = epochs
        self.seed = seed
        self.constants = constants
        self.cache = cache
        self.cache_path = cache_path

    # -- cache --------------------------------------------------------------------------
    def cache_key(self, arch: str) -> dict[str, Any]:
        """Everything a cached number depends on (architecture in canonical form)."""
        return {
            "version": CACHE_VERSION,
            "arch": arch,
            "preset": self.preset,
            "nonideal": self.nonideal.model_dump(),
            "constants": (self.constants or EnergyConstants()).model_dump(),
            "dataset": self.dataset,
            "seed": self.seed,
            "draws": self.draws,
            "epochs": self.epochs,
        }

    def cache_file(self, arch: str) -> Path:
        blob = json.dumps(self.cache_key(arch), sort_keys=True).encode()
        return (self.cache_path or cache_dir()) / f"{hashlib.sha256(blob).hexdigest()[:32]}.json"

    def _read(self, arch: str) -> OpticalResult | None:
        """The cached result, or None when absent, corrupt, stale or incomplete."""
        try:
            data = json.loads(self.cache_file(arch).read_text())
            if data["key"] != json.loads(json.dumps(self.cache_key(arch))):
                return None
            result = OpticalResult(metrics=data["metrics"], per_draw=data["per_draw"], cached=True)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        ok = all(m in result.metrics and math.isfinite(result.metrics[m]) for m in self.metrics)
        return result if ok and 1 <= len(result.per_draw) <= self.draws else None

    def _write(self, arch: str, result: OpticalResult) -> None:
        path = self.cache_file(arch)
        payload = {"key": self.cache_key(arch), **result.model_dump(exclude={"cached"})}
        try:
            write_text_atomic(path, json.dumps(payload))
        except OSError:  # a read-only cache only costs recomputation
            return

    # -- evaluation ---------------------------------------------------------------------
    def hardware_metrics(self, arch: str) -> dict[str, float]:
        """Energy, MZI count, latency, MACs, params: instant, no training."""
        return hardware_metrics(
            parse(arch), self.in_features, self.n_classes, self.nonideal, self.constants
        )

    def evaluate_detail(self, arch: str) -> OpticalResult:
        """Train (or read the cache), then score; ``per_draw`` holds each draw's accuracy."""
        from agentnas.tools.photonic.datasets import load_dataset
        from agentnas.tools.photonic.training import robust_accuracy, train

        cfg = parse(arch)
        arch = format(cfg)
        hardware = self.hardware_metrics(arch)  # an infeasible design stops here
        if self.cache:
            hit = self._read(arch)
            if hit is not None:
                return hit
        data = load_dataset(self.dataset)
        # Training depends on the preset only under noise-aware training: a nat=0 network
        # is trained once and scored under every preset.
        key = (arch, self.dataset, self.seed, self.epochs, self.nonideal if cfg.nat else None)
        model = _TRAINED.get(key)
        if model is None:
            model = train(
                cfg,
                data,
                self.nonideal,
                seed=self.seed,
                epochs=self.epochs,
                nat_epochs=NAT_EPOCHS,
                remap_every=REMAP_EVERY,
            )
            _TRAINED[key] = model
            while len(_TRAINED) > _TRAINED_MAX:
                _TRAINED.pop(next(iter(_TRAINED)))
        robust = robust_accuracy(
            model, data, self.nonideal, draws=self.draws, seed=self.seed, tolerance_pp=TOLERANCE_PP
        )
        metrics = {
            "robust_accuracy": robust.mean,
            "robust_accuracy_std": robust.std,
            "clean_accuracy": robust.clean_accuracy,
            "degradation": robust.degradation,
            **hardware,
        }
        result = OpticalResult(metrics=metrics, per_draw=robust.per_draw)
        if self.cache:
            self._write(arch, result)
        return result

    def evaluate(self, arch: str) -> dict[str, float]:
        return dict(self.evaluate_detail(arch).metrics)


def energy_assumptions(hardware: str, options: dict[str, Any] | None = None) -> list[str]:
    """The energy assumptions of an optical run, one line each, for a plot or a report:
    the phase-shifter technology (from ``+name`` in the backend name or ``shifter=``) with
    its static P_π and source, and the CPU/GPU energy per MAC the references use. Empty
    for a backend that is not ``optical-mzi``."""
    from agentnas.tools.hardware.electronic import PJ_PER_MAC, PRECISION

    if not hardware.startswith(f"{PREFIX}:"):
        return []
    named = hardware.partition("+")[2]
    shifter = str((options or {}).get("shifter") or named or DEFAULT_SHIFTER)
    if shifter not in SHIFTERS:
        return []
    p_pi, source = SHIFTERS[shifter]
    refs = ", ".join(f"{d.upper()} {PRECISION[d]} {v:g} pJ/MAC" for d, v in PJ_PER_MAC.items())
    return [
        f"phase shifters: {shifter}, static P_pi {p_pi:g} mW per shifter ({source})",
        f"electronic references, same networks: {refs} (UH-NAS, arXiv 2606.10294)",
    ]


def make_backend(member: str, **options: Any) -> OpticalMZIBackend:
    if member == "":
        raise UserError(
            f"backend '{PREFIX}' needs a preset: {', '.join(f'{PREFIX}:{p}' for p in presets())}"
        )
    return OpticalMZIBackend(member, **options)


def describe() -> list[BackendInfo]:
    out = [
        BackendInfo(
            name=f"{PREFIX}:{p}",
            metrics=list(OpticalMZIBackend.metrics),
            spaces=[SPACE],
            source=(
                f"MZI-mesh simulator, '{p}' non-idealities; trained on {DEFAULT_DATASET} "
                f"({'/'.join(DATASETS)}), {DEFAULT_DRAWS} Monte-Carlo draws; cited energy model "
                f"({DEFAULT_SHIFTER} shifters)"
            ),
        )
        for p in presets()
    ]
    for name, (p_pi, source) in SHIFTERS.items():
        if name != DEFAULT_SHIFTER:
            out.append(
                BackendInfo(
                    name=f"{PREFIX}:<preset>+{name}",
                    metrics=list(OpticalMZIBackend.metrics),
                    spaces=[SPACE],
                    source=f"as the preset, with {source}; static P_pi {p_pi:g} mW",
                )
            )
    return out


register(Family(PREFIX, make_backend, describe))
