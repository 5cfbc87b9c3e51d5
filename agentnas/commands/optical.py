"""``agentnas optical eval`` and ``agentnas bench optical``: one photonic candidate scored on
simulated MZI hardware, and what that scoring costs.

``optical eval`` trains the candidate, reports clean and robust accuracy (mean ± std over
Monte-Carlo draws), degradation, energy per inference with its breakdown, MZI count,
latency, and the same network's energy on the electronic CPU/GPU references.

``bench optical`` times one robust evaluation (K draws on the MNIST test split) of a
typical candidate and compares the simulator with a plain ``nn.Linear`` network of the
same shape and weights, measured in the same run (ratios, not absolute goals, are what
carry across machines).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from agentnas.commands.progress_view import with_progress
from agentnas.tools.errors import UserError

TYPICAL_ARCH = "mlp:h=64-32|act=relu|mesh=clements|k=16|bits=8|nat=0"
BENCH_GOAL_S = 10.0


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["phase_noise_std=0.05", "adc_bits=none"]`` → typed non-ideality overrides."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set takes KEY=VALUE (e.g. phase_noise_std=0.05), got {item!r}")
        text = text.strip()
        value: Any
        if text.lower() == "none":
            value = None
        else:
            try:
                value = int(text)
            except ValueError:
                try:
                    value = float(text)
                except ValueError:
                    raise UserError(f"--set {key}: {text!r} is not a number or 'none'") from None
        out[key.strip()] = value
    return out


def _pj(mj: float) -> str:
    return f"{mj * 1e9:,.1f} pJ"


def eval_table(
    arch: str,
    backend_name: str,
    metrics: dict[str, float],
    draws: int,
    in_features: int = 784,
    n_classes: int = 10,
) -> Table:
    """Accuracy, energy (total, breakdown, electronic references), MZIs and latency."""
    from agentnas.tools.hardware.electronic import ElectronicBackend
    from agentnas.tools.hardware.optical import BREAKDOWN_METRICS

    m = metrics
    table = Table(title=f"{arch} on {backend_name}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_column("note")
    table.add_row("clean accuracy", f"{m['clean_accuracy']:.2f} %", "ideal simulator")
    table.add_row(
        "robust accuracy",
        f"{m['robust_accuracy']:.2f} ± {m['robust_accuracy_std']:.2f} %",
        f"mean ± std over {draws} draws",
    )
    table.add_row("degradation", f"{m['degradation']:.2f} pp", "clean − robust")
    table.add_row("energy / inference", _pj(m["energy_mj"]), f"{m['energy_mj']:.3e} mJ")
    for key in BREAKDOWN_METRICS:
        share = 100.0 * m[key] / m["energy_mj"] if m["energy_mj"] > 0 else 0.0
        name = key.removeprefix("energy_").removesuffix("_mj")
        table.add_row(f"  {name}", _pj(m[key]), f"{share:.1f} %")
    table.add_row("MZI count", f"{m['mzi_count']:,.0f}", f"{m['macs']:,.0f} MACs")
    table.add_row("latency", f"{m['latency_ms'] * 1e6:.3f} ns", "estimate")
    for device in ("cpu", "gpu"):
        ref = ElectronicBackend(device, in_features=in_features, n_classes=n_classes)
        e = ref.evaluate(arch)["energy_mj"]
        ratio = e / m["energy_mj"] if m["energy_mj"] > 0 else float("inf")
        table.add_row(f"electronic {device}", _pj(e), f"{ratio:,.3g}× the optical energy")
    return table


def _median_s(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_rows(arch: str, preset: str, draws: int, epochs: int) -> list[tuple[str, str, str]]:
    """Time the parts of one robust evaluation and the plain-network baseline."""
    import torch

    from agentnas.tools.photonic.datasets import load_dataset
    from agentnas.tools.photonic.layers import map_weight, set_nonideal
    from agentnas.tools.photonic.nonideal import preset as make_preset
    from agentnas.tools.photonic.training import (
        hardware_nonideal,
        limited_threads,
        plain_mlp,
        robust_accuracy,
        train,
    )
    from agentnas.tools.spaces.photonic_mlp import parse

    cfg = parse(arch)
    noise = make_preset(preset)
    t0 = time.perf_counter()
    data = load_dataset("mnist")
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = train(cfg, data, noise, seed=0, epochs=epochs)
    t_train = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = robust_accuracy(model, data, noise, draws=draws, seed=0)
    t_robust = time.perf_counter() - t0

    plain = plain_mlp(cfg, data.in_features, data.n_classes)
    linears = [mod for mod in plain if isinstance(mod, torch.nn.Linear)]
    with torch.no_grad():
        for lin, mzi in zip(linears, model.layers, strict=True):
            lin.weight.copy_(mzi.weight)
            lin.bias.copy_(mzi.bias)
    x = data.x_test
    ni = hardware_nonideal(noise, cfg)
    with limited_threads(), torch.no_grad():
        t_plain = _median_s(lambda: [plain(x) for _ in range(draws)], 5)
        set_nonideal(model, None)
        t_bypass = _median_s(lambda: [model(x) for _ in range(draws)], 5)
        gen = torch.Generator().manual_seed(0)
        set_nonideal(model, ni, gen)
        t_sim = _median_s(lambda: [model(x) for _ in range(draws)], 1)
        t_map = _median_s(
            lambda: [map_weight(m.weight, m.mesh, m.block_size) for m in model.layers], 1
        )
        set_nonideal(model, None)
    ok = "yes" if t_robust <= BENCH_GOAL_S else "no"
    return [
        ("candidate", arch, f"{model.mzi_count:,} MZIs, preset {preset}"),
        ("load MNIST (5,000 images)", f"{t_load:.2f} s", "cached after the first call"),
        ("train", f"{t_train:.2f} s", f"{epochs} epochs, 4,000 images, nat={int(cfg.nat)}"),
        (
            f"robust evaluation ({draws} draws, 1,000 test images)",
            f"{t_robust:.2f} s",
            f"goal ≤ {BENCH_GOAL_S:.0f} s: {ok}; robust {result.mean:.2f} ± {result.std:.2f} %",
        ),
        ("  weight → MZI phase mapping (once)", f"{t_map:.3f} s", "SVD + mesh decomposition"),
        (f"  {draws} simulated forward passes", f"{t_sim:.3f} s", "one draw each"),
        (f"{draws} plain nn.Linear forward passes", f"{t_plain * 1e3:.2f} ms", "same shape"),
        ("simulator overhead", f"{t_sim / t_plain:,.0f}×", "simulated draws / plain forwards"),
        ("ideal-bypass overhead", f"{t_bypass / t_plain:.2f}×", "MZILinear with nonideal=None"),
        (
            "robust evaluation / plain inference",
            f"{t_robust / t_plain:,.0f}×",
            "whole scoring vs plain forwards",
        ),
    ]


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add ``agentnas optical eval`` and ``agentnas bench optical``."""
    group = typer.Typer(
        help="Optical MZI hardware: score photonic-mlp candidates under non-idealities.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="optical")

    @group.command("eval")
    def eval_command(
        arch: Annotated[
            str, typer.Argument(help="photonic-mlp architecture, e.g. " + TYPICAL_ARCH)
        ],
        preset: Annotated[
            str, typer.Option(help="non-idealities: ideal | realistic | worst-case")
        ] = "realistic",
        dataset: Annotated[str, typer.Option(help="mnist | digits")] = "mnist",
        draws: Annotated[int, typer.Option(help="Monte-Carlo draws of the hardware")] = 32,
        epochs: Annotated[int, typer.Option(help="training epochs")] = 5,
        seed: Annotated[int, typer.Option(help="seed of training and draws")] = 0,
        set_: Annotated[
            list[str] | None,
            typer.Option("--set", help="override a non-ideality, e.g. phase_noise_std=0.05"),
        ] = None,
        cache: Annotated[bool, typer.Option(help="reuse/keep results on disk")] = True,
    ) -> None:
        """Train ARCH, score it under the preset, and price it against CPU/GPU."""
        from agentnas.tools.hardware.optical import OpticalMZIBackend
        from agentnas.tools.spaces.photonic_mlp import canonical

        backend = OpticalMZIBackend(
            preset,
            dataset=dataset,
            draws=draws,
            epochs=epochs,
            seed=seed,
            overrides=parse_overrides(set_ or []),
            cache=cache,
        )
        start = time.perf_counter()
        result = backend.evaluate_detail(arch)
        took = time.perf_counter() - start

        console = Console(width=max(Console().width, 100))
        table = eval_table(
            canonical(arch),
            backend.name,
            result.metrics,
            draws,
            backend.in_features,
            backend.n_classes,
        )
        console.print(table)
        source = "cache" if result.cached else f"{took:.1f} s"
        console.print(f"dataset {dataset}, {epochs} epochs, seed {seed}; {source}")

    @bench.command("optical")
    @with_progress
    def bench_command(
        arch: Annotated[str, typer.Option(help="candidate to time")] = TYPICAL_ARCH,
        preset: Annotated[str, typer.Option(help="non-ideality preset")] = "realistic",
        draws: Annotated[int, typer.Option(help="Monte-Carlo draws")] = 32,
        epochs: Annotated[int, typer.Option(help="training epochs")] = 5,
    ) -> None:
        """Time one robust evaluation on MNIST and the simulator's overhead."""
        if draws < 1 or epochs < 1:
            raise UserError(f"draws and epochs must be >= 1, got {draws} and {epochs}")
        table = Table(title="optical MZI simulator benchmark (MNIST test split)")
        table.add_column("what")
        table.add_column("time / ratio", justify="right", overflow="fold")
        table.add_column("note")
        for row in bench_rows(arch, preset, draws, epochs):
            table.add_row(*row)
        Console(width=max(Console().width, 120)).print(table)
