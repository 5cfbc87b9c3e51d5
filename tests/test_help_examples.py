"""Every command's ``--help`` ends with a full example command, and that example parses
with the command's own parser (so it names real options)."""

from __future__ import annotations

import shlex

import click
import pytest
import typer.main

from agentnas.cli import app, main
from agentnas.commands.examples import command_paths


def _click_command(path: str) -> click.Command:
    cmd = typer.main.get_command(app)
    for part in path.split():
        cmd = cmd.commands[part]  # type: ignore[attr-defined]
    return cmd


PATHS = [p for p, _ in command_paths(app)]


def test_every_command_is_walked():
    assert {"run", "why", "report", "pick", "export", "runs", "trace", "kb list"} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS)
def test_help_ends_with_an_example_that_parses(path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # one line per example, no folding
    assert main([*path.split(), "--help"]) == 0
    out = capsys.readouterr().out
    assert "Example:" in out, f"`agentnas {path} --help` has no example"
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    assert lines[-1].startswith("Example: agentnas "), lines[-1]  # the last thing printed
    args = shlex.split(lines[-1].removeprefix("Example: "))
    assert args[0] == "agentnas" and " ".join(args[1 : 1 + len(path.split())]) == path
    cmd = _click_command(path)
    cmd.make_context(path, args[1 + len(path.split()) :], resilient_parsing=False)
