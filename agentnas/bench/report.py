"""``results.md`` and ``hv_<device>.png`` from the scored rows of a bench.

Tables give mean ± standard deviation over seeds. Every other method is compared with
``agent`` at the same budget on the same seeds: the mean paired difference of HV ratio
(method − agent: negative means the method, e.g. an ablation, is worse), wins/ties/losses,
and a two-sided Wilcoxon signed-rank test over the seeds (pooled over devices in the
"all devices" rows). A difference whose p-value is 0.05 or more is called "no measurable
difference": for an ablation that means the removed part is worth nothing on this bench.
With 5 pairs or fewer no test can reach 0.05 (the smallest two-sided p is 2/2^n), and the
verdict says so instead of calling the difference nothing.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agentnas.bench.spec import ABLATIONS, CARRIED, slug

ALPHA = 0.05


def _ms(values: Sequence[float], digits: int = 4) -> str:
    vals = [v for v in values if not math.isnan(v)]
    if not vals:
        return "–"
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return f"{statistics.fmean(vals):.{digits}f} ± {sd:.{digits}f}"


def wilcoxon_p(diffs: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value; 1.0 when every difference is zero."""
    from scipy.stats import wilcoxon

    nonzero = [d for d in diffs if d != 0 and not math.isnan(d)]
    if not nonzero:
        return 1.0
    return float(wilcoxon(nonzero).pvalue)


def paired(rows: list[dict[str, Any]], method: str, budget: int, devices: Sequence[str]) -> dict:
    """HV-ratio differences (method − agent) over the seeds both ran, on ``devices``."""
    by = {(r["method"], r["device"], r["budget"], r["seed"]): r["hv_ratio"] for r in rows}
    diffs = []
    for (m, d, b, s), hv in by.items():
        if m == method and b == budget and d in devices and ("agent", d, b, s) in by:
            diffs.append(hv - by[("agent", d, b, s)])
    wins = sum(d > 0 for d in diffs)
    losses = sum(d < 0 for d in diffs)
    return {
        "n": len(diffs),
        "mean": statistics.fmean(diffs) if diffs else float("nan"),
        "wins": wins,
        "ties": len(diffs) - wins - losses,
        "losses": losses,
        "p": wilcoxon_p(diffs) if diffs else float("nan"),
    }


def verdict(method: str, cmp: dict) -> str:
    if cmp["n"] == 0 or math.isnan(cmp["mean"]):
        return "no paired seeds"
    smallest = 2.0 / 2 ** cmp["n"]  # two-sided Wilcoxon p when every pair agrees in sign
    if smallest >= ALPHA:
        return f"too few pairs to test (smallest possible p {smallest:.3g})"
    if cmp["p"] >= ALPHA:
        if method in ABLATIONS and method not in CARRIED:
            return "no measurable difference: the removed part is worth nothing here"
        return "no measurable difference"
    if method in ABLATIONS and method not in CARRIED:
        return "the part helps (removing it hurts)" if cmp["mean"] < 0 else "the part hurts"
    return "better than agent" if cmp["mean"] > 0 else "worse than agent"


def _groups(rows: list[dict[str, Any]]) -> dict[tuple[str, str, int], list[dict]]:
    out: dict[tuple[str, str, int], list[dict]] = defaultdict(list)
    for r in rows:
        out[(r["device"], r["method"], r["budget"])].append(r)
    return out


def method_table(rows: list[dict[str, Any]], device: str) -> list[str]:
    lines = [
        "| method | seeds | HV ratio | IGD | evaluations | LLM calls | tokens | s/run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    groups = _groups(rows)
    for (d, m, b), rs in sorted(groups.items(), key=lambda kv: (kv[0][2], kv[0][1])):
        if d != device:
            continue
        lines.append(
            f"| {m}@{b} | {len(rs)} | {_ms([r['hv_ratio'] for r in rs])} | "
            f"{_ms([r['igd'] for r in rs])} | {statistics.fmean(r['evaluations'] for r in rs):.0f}"
            f" | {statistics.fmean(r['llm_calls'] for r in rs):.0f} | "
            f"{statistics.fmean(r['tokens'] for r in rs):.0f} | "
            f"{statistics.fmean(r['seconds'] for r in rs):.1f} |"
        )
    return lines


def pooled_table(rows: list[dict[str, Any]], devices: Sequence[str]) -> list[str]:
    """Per method@budget: the mean over devices of each seed's HV ratio."""
    lines = [
        "| method | " + " | ".join(slug(d) for d in devices) + " | mean |",
        "|---|" + "---:|" * (len(devices) + 1),
    ]
    groups = _groups(rows)
    keys = sorted({(b, m) for (_, m, b) in groups})
    for b, m in keys:
        cells, means = [], []
        for d in devices:
            vals = [r["hv_ratio"] for r in groups.get((d, m, b), [])]
            cells.append(_ms(vals, 3) if vals else "–")
            if vals:
                means.append(statistics.fmean(vals))
        mean = f"{statistics.fmean(means):.3f}" if len(means) == len(devices) else "–"
        lines.append(f"| {m}@{b} | " + " | ".join(cells) + f" | {mean} |")
    return lines


def comparison_table(rows: list[dict[str, Any]], devices: Sequence[str]) -> list[str]:
    lines = [
        "| method vs agent | devices | pairs | Δ HV ratio (method − agent) | wins/ties/losses "
        "| Wilcoxon p | verdict |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    agent_budgets = {r["budget"] for r in rows if r["method"] == "agent"}
    keys = sorted({(r["method"], r["budget"]) for r in rows if r["method"] != "agent"})
    keys = [k for k in keys if k[1] in agent_budgets]
    keys.sort(key=lambda k: (k[0] not in ABLATIONS, k[1], k[0]))
    for m, b in keys:
        for scope in [*devices, None]:
            devs = list(devices) if scope is None else [scope]
            cmp = paired(rows, m, b, devs)
            if cmp["n"] == 0:
                continue
            where = "all" if scope is None else slug(scope)
            lines.append(
                f"| {m}@{b} | {where} | {cmp['n']} | {cmp['mean']:+.4f} | "
                f"{cmp['wins']}/{cmp['ties']}/{cmp['losses']} | {cmp['p']:.3g} | "
                f"{verdict(m, cmp)} |"
            )
    return lines


def write_markdown(
    path: Path,
    rows: list[dict[str, Any]],
    devices: Sequence[str],
    references: dict[str, str],
    command: str,
    notes: Sequence[str] = (),
) -> None:
    out = [
        "# Bench results",
        "",
        f"Command: `{command}`",
        "",
        "HV ratio and IGD of each run's final front against the device's reference front "
        "(mean ± std over seeds). Reference fronts:",
        "",
        *[f"- {slug(d)}: {references[d]}" for d in devices],
        *[f"- {n}" for n in notes],
        "",
        "## HV ratio per device (mean ± std over seeds)",
        "",
        *pooled_table(rows, devices),
        "",
        "## Each method against `agent` (same budget, same seeds)",
        "",
        "Paired over seeds; Δ < 0: worse than agent. Wilcoxon signed-rank, two-sided; "
        f"p ≥ {ALPHA} is reported as no measurable difference.",
        "",
        *comparison_table(rows, devices),
        "",
    ]
    for d in devices:
        out += [f"## {d}", "", references[d], "", *method_table(rows, d), ""]
    path.write_text("\n".join(out), encoding="utf-8")


def plot_device(
    path: Path, device: str, curves: list[dict[str, Any]], rows: list[dict[str, Any]], title: str
) -> None:
    """HV ratio against evaluations: per method, the mean curve (± std band) of its
    largest-budget runs, and its separate runs' final HV at every budget (error bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    methods = sorted({r["method"] for r in rows if r["device"] == device})
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    colors = plt.get_cmap("tab10")
    for i, m in enumerate(methods):
        color = colors(i % 10)
        budgets = sorted({r["budget"] for r in rows if r["device"] == device and r["method"] == m})
        top = budgets[-1]
        by_n: dict[int, list[float]] = defaultdict(list)
        for c in curves:
            if c["device"] == device and c["method"] == m and c["budget"] == top:
                by_n[int(c["n"])].append(float(c["hv_ratio"]))
        if by_n:
            ns = sorted(by_n)
            mean = np.array([np.mean(by_n[n]) for n in ns])
            sd = np.array([np.std(by_n[n]) for n in ns])
            ax.plot(ns, mean, color=color, label=m, lw=1.6)
            ax.fill_between(ns, mean - sd, mean + sd, color=color, alpha=0.15, lw=0)
        ends = [
            [
                r["hv_ratio"]
                for r in rows
                if (r["device"], r["method"], r["budget"]) == (device, m, b)
            ]
            for b in budgets
        ]
        ax.errorbar(
            budgets,
            [np.mean(e) for e in ends],
            yerr=[np.std(e) for e in ends],
            fmt="o",
            color=color,
            ms=4,
            capsize=3,
        )
    ax.set_xscale("log")  # budgets from tens to hundreds: every one stays readable
    ticks = sorted({r["budget"] for r in rows if r["device"] == device} | {10})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xlabel("distinct evaluations (log scale)")
    ax.set_ylabel("HV ratio (vs reference front)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


DIVERSITY_COLUMNS = ("front_size", "mesh_types", "widths", "precisions", "energy_decades")
COMPOSITION_COLUMNS = (
    "members", "mean_bits", "mean_stages", "share_reck", "share_nat", "mean_layers",
)  # fmt: skip


def write_diversity(
    out: Path, runs: list[dict[str, Any]], fronts: dict[str, dict[str, float]]
) -> None:
    """``diversity.csv`` (one row per run) and a section appended to ``results.md``:
    the diversity of each method's fronts, and what each device's pooled front is made
    of (the direction the front moves between presets)."""
    from agentnas.tools.atomic_io import write_csv_atomic

    cols = ["method", "device", "budget", "seed", *DIVERSITY_COLUMNS]
    write_csv_atomic(
        out / "diversity.csv", cols, [[r[c] for c in cols] for r in sorted(runs, key=str)]
    )
    lines = [
        "",
        "## Diversity of the fronts (photonic space)",
        "",
        "Per run (mean ± std over seeds): members of its front, distinct mesh types, "
        "hidden-width lists and phase precisions among them, and the front's spread along "
        "the energy axis (decades, log10 max/min).",
        "",
        "| device | method | " + " | ".join(DIVERSITY_COLUMNS) + " |",
        "|---|---|" + "---:|" * len(DIVERSITY_COLUMNS),
    ]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in runs:
        groups[(r["device"], f"{r['method']}@{r['budget']}")].append(r)
    for (d, m), rs in sorted(groups.items()):
        cells = [_ms([float(r[c]) for r in rs], 2) for c in DIVERSITY_COLUMNS]
        lines.append(f"| {d} | {m} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "What the pooled front of every method's runs is made of, per device (stages: MZI "
        "columns a signal crosses in one k-port mesh, k for Clements, 2k−3 for Reck):",
        "",
        "| device | " + " | ".join(COMPOSITION_COLUMNS) + " |",
        "|---|" + "---:|" * len(COMPOSITION_COLUMNS),
    ]
    for d, comp in fronts.items():
        lines.append(
            f"| {d} | "
            + " | ".join(f"{comp.get(c, float('nan')):.3g}" for c in COMPOSITION_COLUMNS)
            + " |"
        )
    with (out / "results.md").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
