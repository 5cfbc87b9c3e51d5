import sys

from agentnas.cli import main

sys.exit(main())
