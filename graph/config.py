"""The typed configuration of one search run.

``agentnas/config.py`` builds it from a TOML file plus CLI overrides; the graph only sees
this model (JSON-native, stored in the run folder as ``config.json`` and in the checkpoint,
so ``--resume`` continues with exactly the settings the run started with).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from agentnas.tools.errors import UserError


class RunConfig(BaseModel):
    space: str = "nb201"
    dataset: str | None = None  # None: the space's default (nb201: cifar10, photonic-mlp: mnist)
    hardware: str = "hwnasbench:fpga"
    # None: the space's default (nb201: accuracy,latency; photonic-mlp: accuracy,energy,mzi_count)
    objectives: list[str] | None = None
    # options for backends that train/simulate candidates, e.g. {"draws": 32, "epochs": 5}
    backend_options: dict[str, Any] = Field(default_factory=dict)
    accuracy: str = "table"  # "table" (oracle) | "zero-cost" | "backend" (physical backends)
    llm: str = "offline"  # "offline" | "openai:MODEL" | "replay:FILE"
    rounds: int = 10
    budget: int = 100  # distinct architectures evaluated, seeds included
    seed: int = 0
    partitions: int = 6  # K
    seed_per_partition: int = 2
    max_llm_calls: int | None = None
    max_concurrency: int = 4
    max_repairs: int = 2
    dedupe_isomorphic: bool = False
    kb_dir: str | None = None  # None: RUN_DIR/kb
    llm_timeout_s: float = 120.0

    @field_validator("rounds", "budget", "partitions", "seed_per_partition", "max_concurrency")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be >= 1")
        return v

    @classmethod
    def build(cls, **values: object) -> RunConfig:
        """Construct from user input, turning validation errors into one-line UserErrors."""
        from pydantic import ValidationError

        try:
            return cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "config"
            raise UserError(f"invalid run setting '{where}': {first['msg']}") from None
