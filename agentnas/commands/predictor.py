"""``agentnas predictor fit|eval|score`` and ``agentnas bench proxies``: the zero-cost
accuracy predictor (proxies on real CIFAR-10 images + the cell's graph → extra trees →
accuracy %)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from agentnas.commands.progress_view import with_progress
from agentnas.tools.errors import UserError
from agentnas.tools.progress import progress

DatasetOpt = Annotated[
    str, typer.Option("--dataset", "-d", help="accuracy column: cifar10, cifar100, ImageNet16-120")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="seed of cell draws, weights and batch")]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", help="scoring processes (default min(2, CPUs))")
]


def register(app: typer.Typer, bench: typer.Typer) -> None:
    """Add ``agentnas predictor fit|eval|score`` and ``agentnas bench proxies``."""
    group = typer.Typer(
        help="Zero-cost accuracy predictor: fit on a few known cells, predict any cell.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="predictor")

    @group.command("fit")
    def fit_command(
        dataset: DatasetOpt = "cifar10",
        n_calib: Annotated[int, typer.Option("--n-calib", help="calibration cells")] = 150,
        out: Annotated[Path | None, typer.Option("--out", help="model file (JSON)")] = None,
        seed: SeedOpt = 0,
        workers: WorkersOpt = None,
    ) -> None:
        """Score the calibration cells (cached), fit the predictor, save the model."""
        from agentnas.tools.proxies.accuracy_source import default_model_path, fit_predictor

        t0 = time.perf_counter()
        model = fit_predictor(dataset, n_calib, seed, workers, progress=True)
        path = out or default_model_path(dataset, n_calib, seed)
        model.save(path)
        typer.echo(
            f"fitted zero-cost predictor on {model.n_calib} {dataset} cells in "
            f"{time.perf_counter() - t0:.1f} s -> {path}"
        )

    @group.command("eval")
    def eval_command(
        dataset: DatasetOpt = "cifar10",
        n_calib: Annotated[int, typer.Option("--n-calib", help="calibration cells")] = 150,
        n_test: Annotated[int, typer.Option("--n-test", help="held-out test cells")] = 500,
        model_file: Annotated[
            Path | None, typer.Option("--model", help="saved model (default: fit/load cached)")
        ] = None,
        seed: SeedOpt = 0,
        workers: WorkersOpt = None,
    ) -> None:
        """Spearman ρ and Kendall τ of predicted vs table accuracy on held-out cells (the
        default 500 are shipped with their proxies, so nothing is scored for them)."""
        from scipy.stats import kendalltau, spearmanr

        from agentnas.tools.proxies.accuracy_source import ZeroCostAccuracy
        from agentnas.tools.proxies.calibration import shipped_heldout
        from agentnas.tools.proxies.parallel import score_cells
        from agentnas.tools.proxies.predictor import split_cells, true_accuracy
        from agentnas.tools.proxies.proxies import representative

        if n_test < 10:
            raise UserError(f"--n-test must be at least 10; got {n_test}")
        source = ZeroCostAccuracy(
            dataset, n_calib, seed, model_path=model_file, workers=workers, progress=True
        )
        model = source.model
        calib, _ = split_cells(model.n_calib, 0, model.seed)
        _, test = split_cells(model.n_calib, n_test, seed)
        test = [c for c in test if c not in set(calib)]
        shipped = shipped_heldout()
        known = (
            dict(zip(shipped.cells, shipped.proxies, strict=True))
            if shipped is not None
            and (shipped.batch_size, shipped.batch_digest) == (model.batch_size, model.batch_digest)
            else {}
        )
        if all(c in known and set(model.proxy_names) <= set(known[c]) for c in test):
            proxies = [known[c] for c in test]  # shipped held-out proxies: nothing to score
        else:
            proxies = score_cells(  # measured exactly as the model's calibration cells were
                test,
                model.proxy_names,
                batch_size=model.batch_size,
                seed=model.seed,
                workers=workers,
                progress=True,
            )
        pred = model.predict(test, proxies)
        truth = true_accuracy(test, model.dataset)
        rho = spearmanr(pred, truth).statistic
        tau = kendalltau(pred, truth).statistic
        table = Table(
            title=f"zero-cost predictor, {model.dataset}: {model.n_calib} calibration cells, "
            f"{len(test)} held-out cells"
        )
        table.add_column("scorer")
        table.add_column("Spearman ρ", justify="right")
        table.add_column("Kendall τ", justify="right")
        table.add_row("[bold]predictor[/]", f"[bold]{rho:.3f}[/]", f"[bold]{tau:.3f}[/]")
        # isomorphic cells share functional proxies: also report cells whose class is unseen
        seen = {representative(c) for c in calib}
        fresh = [i for i, c in enumerate(test) if representative(c) not in seen]
        rho_new = spearmanr(pred[fresh], truth[fresh]).statistic
        tau_new = kendalltau(pred[fresh], truth[fresh]).statistic
        table.add_row(
            f"predictor, {len(fresh)} cells of unseen isomorphism classes",
            f"{rho_new:.3f}",
            f"{tau_new:.3f}",
        )
        for p in model.proxy_names:
            values = [v[p] for v in proxies]
            table.add_row(
                f"  {p} alone",
                f"{spearmanr(values, truth).statistic:.3f}",
                f"{kendalltau(values, truth).statistic:.3f}",
            )
        Console().print(table)
        typer.echo(
            f"spearman={rho:.4f} kendall={tau:.4f} n_calib={model.n_calib} n_test={len(test)} "
            f"(unseen classes: spearman={rho_new:.4f} kendall={tau_new:.4f} n={len(fresh)})"
        )

    @group.command("score")
    def score_command(
        cells: Annotated[list[str], typer.Argument(help="NB201 cell strings or indices")],
        dataset: DatasetOpt = "cifar10",
        n_calib: Annotated[int, typer.Option("--n-calib", help="calibration cells")] = 150,
        seed: SeedOpt = 0,
    ) -> None:
        """Predicted accuracy (%) and raw proxies of each cell."""
        from agentnas.tools.proxies.accuracy_source import ZeroCostAccuracy
        from agentnas.tools.spaces.nb201 import index_to_cell, normalize

        source = ZeroCostAccuracy(dataset, n_calib, seed, progress=True)
        for text in cells:
            cell = index_to_cell(int(text)) if text.strip().isdigit() else normalize(text)
            proxies = source.proxies(cell)
            raw = "  ".join(f"{k}={v:.4g}" for k, v in proxies.items())
            typer.echo(f"{cell}  predicted={source.accuracy(cell):.2f}%  {raw}")

    @bench.command("proxies")
    @with_progress
    def bench_proxies(
        n_cells: Annotated[int, typer.Option("--cells", help="cells timed")] = 20,
        seed: SeedOpt = 0,
        threads: Annotated[
            int | None,
            typer.Option("--threads", help="torch threads (default 1, see AGENTNAS_PROXY_THREADS)"),
        ] = None,
    ) -> None:
        """Seconds per cell for the predictor's proxies together, for all 13, and for each
        alone (no cache), with ratios against the cheapest, ``params``, in the same run."""
        import random

        from agentnas.tools.proxies.data import proxy_batch
        from agentnas.tools.proxies.predictor import MODEL_PROXIES
        from agentnas.tools.proxies.proxies import PROXIES, compute_proxies, set_threads
        from agentnas.tools.proxies.scoring import PROXY_BATCH_SIZE
        from agentnas.tools.spaces.nb201 import sample

        if not 1 <= n_cells <= 1000:
            raise UserError(f"--cells must be in 1..1000; got {n_cells}")
        n_threads = set_threads(threads)
        batch = proxy_batch(PROXY_BATCH_SIZE, seed)
        cells = sample(random.Random(seed), n_cells)
        compute_proxies(cells[0], None, batch, seed)  # warm-up (allocator, lazy imports)

        cpu_seconds: dict[tuple[str, ...], float] = {}

        def seconds_per_cell(names: tuple[str, ...]) -> float:
            what = ", ".join(names) if len(names) < 4 else f"{len(names)} proxies"
            progress(f"bench proxies: {what} on {n_cells} cells")
            t0, c0 = time.perf_counter(), time.process_time()
            for c in cells:
                compute_proxies(c, names, batch, seed)
            cpu_seconds[names] = (time.process_time() - c0) / len(cells)
            return (time.perf_counter() - t0) / len(cells)

        rows = [(f"predictor's {len(MODEL_PROXIES)}", seconds_per_cell(MODEL_PROXIES))]
        rows += [("all 13 together", seconds_per_cell(PROXIES))]
        rows += [(p, seconds_per_cell((p,))) for p in PROXIES]
        base = dict(rows)["params"]
        table = Table(
            title=f"zero-cost proxies: {n_cells} cells, batch {batch.size} real CIFAR-10 "
            f"images, {n_threads} torch thread(s), no cache"
        )
        table.add_column("proxy")
        table.add_column("s / cell", justify="right")
        table.add_column("× params", justify="right")
        for name, sec in rows:
            table.add_row(name, f"{sec:.4f}", f"{sec / base:,.0f}" if base > 0 else "-")
        Console().print(table)
        typer.echo(
            f"the predictor's proxies: {rows[0][1]:.3f} s per cell, all 13: {rows[1][1]:.3f} s "
            f"(CPU time of this process: {cpu_seconds[MODEL_PROXIES]:.3f} s per cell for the "
            "predictor's)"
        )
