"""The options that start a search are declared once (``commands/run_options.py``): ``run``
and ``chat`` both offer every one of them with the declared help, each sets a real
RunConfig field, and ``--resume`` refuses each of them."""

from __future__ import annotations

import typer.main

from agentnas.cli import app, main
from agentnas.commands.run_options import OPTION, RUN_OPTIONS, run_config
from agentnas.graph.config import CAP_FIELDS, RunConfig


def _options(path: str) -> dict[str, object]:
    cmd = typer.main.get_command(app).commands[path]  # type: ignore[attr-defined]
    return {p.name: p for p in cmd.params}


def test_run_and_chat_offer_every_declared_option_with_its_help():
    run, chat = _options("run"), _options("chat")
    for opt in RUN_OPTIONS:
        assert run[opt.name].help == opt.help == chat[opt.name].help
        assert run[opt.name].opts == chat[opt.name].opts
    assert {"resume", "executor"} <= set(run) and {"resume", "script"} <= set(chat)


def test_each_option_sets_a_runconfig_field():
    fields = {o.field for o in RUN_OPTIONS if o.field}
    assert fields <= set(RunConfig.model_fields)
    options = ["draws=8", "x=0.5", "cache=false", "shifter=mems", "p=inf", 'o={"a": 1}']
    cfg = run_config(
        {"objectives": "accuracy, latency", "kb": None, "backend_option": options,
         "rounds": 3, "budget": 30, "config": None}
    )  # fmt: skip
    assert cfg.objectives == ["accuracy", "latency"]
    assert cfg.backend_options == {
        "draws": 8, "x": 0.5, "cache": False, "shifter": "mems", "p": float("inf"), "o": {"a": 1}
    }  # fmt: skip
    assert (cfg.rounds, cfg.budget) == (3, 30)
    assert OPTION["kb"].config_value(None) is None


def test_resume_refuses_every_run_option_but_the_caps(tmp_path, capsys):
    for opt in RUN_OPTIONS:
        flag = opt.decls[0].split("/")[0] if opt.decls else "--" + opt.name.replace("_", "-")
        value = [] if opt.type is bool else ["1"]
        assert main(["run", "--resume", str(tmp_path), flag, *value]) == 2, flag
        err = capsys.readouterr().err
        if opt.name in CAP_FIELDS:  # a cap may be raised: the refusal is of the folder
            assert "is not a run folder" in err, err
        else:
            assert flag in err and "--resume continues" in err, err
