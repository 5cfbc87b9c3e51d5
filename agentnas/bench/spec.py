"""What a bench runs: methods (with their own budget, ``nsga2@500``), devices, budgets,
seeds, checked before anything is written.

Why the checks are strict: a bench is an hour of machine time whose only product is a
table; a typo that silently drops a method or a device is found when the table is read,
long after the time is gone.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentnas.tools.errors import UserError

BASELINES: tuple[str, ...] = ("random", "re", "nsga2")
ABLATIONS: tuple[str, ...] = (
    "agent-no-partition",
    "agent-no-kb",
    "agent-no-reflection",
    "agent-single-designer",
    "agent-warm",
    "agent-reuse",
)
# carried from the other devices' agent runs, so measured against agent, not an ablation
CARRIED: tuple[str, ...] = ("agent-warm", "agent-reuse")
AGENTS: tuple[str, ...] = ("agent", "agent-llm", *ABLATIONS)
METHODS: tuple[str, ...] = (*AGENTS, *BASELINES)

# the agent's settings the ablations are measured against (RunConfig defaults)
AGENT_PARTITIONS = 6
AGENT_SEED_PER_PARTITION = 2
# the first evaluations each method spends before it searches: a budget below this is
# no search at all (agent: seeds of every partition; RE: its population; NSGA-II: one
# population), so it is refused
INITIAL_SAMPLE = {
    **dict.fromkeys(AGENTS, AGENT_PARTITIONS * AGENT_SEED_PER_PARTITION),
    "random": 1,
    "re": 20,
    "nsga2": 16,
}
_DEVICE_SHORTHAND = ("eyeriss", "fpga", "pixel3", "raspi4", "edgegpu", "edgetpu")


@dataclass(frozen=True)
class MethodSpec:
    """One method as typed: ``nsga2`` (every bench budget) or ``nsga2@500`` (that one)."""

    name: str
    budget: int | None = None

    @property
    def label(self) -> str:
        return self.name if self.budget is None else f"{self.name}@{self.budget}"


@dataclass(frozen=True, order=True)
class Job:
    """One run of the bench; its key is the results.csv row it fills."""

    method: str
    device: str
    budget: int
    seed: int

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.method, self.device, self.budget, self.seed)

    def folder(self, out: Path) -> Path:
        return out / "runs" / self.method / slug(self.device) / f"b{self.budget}" / f"s{self.seed}"


@dataclass(frozen=True)
class BenchSpec:
    """Everything a bench needs; stored as ``bench.json`` in the output folder."""

    devices: tuple[str, ...]
    budgets: tuple[int, ...]
    seeds: int
    methods: tuple[MethodSpec, ...]
    out: str
    rounds: int | None = None
    llm: str = "offline"
    dataset: str | None = None
    accuracy: str = "table"
    objectives: tuple[str, ...] | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    executor: str = "local"
    reference_budget: int | None = None  # long NSGA-II run where no exact front exists
    score_only: bool = False  # score the finished runs, start none (a bench stopped early)
    # the search space (a name or package.module:Class); None: each device's own
    # (optical-mzi: photonic-mlp, the rest: nb201)
    space: str | None = None

    def jobs(self) -> list[Job]:
        """Every run, in a stable order (agent first: the ablations that need it come
        after it)."""
        out: list[Job] = []
        for m in self.methods:
            budgets = (m.budget,) if m.budget is not None else self.budgets
            for b in budgets:
                for d in self.devices:
                    for s in range(self.seeds):
                        out.append(Job(m.name, d, int(b), s))
        return list(dict.fromkeys(out))

    def rounds_for(self, budget: int) -> int:
        return self.rounds if self.rounds is not None else max(1, budget // 10)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["methods"] = [m.label for m in self.methods]
        return data


def slug(device: str) -> str:
    """A folder/file name for a device (``table:/a/b.csv`` -> ``table-b``)."""
    prefix, _, member = device.partition(":")
    if prefix == "table":
        member = Path(member).stem
    text = f"{prefix}-{member}" if member else prefix
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def _items(text: str, what: str) -> list[str]:
    items = [t.strip() for t in text.split(",")]
    if not text.strip() or any(not t for t in items):
        raise UserError(f"--{what} is empty or has an empty item: {text!r}; give a comma list")
    return items


def parse_devices(text: str) -> tuple[str, ...]:
    """Backend names; a bare HW-NAS-Bench device (``fpga``) means ``hwnasbench:fpga``."""
    out = []
    for d in _items(text, "devices"):
        out.append(f"hwnasbench:{d}" if ":" not in d and d in _DEVICE_SHORTHAND else d)
    if len(set(out)) != len(out):
        raise UserError(f"--devices names a device twice: {text}")
    return tuple(out)


def parse_budgets(text: str) -> tuple[int, ...]:
    out = []
    for b in _items(text, "budgets"):
        if not b.isdigit() or int(b) < 1:
            raise UserError(f"--budgets: '{b}' is not a positive whole number of evaluations")
        out.append(int(b))
    return tuple(dict.fromkeys(out))


def parse_methods(text: str) -> tuple[MethodSpec, ...]:
    out = []
    for item in _items(text, "methods"):
        name, at, budget = item.partition("@")
        if name not in METHODS:
            raise UserError(f"unknown method '{name}'; available: {', '.join(METHODS)}")
        if at and (not budget.isdigit() or int(budget) < 1):
            raise UserError(f"method '{item}': the budget after @ must be a positive integer")
        out.append(MethodSpec(name, int(budget) if at else None))
    return tuple(dict.fromkeys(out))


def check(spec: BenchSpec) -> None:
    """Refuse a bench that cannot run as asked (one line each, nothing written)."""
    if spec.seeds < 1:
        raise UserError(f"--seeds must be >= 1 (got {spec.seeds})")
    if spec.rounds is not None and spec.rounds < 1:
        raise UserError(f"--rounds must be >= 1 (got {spec.rounds})")
    jobs = spec.jobs()
    for job in jobs:
        need = INITIAL_SAMPLE[job.method]
        if job.budget < need:
            raise UserError(
                f"budget {job.budget} for '{job.method}' is below its initial sample of "
                f"{need} evaluations; give a budget of at least {need}"
            )
    names = {m.name for m in spec.methods}
    if "agent-llm" in names and spec.llm == "offline":
        raise UserError("method 'agent-llm' needs an LLM: give --llm openai:MODEL or replay:FILE")
    for carried in CARRIED:
        if carried in names and len(spec.devices) < 2:
            raise UserError(
                f"method '{carried}' carries knowledge from the other devices: give >= 2"
            )
    agent_budgets = {j.budget for j in jobs if j.method == "agent"}
    for needy in (*CARRIED, "agent-no-partition"):
        for b in sorted({j.budget for j in jobs if j.method == needy}):
            if b not in agent_budgets:
                raise UserError(
                    f"'{needy}@{b}' is measured against agent runs at the same budget: "
                    f"add 'agent' at budget {b} to --methods/--budgets"
                )
