"""``score_zero_cost`` as a LangChain tool for Designer agents.

The tool takes an NB201 cell string and answers with the predicted test accuracy (%) and
the raw values of the predictor's proxies, so a Designer can reason about a candidate
without training it. :func:`make_zero_cost_tool` binds the tool to a given
:class:`~agentnas.tools.proxies.accuracy_source.ZeroCostAccuracy` (dataset, calibration);
the module-level :data:`score_zero_cost` uses a CIFAR-10 default created on first call.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from langchain_core.tools import StructuredTool, ToolException
from pydantic import BaseModel, Field

from agentnas.tools.errors import UserError
from agentnas.tools.proxies.accuracy_source import ZeroCostAccuracy
from agentnas.tools.proxies.predictor import MODEL_PROXIES

TOOL_NAME = "score_zero_cost"
TOOL_DESCRIPTION = (
    "Predict the test accuracy (%) of a NAS-Bench-201 cell without training it, from "
    f"zero-cost proxies ({', '.join(MODEL_PROXIES)}) measured on real CIFAR-10 images and "
    "from the cell's graph (what lies on each input-to-output path). Input: a cell "
    "string like '|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|"
    "nor_conv_3x3~1|nor_conv_1x1~2|'. Returns predicted_accuracy and the raw proxies."
)


class ZeroCostInput(BaseModel):
    cell: str = Field(description="NAS-Bench-201 cell string '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'")


def _score(source: ZeroCostAccuracy, cell: str) -> dict[str, Any]:
    try:
        proxies = source.proxies(cell)
        return {
            "cell": cell,
            "predicted_accuracy": round(source.accuracy(cell), 3),
            "dataset": source.dataset,
            "proxies": {k: float(v) for k, v in proxies.items()},
        }
    except UserError as exc:
        raise ToolException(str(exc)) from None


def make_zero_cost_tool(source: ZeroCostAccuracy | None = None) -> StructuredTool:
    """A ``score_zero_cost`` tool bound to ``source`` (default: CIFAR-10, 150 cells)."""
    bound = source

    def run(cell: str) -> dict[str, Any]:
        return _score(bound if bound is not None else _default_source(), cell)

    return StructuredTool.from_function(
        func=run,
        name=TOOL_NAME,
        description=TOOL_DESCRIPTION,
        args_schema=ZeroCostInput,
        handle_tool_error=True,
    )


@cache
def _default_source() -> ZeroCostAccuracy:
    return ZeroCostAccuracy()


score_zero_cost: StructuredTool = make_zero_cost_tool()
