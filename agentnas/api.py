"""The Python entry point for notebooks and scripts, and the one ``agentnas run`` is built on:
``agentnas.search(space=…, hardware=…, budget=…, llm=…, seed=…, out=…)`` (in the spirit of
pymoo's ``minimize``).

    >>> import agentnas
    >>> result = agentnas.search(space="nb201", hardware="hwnasbench:fpga", budget=60)
    >>> result.front[0]["arch"], result.summary["hv_ratio"], result.run_dir

A space or a backend may be given by name (``"nb201"``, ``"pkg.module:Class"``) or as the
class itself; the run folder records it by name, so ``--resume`` rebuilds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agentnas.graph.config import CAP_FIELDS, RunConfig
from agentnas.tools.errors import UserError
from agentnas.tools.objectives import Objective, to_min_matrix


@dataclass
class SearchResult:
    """What a run found. ``front``/``candidates``: one dict per cell (``arch``,
    ``metrics``, ``partition``, ``round``, ``operator``, ``parents``, ``rationale`` …),
    the front ordered by the first objective, best first; ``summary``: ``summary.json``."""

    run_dir: Path
    front: list[dict[str, Any]]
    candidates: list[dict[str, Any]]
    objectives: list[Objective]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def F(self) -> np.ndarray:
        """The front's objective matrix, minimisation convention (pymoo's ``res.F``)."""
        return to_min_matrix([c["metrics"] for c in self.front], self.objectives)

    @property
    def archs(self) -> list[str]:
        """The front's architecture strings (pymoo's ``res.X``)."""
        return [c["arch"] for c in self.front]


def name_of(obj: Any) -> str | None:
    """A space or backend as the name the run folder stores: a string as given, a class
    (or an instance, by its class) as ``module:QualName``."""
    if obj is None or isinstance(obj, str):
        return obj
    cls = obj if isinstance(obj, type) else type(obj)
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        raise UserError(
            f"{cls.__qualname__} must live in an importable module (not __main__ or a "
            "function) so a resumed run can rebuild it; or pass its 'module:Class' name"
        )
    return f"{cls.__module__}:{cls.__qualname__}"


def _config(values: Mapping[str, Any]) -> RunConfig:
    data = {k: v for k, v in values.items() if v is not None}
    if "kb" in data:
        data["kb_dir"] = str(data.pop("kb"))
    if isinstance(data.get("objectives"), str):
        data["objectives"] = [o.strip() for o in data["objectives"].split(",") if o.strip()]
    return RunConfig.build(**data)


def search(
    space: Any = None,
    hardware: Any = None,
    budget: int | None = None,
    llm: str | None = None,
    seed: int | None = None,
    out: Path | str | None = None,
    *,
    config: RunConfig | None = None,
    resume: Path | str | None = None,
    on_round: Callable[[dict[str, Any]], None] | None = None,
    executor: Any = None,
    on_steer: Callable[[int, list[Any]], None] | None = None,
    **settings: Any,
) -> SearchResult:
    """Run (or, with ``resume=RUN_DIR``, continue) one search and return what it found.

    ``settings`` are the other fields of :class:`~agentnas.graph.config.RunConfig`
    (``dataset``, ``objectives`` as a list or ``"accuracy,latency"``, ``rounds``,
    ``partitions``, ``accuracy``, ``kb``, ``max_llm_calls``, ``backend_options`` …);
    ``config`` gives them all at once instead. With ``resume``, only the caps
    (``max_llm_calls``, ``token_budget``, ``cost_budget``, ``time_budget``) may be given,
    each at least the run's own. ``out`` defaults to ``runs/<timestamp>``;
    ``executor`` (``local``, ``processes:N``, ``ray[:ADDRESS]`` or a live executor) says
    where evaluations run (results do not depend on it); ``on_steer(round, actions)`` is
    told of each steering action that reaches the run through RUN_DIR/steer.jsonl.
    Bad settings raise :class:`~agentnas.tools.errors.UserError` before anything is
    written."""
    from agentnas.graph.runner import resume_run, start_run

    if resume is not None:
        caps = {k: settings.pop(k) for k in CAP_FIELDS if k in settings}
        given = {"space": space, "hardware": hardware, "budget": budget, "llm": llm,
                 "seed": seed, "out": out, "config": config, **settings}  # fmt: skip
        extra = [k for k, v in given.items() if v is not None]
        if extra:
            raise UserError(
                f"resume continues with the run's own settings (only its caps may be "
                f"raised: {', '.join(CAP_FIELDS)}); drop {extra}"
            )
        run_dir = Path(resume)
        summary = resume_run(
            run_dir, on_round=on_round, executor=executor, on_steer=on_steer, caps=caps
        )
    else:
        if config is None:
            named = {"space": name_of(space), "hardware": name_of(hardware)}
            config = _config({**named, "budget": budget, "llm": llm, "seed": seed, **settings})
        elif any(v is not None for v in (space, hardware, budget, llm, seed)) or settings:
            raise UserError("give either config= or individual settings, not both")
        run_dir = Path(out) if out is not None else Path("runs") / time.strftime("%Y%m%d-%H%M%S")
        summary = start_run(
            config, run_dir, on_round=on_round, executor=executor, on_steer=on_steer
        )
    return read_result(run_dir, summary)


def read_result(run_dir: Path | str, summary: dict[str, Any] | None = None) -> SearchResult:
    """The :class:`SearchResult` of a run folder (finished or not)."""
    from agentnas.graph.run_record import load_run

    record = load_run(run_dir)
    front = [record.by_arch[a] for a in record.front]
    return SearchResult(
        run_dir=Path(run_dir),
        front=front,
        candidates=list(record.cells),
        objectives=list(record.objectives),
        summary=dict(summary or record.summary),
    )
