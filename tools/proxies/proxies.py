"""The 13 NAS-Bench-Suite-Zero proxies of one NB201 cell, without caching.

Which network is scored: proxies that only depend on what the network *computes*
(everything but ``params``, ``flops`` and ``l2_norm``) are measured on the
representative of the cell's isomorphism class (its smallest benchmark index), so every
member of a class gets the same value whatever order cells are scored in, and the cache
can key them by class. ``params``, ``flops`` and ``l2_norm`` count dead weights too and
are measured on the cell itself.

Weights come from ``torch.manual_seed(seed)`` just before building the network; each
proxy family then runs on the same initial weights, as the reference (which copies the
network per measure) does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache

import torch
from torch import nn

from agentnas.tools.errors import UserError
from agentnas.tools.proxies.data import ProxyBatch, proxy_batch
from agentnas.tools.proxies.measures_free import l2_norm, synflow, zen
from agentnas.tools.proxies.measures_grad import SHARED_PASS_PROXIES, gradient_scores
from agentnas.tools.spaces.nb201 import cell_to_index, index_to_cell, normalize
from agentnas.tools.spaces.nb201_complexity import params_and_flops
from agentnas.tools.spaces.nb201_torch import build_network

PROXIES: tuple[str, ...] = (
    "synflow",
    "nwot",
    "jacov",
    "snip",
    "grad_norm",
    "fisher",
    "grasp",
    "l2_norm",
    "plain",
    "epe_nas",
    "zen",
    "params",
    "flops",
)
STRUCTURAL: frozenset[str] = frozenset({"params", "flops", "l2_norm"})  # depend on the cell
ANALYTIC: frozenset[str] = frozenset({"params", "flops"})  # no network needed


def check_proxy_names(names: Iterable[str] | None) -> tuple[str, ...]:
    """Validate proxy names (None = all 13), keeping :data:`PROXIES` order."""
    if names is None:
        return PROXIES
    wanted = [n.strip() for n in names]
    unknown = [n for n in wanted if n not in PROXIES]
    if unknown:
        raise UserError(
            f"unknown proxy {', '.join(map(repr, unknown))}; available: {', '.join(PROXIES)}"
        )
    if not wanted:
        raise UserError(f"no proxy asked for; available: {', '.join(PROXIES)}")
    return tuple(p for p in PROXIES if p in wanted)


@cache
def representative(cell: str) -> str:
    """The smallest-index member of ``cell``'s isomorphism class (itself if none smaller)."""
    from agentnas.tools.benchmark_tables import load_nb201

    return str(index_to_cell(int(load_nb201().iso_class[cell_to_index(cell)])))


def key_cell(cell: str, proxy: str) -> str:
    """The cell whose network ``proxy`` is measured on (see the module docstring)."""
    return normalize(cell) if proxy in STRUCTURAL else representative(cell)


def default_threads() -> int:
    """Intra-op threads for proxy scoring: ``$AGENTNAS_PROXY_THREADS`` or 1.

    One thread per process: parallelism comes from worker processes instead. On the
    shared 2-core development machine two threads made a cell ~8x slower (11.4 s vs
    1.45 s per cell, ``agentnas bench proxies --threads 2`` vs ``--threads 1``) because
    the threads spin-wait for a core another process holds.
    """
    try:
        return max(1, int(os.environ.get("AGENTNAS_PROXY_THREADS", "1")))
    except ValueError:
        return 1


def set_threads(n: int | None = None) -> int:
    """Use ``n`` intra-op threads (default :func:`default_threads`); returns the number."""
    torch.set_num_threads(max(1, int(n or default_threads())))
    return torch.get_num_threads()


@contextmanager
def proxy_threads() -> Iterator[None]:
    """Run a block with :func:`default_threads` threads, restoring the caller's setting."""
    before = torch.get_num_threads()
    set_threads()
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _fresh(cell: str, seed: int) -> nn.Module:
    torch.manual_seed(int(seed))
    return build_network(cell, 10)


def compute_proxies(
    cell: str,
    names: Iterable[str] | None = None,
    batch: ProxyBatch | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Score ``cell`` with the requested proxies (all 13 by default); floats, finite."""
    wanted = check_proxy_names(names)
    batch = batch if batch is not None else proxy_batch()
    normalize(cell)
    out: dict[str, float] = {}
    if "params" in wanted or "flops" in wanted:
        p, f = params_and_flops(cell, 10, int(batch.x.shape[-1]))
        out.update({k: v for k, v in (("params", p), ("flops", f)) if k in wanted})
    if "l2_norm" in wanted:
        out["l2_norm"] = l2_norm(_fresh(normalize(cell), seed))
    functional = [p for p in wanted if p not in STRUCTURAL]
    if functional:
        out.update(_functional(representative(cell), functional, batch, seed))
    return {p: float(out[p]) for p in wanted}


def _functional(cell: str, wanted: list[str], batch: ProxyBatch, seed: int) -> dict[str, float]:
    """Run each proxy family once on identical fresh weights."""
    out: dict[str, float] = {}
    net = _fresh(cell, seed)
    state = {k: v.clone() for k, v in net.state_dict().items()}

    def reset() -> nn.Module:
        net.load_state_dict(state)
        return net

    shared = [p for p in wanted if p in SHARED_PASS_PROXIES]
    if shared:
        out.update(gradient_scores(reset(), batch, shared))
    if "synflow" in wanted:
        out["synflow"] = synflow(reset(), batch)
    if "zen" in wanted:
        out["zen"] = zen(reset(), batch, seed)
    return out
