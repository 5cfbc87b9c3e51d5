"""Conversational steering: what a user may ask of a running search, as typed commands.

The graph applies these at round boundaries (``steer`` node); the chat CLI and
``RUN_DIR/steer.jsonl`` produce them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SteerAction = Literal[
    "instruct",  # free text shown to every Designer from now on
    "focus",  # give these partitions the round's budget (empty list = all again)
    "add_heuristic",  # store a user heuristic in the knowledge base
    "extend_budget",  # more distinct evaluations
    "extend_rounds",  # more rounds
    "stop",  # finish after this round and write the report
    "continue",  # nothing to change
]


class SteerCommand(BaseModel):
    action: SteerAction
    text: str = ""
    partitions: list[int] = Field(default_factory=list)
    amount: int = Field(default=0, ge=0)
    polarity: Literal["positive", "negative"] = "positive"
