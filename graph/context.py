"""The graph's run context: the live objects of one run that nodes need besides the state.

LangGraph hands it to every node as ``runtime.context`` (``StateGraph(...,
context_schema=RunContext)``, ``graph.invoke(..., context=ctx)``). None of it is
checkpointed (a model client, a Chroma handle, a trace file): it is rebuilt from
``RUN_DIR/config.json`` on ``--resume``. What must survive a crash (rounds, candidates, LLM
usage) lives in the state instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from agentnas.agents.schemas import Partition, partition_of
from agentnas.graph.budgets import RunClock
from agentnas.graph.config import RunConfig
from agentnas.graph.trace import TraceWriter
from agentnas.tools.evaluation import Evaluator
from agentnas.tools.spaces.isomorphism import for_search


@dataclass
class RunContext:
    config: RunConfig
    run_dir: Path
    evaluator: Evaluator
    llm: Any  # agents.llm.LLMBackend
    kb: Any  # memory.knowledge_base.KnowledgeBase
    trace: TraceWriter
    on_round: Callable[[dict[str, Any]], None] | None = None
    # called with (round, actions) when steering arrives through RUN_DIR/steer.jsonl
    on_steer: Callable[[int, list[Any]], None] | None = None
    interactive: bool = False  # pause at each round boundary for steering commands
    kb_lock: threading.Lock = field(default_factory=threading.Lock)
    run_lock: Any = None  # open RUN_DIR/.lock file holding this process's flock
    executor: Any = None  # tools.executor.Executor evaluating batches (None: in-process)
    clock: RunClock = field(default_factory=RunClock)  # the run's wall seconds, run-wide

    @cached_property
    def space(self) -> Any:
        """The search space; under ``dedupe_isomorphic`` a class's features are its
        representative's, so each isomorphism class lives in exactly one partition."""
        return for_search(self.evaluator.space, self.config.dedupe_isomorphic)

    @cached_property
    def _membership(self) -> dict[str, int | None]:
        return {}

    @cached_property
    def reused(self) -> list[dict[str, Any]]:
        """Earlier runs' cells this run reuses as model data (``RUN_DIR/reused.csv``,
        :mod:`agentnas.graph.reuse`); empty unless ``--reuse-evaluations``."""
        from agentnas.graph.reuse import read_reused

        return read_reused(self.run_dir) if self.config.reuse_evaluations else []

    def designer_tools(self) -> list[Any]:
        """LangChain tools a tool-calling Designer may use before answering: the hardware
        backend's metrics (a lookup, as PEL-NAS does) and, when accuracy comes from the
        zero-cost predictor, the predictor itself. The table oracle is never exposed."""
        if not getattr(self.llm, "is_llm", False):
            return []
        from langchain_core.tools import StructuredTool

        backend = self.evaluator.backend

        # simulators that train candidates offer their cheap, accuracy-free part separately
        lookup = getattr(backend, "hardware_metrics", backend.evaluate)

        def hardware_metrics(arch: str) -> dict[str, float]:
            """Hardware metrics (latency_ms, energy_mj, ...) of one architecture string."""
            return lookup(self.space.validate(arch))

        tools: list[Any] = [StructuredTool.from_function(hardware_metrics, name="hardware_metrics")]
        source = self.evaluator.accuracy_source
        if self.evaluator.accuracy_name == "zero-cost" and source is not None:
            from agentnas.tools.proxies.tool import make_zero_cost_tool

            tools.append(make_zero_cost_tool(source))
        return tools

    def hardware_lookup(self) -> Callable[[str], dict[str, float]] | None:
        """A cell's hardware metrics before evaluating it, when the backend can tell them
        cheaply (a table, or a simulator's accuracy-free part): the same lookup an LLM
        Designer may call as a tool, used to hold children to the user's constraints.
        None for backends that must measure (the surrogate predicts instead)."""
        backend = self.evaluator.backend
        cheap = getattr(backend, "hardware_metrics", None)
        if cheap is None and backend.metrics and backend.all_values(backend.metrics[0]) is not None:
            cheap = backend.evaluate
        if cheap is None:
            return None
        space = self.space

        def lookup(arch: str) -> dict[str, float]:
            return dict(cheap(space.validate(arch)))

        return lookup

    def partition_of(self, arch: str, partitions: list[dict[str, Any]]) -> int | None:
        """Partition id of an architecture (memoised: features can be costly)."""
        cache = self._membership
        if arch not in cache:
            plan = [Partition.model_validate(p) for p in partitions]
            cache[arch] = partition_of(self.space.features(arch), plan)
        return cache[arch]
