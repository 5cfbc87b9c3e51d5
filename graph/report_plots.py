"""The report's figures (matplotlib, Agg backend: no display needed).

Each function takes :class:`~agentnas.graph.report_data.ReportData` and returns a Figure
whose artists carry a ``gid`` naming the data they draw (``front.csv``, ``front-r3``,
``exact``, ``hv_ratio``, ``igd``, ``evaluations``, ``constraint``, …), so tests check the
data behind a plot, not its pixels.
"""

from __future__ import annotations

import io
import textwrap
from collections import Counter
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: files only, never a window
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from agentnas.graph.report_data import ReportData
from agentnas.tools.metrics import pareto_indices
from agentnas.tools.objectives import Objective


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def axes_objectives(data: ReportData) -> tuple[Objective, Objective]:
    """(x, y) of the front plot: y = accuracy (or the first objective), x = energy when
    the run has it (optical runs: the accuracy–energy front), else the next objective."""
    objs = data.objectives
    y = next((o for o in objs if o.metric == "accuracy"), objs[0])
    rest = [o for o in objs if o is not y]
    x = next((o for o in rest if o.metric == "energy_mj"), rest[0])
    return x, y


def _label(o: Objective) -> str:
    return f"{o.metric} ({o.unit}, {'higher' if o.direction == 'max' else 'lower'} is better)"


def _staircase(xs: np.ndarray, ys: np.ndarray, x: Objective, y: Objective) -> tuple[Any, Any]:
    """The points not beaten on these two objectives, sorted along x, for a step line.
    With two objectives that is every front member; a 3-objective front projected on two
    axes also holds members that only the third objective keeps (drawn as points)."""
    if len(xs) == 0:
        return xs, ys
    keep = pareto_indices(np.column_stack([xs * x.sign, ys * y.sign]))
    xs, ys = xs[keep], ys[keep]
    order = np.argsort(xs * x.sign, kind="stable")
    return xs[order], ys[order]


def _constraint_lines(ax: Any, data: ReportData, x: Objective, y: Objective) -> None:
    for c in data.constraints:
        style = {"color": "tab:red", "linestyle": "--", "linewidth": 1.2, "label": c.text}
        if c.metric == x.metric:
            ax.axvline(c.value, gid=f"constraint:{c.text}", **style)
        elif c.metric == y.metric:
            ax.axhline(c.value, gid=f"constraint:{c.text}", **style)


def front_figure(data: ReportData) -> Figure:
    """Front per round (lighter = earlier) over the exact front, front.csv on top."""
    x, y = axes_objectives(data)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    if data.exact is not None:
        ix, iy = data.objectives.index(x), data.objectives.index(y)
        ex, ey = _staircase(data.exact[:, ix], data.exact[:, iy], x, y)
        ax.plot(ex, ey, color="0.6", marker=".", ms=3, lw=1, label="exact front", gid="exact")
    rounds = data.round_numbers
    cmap = plt.get_cmap("viridis")
    for k, rnd in enumerate(rounds[:-1]):
        rows = data.round_front(rnd)
        xs, ys = _staircase(data.column(rows, x.metric), data.column(rows, y.metric), x, y)
        color = cmap(k / max(len(rounds) - 1, 1))
        ax.step(
            xs,
            ys,
            where="post",
            color=color,
            alpha=0.5,
            lw=1,
            gid=f"front-r{rnd}",
            label=f"front after round {rnd}" if k in (0, len(rounds) - 2) else None,
        )
    fx, fy = data.column(data.front, x.metric), data.column(data.front, y.metric)
    ax.scatter(
        fx,
        fy,
        color="tab:orange",
        edgecolor="black",
        zorder=5,
        s=36,
        label=f"front.csv ({len(data.front)} cells)",
        gid="front.csv",
    )
    sx, sy = _staircase(fx, fy, x, y)
    ax.step(sx, sy, where="post", color="tab:orange", lw=1.5, zorder=4)
    others = [c for c in data.candidates if c.get(x.metric) is not None]
    ax.scatter(
        data.column(others, x.metric),
        data.column(others, y.metric),
        s=8,
        color="0.3",
        alpha=0.35,
        label=f"evaluated ({len(others)})",
        gid="candidates",
    )
    if data.front_constrained:
        cx = data.column(data.front_constrained, x.metric)
        cy = data.column(data.front_constrained, y.metric)
        ax.scatter(
            cx,
            cy,
            marker="D",
            s=22,
            color="tab:red",
            zorder=6,
            gid="front_constrained.csv",
            label=f"front_constrained.csv ({len(cx)} cells)",
        )
    _constraint_lines(ax, data, x, y)
    _focus_on_front(ax, data, fy, y)
    ax.set_xlabel(_label(x))
    ax.set_ylabel(_label(y))
    title = "Pareto front per round"
    if len(data.objectives) > 2:
        title = f"{y.metric}–{x.metric} front per round (points: front.csv on all objectives)"
    ax.set_title(title + (" over the exact front" if data.exact is not None else ""))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right" if x.direction == "min" else "lower left")
    return fig


def _focus_on_front(ax: Any, data: ReportData, front_y: np.ndarray, y: Objective) -> None:
    """Keep the y range on the fronts: a few very poor cells (10 % accuracy) would squash
    them into a line; how many fall outside is written on the plot."""
    ys = list(front_y)
    if data.exact is not None:
        ys += list(data.exact[:, data.objectives.index(y)])
    if len(ys) < 2:
        return
    lo, hi = min(ys), max(ys)
    pad = max((hi - lo) * 0.15, 1e-9)
    low, high = lo - pad, hi + pad
    every = data.column(data.candidates, y.metric)
    hidden = int(np.sum((every < low) | (every > high)))
    ax.set_ylim(low, high)
    if hidden:
        ax.text(
            0.01,
            0.01,
            f"{hidden} evaluated cell(s) outside the y range",
            fontsize=7,
            transform=ax.transAxes,
            color="0.3",
        )


def indicators_figure(data: ReportData) -> Figure:
    """HV ratio and IGD per round, from rounds.csv."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.6))
    rnds = data.round_numbers
    for ax, key, title in (
        (a1, "hv_ratio", "HV ratio (1 = exact front)"),
        (a2, "igd", "IGD (0 = exact front)"),
    ):
        vals = [r.get(key) for r in data.rounds]
        pts = [(n, v) for n, v in zip(rnds, vals, strict=True) if v is not None]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", gid=key)
        ax.set_title(title)
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
        if not pts:
            ax.text(0.5, 0.5, "not known for this space", ha="center", transform=ax.transAxes)
    fig.tight_layout()
    return fig


def partitions_figure(data: ReportData) -> Figure:
    """Evaluations per partition, stacked by round, from candidates.csv."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    parts = sorted({int(c["partition"]) for c in data.candidates if c.get("partition") is not None})
    rounds = sorted({int(c["round"]) for c in data.candidates if c.get("round") is not None})
    counts = Counter(
        (int(c["partition"]), int(c["round"]))
        for c in data.candidates
        if c.get("partition") is not None
    )
    bottom = np.zeros(len(parts))
    cmap = plt.get_cmap("viridis")
    for k, rnd in enumerate(rounds):
        h = np.array([counts[(p, rnd)] for p in parts], dtype=float)
        ax.bar(
            [f"p{p}" for p in parts],
            h,
            bottom=bottom,
            color=cmap(k / max(len(rounds) - 1, 1)),
            label=f"round {rnd}",
            gid=f"evaluations-r{rnd}",
        )
        bottom += h
    ax.set_ylabel("evaluations")
    ax.set_title(f"Evaluations per partition ({len(data.candidates)} in all)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def energy_breakdown_figure(data: ReportData) -> Figure | None:
    """Energy per front member split into its parts (``energy_*`` columns of front.csv)."""
    parts = [
        k
        for k in (data.front[0] if data.front else {})
        if k.startswith("energy_") and k.endswith("_mj") and k != "energy_mj"
    ]
    if not parts:
        return None
    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"f{i + 1}" for i in range(len(data.front))]
    bottom = np.zeros(len(data.front))
    for k in parts:
        h = np.array([float(r.get(k) or 0.0) for r in data.front])
        ax.bar(labels, h, bottom=bottom, label=k.removeprefix("energy_"), gid=k)
        bottom += h
    ax.set_ylabel("energy per inference (mJ)")
    ax.set_title("Energy breakdown of the front members (front.csv)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def robust_figure(data: ReportData) -> Figure | None:
    """Accuracy of each front member without and with the hardware's non-idealities."""
    if not data.front or "robust_accuracy" not in data.front[0]:
        return None
    nominal = next(
        (k for k in ("nominal_accuracy", "ideal_accuracy", "clean_accuracy") if k in data.front[0]),
        None,
    )
    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"f{i + 1}" for i in range(len(data.front))]
    xs = np.arange(len(labels))
    robust = [float(r["robust_accuracy"]) for r in data.front]
    if nominal is not None:
        ideal = [float(r[nominal]) for r in data.front]
        ax.bar(xs - 0.2, ideal, 0.4, label=nominal, gid=nominal)
        ax.bar(xs + 0.2, robust, 0.4, label="robust_accuracy", gid="robust_accuracy")
    else:
        ax.bar(xs, robust, 0.6, label="robust_accuracy", gid="robust_accuracy")
    ax.set_xticks(xs, labels)
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Robust degradation of the front members (front.csv)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


# (front.csv column, label, marker, colour) of the electronic references
REFERENCES = (
    ("ref_gpu_energy_mj", "GPU", "^", "tab:green"),
    ("ref_cpu_energy_mj", "CPU", "s", "tab:blue"),
)


def electronic_figure(data: ReportData) -> Figure | None:
    """The accuracy–energy front of an optical run beside the CPU and GPU energy of the
    same networks (``ref_*_energy`` columns of front.csv; one row per network, so each
    network's three points share its accuracy), log energy axis, with the run's energy
    assumptions (phase-shifter technology, pJ/MAC) written on the plot."""
    refs = [r for r in REFERENCES if data.front and r[0] in data.front[0]]
    if not refs or "energy_mj" not in data.front[0]:
        return None
    x, y = axes_objectives(data)
    rows = [r for r in data.front if r.get(y.metric) is not None]
    acc = data.column(rows, y.metric)
    optical = data.column(rows, "energy_mj")
    fig, ax = plt.subplots(figsize=(8, 5.2))
    for k, (col, name, marker, color) in enumerate(refs):
        e = data.column(rows, col)
        lo, hi = np.minimum(e, optical), np.maximum(e, optical)
        link = "same network" if k == 0 else None
        ax.hlines(acc, lo, hi, color="0.85", lw=0.8, zorder=1, label=link)
        label = f"{name} ({len(e)} networks)"
        ax.scatter(e, acc, marker=marker, color=color, s=34, zorder=3, gid=col, label=label)
    label = f"optical MZI, front.csv ({len(rows)} networks)"
    ax.scatter(optical, acc, color="tab:orange", edgecolor="black", s=40, zorder=5, label=label)
    ax.collections[-1].set_gid("optical")
    sx, sy = _staircase(optical, acc, x, y)
    ax.step(sx, sy, where="post", color="tab:orange", lw=1.5, zorder=4)
    ax.set_xscale("log")
    ax.set_xlabel("energy per inference (mJ, log scale, lower is better)")
    ax.set_ylabel(_label(y))
    ax.set_title("Front members: optical energy vs the same networks on CPU and GPU")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="best")
    if data.assumptions:
        text = "\n".join(textwrap.fill(a, 110) for a in data.assumptions)
        fig.text(0.01, -0.02, text, fontsize=6.5, va="top", color="0.25", gid="assumptions")
    return fig
