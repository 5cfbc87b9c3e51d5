"""``python -m agentnas`` and the ``agentnas`` command.

With an API key in the environment the process first restarts itself once with freed
memory scrubbed (:mod:`agentnas.tools.scrubbed_memory`), before the CLI's imports, so
the restart costs one interpreter start."""

from __future__ import annotations

import sys


def main() -> int:
    from agentnas.tools.scrubbed_memory import reexec_scrubbing

    reexec_scrubbing()
    from agentnas.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
