"""The typed configuration of one search run.

``agentnas/config.py`` builds it from a TOML file plus CLI overrides; the graph only sees
this model (JSON-native, stored in the run folder as ``config.json`` and in the checkpoint,
so ``--resume`` continues with exactly the settings the run started with).
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, Field, field_validator, model_validator

from agentnas.tools.errors import UserError

DEFAULT_SPACE = "nb201"
# where accuracy comes from: the NB201 table (oracle), the NB201 zero-cost predictor, or
# the hardware backend itself (simulators that train candidates report robust_accuracy)
ACCURACY_CHOICES = ("table", "zero-cost", "backend")
# how a run uses the knowledge base (the bench's ablations): "on" reads heuristics and
# the Reflector updates them; "read-only" reads, never updates (no reflection);
# "off" neither reads nor writes a heuristic
KNOWLEDGE_CHOICES = ("on", "read-only", "off")


# the range of each number a user may set (inclusive); checked before anything is written
LIMITS: dict[str, tuple[float, float]] = {
    "rounds": (1, 100_000),
    "budget": (1, 10_000_000),
    "seed": (0, 2**32 - 1),  # numpy's and torch's generators take this range
    "partitions": (1, 64),
    "seed_per_partition": (1, 10_000),
    "max_llm_calls": (0, 10**9),
    "max_concurrency": (1, 256),
    "max_repairs": (0, 100),
    "llm_timeout_s": (0.001, 86_400),
    "token_budget": (0, 10**15),
    "cost_budget": (0, 10**9),
    "time_budget": (0, 10**9),
    "price_in": (0, 10**6),
    "price_out": (0, 10**6),
}

CAP_FIELDS = ("max_llm_calls", "token_budget", "cost_budget", "time_budget")
"""The run-wide limits on model use; the only settings a ``--resume`` may change (raise)."""


def _in_range(cls: Any, v: Any, info: Any) -> Any:
    """Numbers far past any sensible run are refused up front: a huge budget or seed
    once got as far as the checkpoint (64-bit integers only) and left a folder that
    could neither resume nor be reused."""
    low, high = LIMITS[info.field_name]
    if v is not None and v < low:
        raise ValueError(f"must be >= {_num(low)}")
    if v is not None and v > high:
        raise ValueError(f"must be <= {_num(high)}")
    return v


def _positive(cls: Any, v: int) -> int:
    if v < 1:
        raise ValueError("must be >= 1")
    return v


def _one_of(choices: tuple[str, ...]) -> Any:
    def check(cls: Any, v: str) -> str:
        if v not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return v

    return check


class SearchSettings(BaseModel):
    """What is searched and how: the space, the objectives, the budget and the
    search's own shape (partitions, seeds, the KB's part, the ablations)."""

    # a built-in name, an entry point of group agentnas.spaces, or package.module:Class
    space: str = DEFAULT_SPACE
    # None: the space's default (nb201: accuracy,latency; photonic-mlp: accuracy,energy,mzi_count)
    objectives: list[str] | None = None
    rounds: int = 10
    budget: int = 100  # distinct architectures evaluated, seeds included
    seed: int = 0
    partitions: int = 6  # K
    seed_per_partition: int = 2
    dedupe_isomorphic: bool = False
    knowledge: str = "on"  # KNOWLEDGE_CHOICES
    # one Designer per round proposes for every partition (partitions still seed, hold
    # archives and share the budget): the bench's agent-single-designer ablation
    single_designer: bool = False
    # earlier run folders whose measured cells feed the accuracy model (graph/reuse.py):
    # data, not heuristics; off (empty) by default
    reuse_evaluations: list[str] = Field(default_factory=list)

    _search_range = field_validator("rounds", "budget", "seed", "partitions", "seed_per_partition")(
        _in_range
    )
    _search_positive = field_validator("rounds", "budget", "partitions", "seed_per_partition")(
        _positive
    )
    _known_knowledge = field_validator("knowledge")(_one_of(KNOWLEDGE_CHOICES))


class LLMSettings(BaseModel):
    """The agents' model and the run-wide limits on its use (calls, tokens, cost, time,
    repairs), read by :class:`~agentnas.agents.usage.Caps` and the role loop."""

    llm: str = "offline"  # "offline" | "openai:MODEL" | "replay:FILE"
    max_llm_calls: int | None = None
    # run-wide caps (agents.usage.Caps): input+output tokens, USD at the price table, wall
    # seconds; reaching one stops the run at a round boundary (or, with on_llm_failure
    # "fallback", the offline policy goes on)
    token_budget: int | None = None
    cost_budget: float | None = None
    time_budget: float | None = None
    # the price table of the run's model: USD per million input / output tokens
    price_in: float | None = None
    price_out: float | None = None
    max_repairs: int = 2  # the Designer's repairs after an invalid answer
    # any role's repairs, e.g. {"partitioner": 2}; unset roles use DEFAULT_MAX_REPAIRS
    role_repairs: dict[str, int] = Field(default_factory=dict)
    llm_timeout_s: float = 120.0
    # "stop": a dead endpoint stops the run (exit 3); "fallback": the offline policy answers
    on_llm_failure: str = "stop"

    _llm_range = field_validator(
        "max_llm_calls", "max_repairs", "llm_timeout_s", "token_budget", "cost_budget",
        "time_budget", "price_in", "price_out",
    )(_in_range)  # fmt: skip
    _known_failure_mode = field_validator("on_llm_failure")(_one_of(("stop", "fallback")))

    @field_validator("role_repairs")
    @classmethod
    def _known_roles(cls, v: dict[str, int]) -> dict[str, int]:
        from agentnas.agents.role_loop import DEFAULT_MAX_REPAIRS

        for role, n in v.items():
            if role not in DEFAULT_MAX_REPAIRS:
                raise ValueError(f"unknown role {role!r}; roles: {', '.join(DEFAULT_MAX_REPAIRS)}")
            if n < 0:
                raise ValueError(f"repairs of {role} must be >= 0")
        return v

    def repairs(self, role: str) -> int:
        """How many times ``role`` may repair an invalid answer."""
        from agentnas.agents.role_loop import DEFAULT_MAX_REPAIRS

        if role in self.role_repairs:
            return self.role_repairs[role]
        return self.max_repairs if role == "designer" else DEFAULT_MAX_REPAIRS[role]

    @model_validator(mode="after")
    def _cost_needs_prices(self) -> Self:
        if self.cost_budget is not None and self.price_in is None and self.price_out is None:
            raise ValueError(
                "a cost budget needs the model's prices: --price-in and --price-out (USD per "
                "million input / output tokens), or a [prices] table in --config"
            )
        return self


class EvaluationSettings(BaseModel):
    """Where the candidates' metrics come from: the hardware backend, its options, the
    dataset and the source of accuracy (read by :class:`~agentnas.tools.evaluation.Evaluator`)."""

    dataset: str | None = None  # None: the space's default (nb201: cifar10, photonic-mlp: mnist)
    hardware: str = "hwnasbench:fpga"  # unset: the space's default_hardware
    # options for backends that train/simulate candidates, e.g. {"draws": 32, "epochs": 5}
    backend_options: dict[str, Any] = Field(default_factory=dict)
    accuracy: str = "table"  # "table" (oracle) | "zero-cost" | "backend" (physical backends)

    _known_accuracy = field_validator("accuracy")(_one_of(ACCURACY_CHOICES))


class InfrastructureSettings(BaseModel):
    """Where the run keeps its knowledge and how much runs at once."""

    max_concurrency: int = 4
    kb_dir: str | None = None  # None: RUN_DIR/kb

    _infra_range = field_validator("max_concurrency")(_in_range)
    _infra_positive = field_validator("max_concurrency")(_positive)


# the concerns of a run's settings, as ``--config`` tables name them ([search], [llm] …)
SECTIONS: dict[str, type[BaseModel]] = {
    "search": SearchSettings,
    "llm": LLMSettings,
    "evaluation": EvaluationSettings,
    "infrastructure": InfrastructureSettings,
}


def section_of(field: str) -> str | None:
    """The concern (a :data:`SECTIONS` key) a RunConfig field belongs to; None for none."""
    return next((name for name, model in SECTIONS.items() if field in model.model_fields), None)


class RunConfig(InfrastructureSettings, EvaluationSettings, LLMSettings, SearchSettings):
    """One run's settings: each concern is its own model (:data:`SECTIONS`), and a part
    of the code that needs one concern takes that model (a RunConfig is each of them).
    The fields stay flat, so ``config.json``, ``--config`` files and options keep their
    names; the checks across concerns live here."""

    @model_validator(mode="before")
    @classmethod
    def _space_default_hardware(cls, data: Any) -> Any:
        """A space named alone searches on its own kind of hardware (``--space
        photonic-mlp``: the optical simulator, not the NB201 default that cannot score it)."""
        if isinstance(data, dict) and data.get("hardware") is None:
            from agentnas.tools.spaces.registry import get_space

            space = get_space(str(data.get("space") or DEFAULT_SPACE))
            data = {**data, "hardware": space.default_hardware}
        return data

    @model_validator(mode="after")
    def _accuracy_fits_space(self) -> RunConfig:
        from agentnas.tools.spaces.registry import get_space

        if self.accuracy == "zero-cost" and not get_space(self.space).has_accuracy_table:
            raise ValueError(
                f"accuracy 'zero-cost' predicts NAS-Bench-201 accuracy only (spaces with an "
                f"accuracy table); for space '{self.space}' use 'backend' (the hardware "
                "simulator trains each candidate)"
            )
        return self

    @classmethod
    def build(cls, **values: object) -> RunConfig:
        """Construct from user input, turning validation errors into one-line UserErrors."""
        from pydantic import ValidationError

        try:
            return cls(**values)
        except ValidationError as exc:
            raise UserError(describe_error(exc)) from None


def describe_error(exc: Any) -> str:
    """One line for the first problem of a pydantic ValidationError: which setting, what
    is wrong with it, and the value given."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    msg = str(first["msg"]).removeprefix("Value error, ")
    if not where:  # a check across settings
        return f"invalid run settings: {msg}"
    return f"invalid run setting '{where}': {msg} (got {first.get('input')!r})"


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x
