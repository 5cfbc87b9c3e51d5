"""One full example command per CLI command, shown as the last line of its ``--help``.

A command module may set its own ``epilog``; these fill the rest. A test runs every
command's ``--help`` and parses each example with the command's own parser, so a new
command without an example, or an example that no longer parses, fails the suite.
"""

from __future__ import annotations

import typer

RUN = "runs/20261204-180000"
CELL = (
    "'|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|'"
)

EXAMPLES: dict[str, str] = {
    "front": "agentnas front --hardware hwnasbench:fpga --objectives accuracy,latency",
    "baseline": "agentnas baseline --method nsga2 --hardware hwnasbench:fpga --seeds 10",
    "run": "agentnas run --hardware hwnasbench:fpga --rounds 10 --budget 100",
    "chat": "agentnas chat --hardware hwnasbench:fpga --rounds 6 --budget 60 --seed 3",
    "steer": f"agentnas steer {RUN} 'keep latency under 3 ms'",
    "bench baselines": "agentnas bench baselines --seeds 5 --dataset cifar10",
    "bench proxies": "agentnas bench proxies --cells 50 --seed 0",
    "bench optical": "agentnas bench optical --preset realistic --draws 8 --epochs 2",
    "bench search": "agentnas bench search --devices fpga,eyeriss --budgets 60 --seeds 2",
    "bench executor": "agentnas bench executor --executors local,processes:2 --cells 8 --runs 4",
    "upgrade": f"agentnas upgrade {RUN}",
    "bench readme": "agentnas bench readme bench-search --readme README.md",
    "hardware list": "agentnas hardware list",
    "hardware eval": f"agentnas hardware eval {CELL} --hardware hwnasbench:fpga",
    "kb list": "agentnas kb list --space nb201 --hardware hwnasbench:fpga",
    "kb show": "agentnas kb show h18e1beb8 --kb runs/kb",
    "kb add": "agentnas kb add 'skip_connect into the output cuts latency' --space nb201 "
    "--hardware hwnasbench:fpga",
    "kb rm": "agentnas kb rm h18e1beb8 --kb runs/kb",
    "kb export": "agentnas kb export --out heuristics.json --kb runs/kb",
    "kb import": "agentnas kb import heuristics.json --kb runs/kb",
    "predictor fit": "agentnas predictor fit --dataset cifar10 --n-calib 200 --out predictor.json",
    "predictor eval": "agentnas predictor eval --dataset cifar10 --n-calib 200 --n-test 500",
    "predictor score": f"agentnas predictor score {CELL} --dataset cifar10",
    "optical eval": "agentnas optical eval 'mlp:h=64-32|act=relu|mesh=clements|k=16|bits=8|nat=1' "
    "--preset realistic --dataset digits",
}


def command_paths(app: typer.Typer, prefix: str = "") -> list[tuple[str, object]]:
    """``(path, CommandInfo)`` of every command, groups walked (``kb list``, …)."""
    out: list[tuple[str, object]] = []
    for info in app.registered_commands:
        name = info.name or info.callback.__name__.strip("_").replace("_", "-")
        out.append((prefix + name, info))
    for group in app.registered_groups:
        out += command_paths(group.typer_instance, f"{prefix}{group.name} ")
    return out


def add_examples(app: typer.Typer) -> None:
    """Give every command without an epilog its example from :data:`EXAMPLES`."""
    for path, info in command_paths(app):
        if not getattr(info, "epilog", None) and path in EXAMPLES:
            info.epilog = f"Example: {EXAMPLES[path]}"  # type: ignore[attr-defined]
