"""The ``agentnas`` command line: one Typer app, one module per command group.

Each module in :mod:`agentnas.commands` exposes ``register(app, bench)`` and adds its
commands (``bench`` is the ``agentnas bench …`` sub-app, so every feature can add its own
benchmark). User-facing problems (:class:`UserError`) become one line and exit status 2.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from agentnas.commands import (
    baseline,
    chat,
    executor_bench,
    front,
    hardware,
    kb,
    optical,
    predictor,
    results,
    run,
    search_bench,
    steer_bench,
    trace,
    upgrade,
    why,
)
from agentnas.commands.examples import add_examples
from agentnas.tools.errors import UserError
from agentnas.tools.scrubbed_memory import reexec_scrubbing

app = typer.Typer(
    name="agentnas",
    help="Multi-agent, LLM-driven, hardware-aware neural architecture search.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
bench_app = typer.Typer(
    help="Benchmarks: print ratios against baselines measured in the same run.",
    no_args_is_help=True,
)
app.add_typer(bench_app, name="bench")

for _module in (
    hardware,
    front,
    baseline,
    run,
    chat,
    kb,
    predictor,
    results,
    optical,
    search_bench,
    steer_bench,
    trace,
    why,
    executor_bench,
    upgrade,
):
    _module.register(app, bench_app)
add_examples(app)

_err = Console(stderr=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status.

    Typer handles usage errors itself (message + exit 2); a UserError raised by a command
    becomes one red line on stderr and exit 2, with no traceback. Run as the command
    (``argv`` None) with an API key in the environment, the process first restarts itself
    once with freed memory scrubbed (:mod:`agentnas.tools.scrubbed_memory`), so no library
    can write stale bytes holding the key into the run's files.
    """
    if argv is None:
        reexec_scrubbing()
    try:
        app(args=argv, prog_name="agentnas")
    except UserError as exc:
        # escaped: a message may hold brackets ("[run]", "[0, 1]") that are not markup
        prefix = getattr(exc, "prefix", "error")  # CapReached: "stopped"
        _err.print(f"[bold red]{prefix}:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return getattr(exc, "exit_code", 2)  # EndpointError: 3, CapReached: 4
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:
        _err.print("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
