"""The one exception type for problems the user can fix.

Everything under ``agentnas`` raises :class:`UserError` for bad input (unknown device,
malformed cell string, broken table file, …). The CLI turns it into a single line on
stderr and exit status 2; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment, with a message that says what is
    wrong and what is accepted instead."""


class EndpointError(UserError):
    """The LLM endpoint itself keeps failing (unreachable, refusing the key, no such
    model, errors after every retry): the run stops, checkpointed, with exit status 3
    (bad input is 2), and ``--resume`` continues once the endpoint is back."""

    exit_code = 3


class CapReached(UserError):
    """A cap on model use (``--max-llm-calls``, ``--token-budget``, ``--cost-budget``,
    ``--time-budget``) is spent: the run stopped at a round boundary, checkpointed, with
    exit status 4; ``--resume`` with a larger cap continues it. Not an error of the user's
    input, so the CLI says "stopped:" rather than "error:"."""

    exit_code = 4
    prefix = "stopped"
