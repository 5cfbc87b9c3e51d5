"""Run folders and knowledge bases carry a format version: today's load, any other is
refused in one line naming it and ``agentnas upgrade DIR``, which upgrades it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentnas.cli import main
from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run
from agentnas.tools.folder_format import FORMAT_FILE, VERSIONS


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("fmt") / "run"
    start_run(RunConfig(hardware="hwnasbench:fpga", budget=12, rounds=2, partitions=2), run_dir)
    return run_dir


def _mark(folder: Path, version: object) -> None:
    data = json.loads((folder / FORMAT_FILE).read_text())
    (folder / FORMAT_FILE).write_text(json.dumps({**data, "version": version}))


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


def test_new_folders_record_todays_version(finished_run: Path) -> None:
    assert json.loads((finished_run / FORMAT_FILE).read_text()) == {
        "kind": "run",
        "version": VERSIONS["run"],
    }
    assert json.loads((finished_run / "kb" / FORMAT_FILE).read_text())["kind"] == "kb"


def test_todays_folders_load_and_unmarked_ones_too(finished_run: Path, capsys) -> None:
    assert main(["run", "--resume", str(finished_run)]) == 0
    assert main(["kb", "--kb", str(finished_run / "kb"), "list"]) == 0
    marker = (finished_run / FORMAT_FILE).read_text()
    (finished_run / FORMAT_FILE).unlink()  # written before versions were recorded
    try:
        assert main(["run", "--resume", str(finished_run)]) == 0
    finally:
        (finished_run / FORMAT_FILE).write_text(marker)


@pytest.mark.parametrize("version", [0, 99, "x"])
def test_other_versions_are_refused_naming_the_version_and_upgrade(
    finished_run: Path, tmp_path: Path, capsys, version: object
) -> None:
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(finished_run, run)
    _mark(run, version)
    capsys.readouterr()
    assert main(["run", "--resume", str(run)]) == 2
    err = _one_line_error(capsys)
    assert f"format version {version}" in err and f"agentnas upgrade {run}" in err
    code = main(["upgrade", str(run)])
    if version == 0:  # an older version upgrades, then loads
        assert code == 0 and "from format version 0 to 1" in capsys.readouterr().out
        assert main(["run", "--resume", str(run)]) == 0
    else:  # newer or unknown: refused, folder untouched
        assert code == 2 and str(version) in _one_line_error(capsys)
        assert json.loads((run / FORMAT_FILE).read_text())["version"] == version


def test_an_older_knowledge_base_is_refused_then_upgraded(
    finished_run: Path, tmp_path: Path, capsys
) -> None:
    import shutil

    kb = tmp_path / "kb"
    shutil.copytree(finished_run / "kb", kb)
    _mark(kb, 0)
    capsys.readouterr()
    assert main(["kb", "--kb", str(kb), "list"]) == 2
    err = _one_line_error(capsys)
    assert "knowledge base of format version 0" in err and f"agentnas upgrade {kb}" in err
    assert main(["upgrade", str(kb)]) == 0
    assert main(["kb", "--kb", str(kb), "list"]) == 0
    assert main(["upgrade", str(kb)]) == 0 and "nothing to upgrade" in capsys.readouterr().out


def test_upgrade_refuses_what_is_not_an_agentnas_folder(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    assert main(["upgrade", str(tmp_path)]) == 2
    assert "neither a run folder nor a knowledge base" in _one_line_error(capsys)
