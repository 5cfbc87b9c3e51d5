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


def test_the_settings_are_split_by_concern_and_each_concern_checks_its_own():
    from agentnas.graph.config import LIMITS, SECTIONS, section_of
    from agentnas.tools.errors import UserError

    owned = [f for model in SECTIONS.values() for f in model.model_fields]
    assert sorted(owned) == sorted(RunConfig.model_fields) and len(owned) == len(set(owned))
    assert section_of("budget") == "search" and section_of("token_budget") == "llm"
    assert section_of("hardware") == "evaluation" and section_of("kb_dir") == "infrastructure"
    for name, (_, high) in LIMITS.items():  # every limit is checked by its concern's model
        model = SECTIONS[section_of(name)]
        try:
            model(**{name: high * 10 + 10})
        except ValueError as exc:
            assert name in str(exc)
        else:
            raise AssertionError(f"{name} above {high} was accepted by {model.__name__}")
        try:
            RunConfig.build(**{name: high * 10 + 10})
        except UserError as exc:
            assert f"'{name}'" in str(exc)
        else:
            raise AssertionError(name)


def test_config_files_take_settings_by_concern(tmp_path, capsys):
    from agentnas.config import load_config

    flat = tmp_path / "flat.toml"
    flat.write_text('budget = 30\nllm = "offline"\nmax_llm_calls = 7\nhardware = '
                    '"hwnasbench:eyeriss"\nmax_concurrency = 2\n')  # fmt: skip
    split = tmp_path / "split.toml"
    split.write_text(
        '[search]\nbudget = 30\n[llm]\nllm = "offline"\nmax_llm_calls = 7\n'
        '[evaluation]\nhardware = "hwnasbench:eyeriss"\n[infrastructure]\nmax_concurrency = 2\n'
    )
    assert load_config(split, {}) == load_config(flat, {}) != RunConfig()
    assert load_config(split, {"budget": 40}).budget == 40  # options still win
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[llm]\nbudget = 30\n")
    twice = tmp_path / "twice.toml"
    twice.write_text("budget = 20\n[search]\nbudget = 30\n")
    for path, words in ((wrong, ["[llm]", "budget", "takes: llm"]), (twice, ["'budget'", "twice"])):
        assert main(["run", "--config", str(path), "--out", str(tmp_path / "r")]) == 2
        err = capsys.readouterr().err.strip()
        assert all(w in err for w in words) and len(err.splitlines()) == 1, err
    assert not (tmp_path / "r").exists()


def test_help_lists_the_run_options_by_concern():
    from agentnas.commands.run_options import PANELS
    from agentnas.graph.config import section_of

    for path in ("run", "chat"):
        params = _options(path)
        for opt in RUN_OPTIONS:
            want = PANELS[section_of(opt.field)] if opt.field else None
            assert params[opt.name].rich_help_panel == want, (path, opt.name)
