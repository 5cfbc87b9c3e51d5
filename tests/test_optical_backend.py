"""The ``optical-mzi:*`` backend: registry, metrics, on-disk cache, CLI and bad input."""

from __future__ import annotations

import json

import pytest

from agentnas.cli import main
from agentnas.tools.errors import UserError
from agentnas.tools.hardware import optical
from agentnas.tools.hardware.optical import OpticalMZIBackend, hardware_metrics
from agentnas.tools.hardware.registry import get_backend, list_backends
from agentnas.tools.photonic.nonideal import preset
from agentnas.tools.spaces.photonic_mlp import parse

ARCH = "mlp:h=32|act=relu|mesh=clements|k=8|bits=8|nat=0"


def small(preset_name: str, tmp_path, **kw) -> OpticalMZIBackend:
    options = {"dataset": "digits", "draws": 8, "cache_path": tmp_path, **kw}
    return OpticalMZIBackend(preset_name, **options)


def test_registry_knows_every_preset() -> None:
    names = [info.name for info in list_backends()]
    for member in ("ideal", "realistic", "worst-case"):
        assert f"optical-mzi:{member}" in names
        backend = get_backend(f"optical-mzi:{member}")
        assert backend.name == f"optical-mzi:{member}"
        assert backend.spaces == ("photonic-mlp",)
        assert backend.nonideal == preset(member)
    with pytest.raises(UserError, match="available: optical-mzi:ideal, optical-mzi:realistic"):
        get_backend("optical-mzi:noisy")
    with pytest.raises(UserError, match="needs a preset"):
        get_backend("optical-mzi")


def test_evaluate_returns_every_metric_with_consistent_values(tmp_path) -> None:
    backend = small("worst-case", tmp_path)
    m = backend.evaluate(ARCH)
    assert set(m) == set(backend.metrics)
    assert {"robust_accuracy", "energy_mj", "mzi_count", "latency_ms"} <= set(m)
    assert m["clean_accuracy"] > 85.0
    assert m["degradation"] == pytest.approx(m["clean_accuracy"] - m["robust_accuracy"])
    assert m["degradation"] > 0.0 and m["robust_accuracy_std"] > 0.0  # worst case hurts
    parts = sum(m[k] for k in optical.BREAKDOWN_METRICS)
    assert m["energy_mj"] == pytest.approx(parts)
    assert m["energy_mj"] > 0 and m["latency_ms"] > 0
    assert m["mzi_count"] == parse(ARCH).mzi_count(64, 10)
    assert m["macs"] == 64 * 32 + 32 * 10


def test_ideal_backend_loses_nothing(tmp_path) -> None:
    m = small("ideal", tmp_path).evaluate(ARCH)
    assert m["robust_accuracy"] == m["clean_accuracy"]
    assert m["degradation"] == 0.0 and m["robust_accuracy_std"] == 0.0


def test_hardware_metrics_scale_with_the_network() -> None:
    ni = preset("realistic")
    narrow = hardware_metrics(parse(ARCH), 784, 10, ni)
    wide = hardware_metrics(parse(ARCH.replace("h=32", "h=128")), 784, 10, ni)
    for key in ("energy_mj", "mzi_count", "macs", "params"):
        assert wide[key] > narrow[key]
    lossy = hardware_metrics(parse(ARCH), 784, 10, preset("worst-case"))
    assert lossy["energy_laser_mj"] > narrow["energy_laser_mj"]  # 0.99 vs 0.3 dB per MZI
    reck = hardware_metrics(parse(ARCH.replace("clements", "reck")), 784, 10, ni)
    assert reck["latency_ms"] > narrow["latency_ms"]  # depth 2k−3 > k


def test_results_are_cached_on_disk_and_reused(tmp_path, monkeypatch) -> None:
    backend = small("realistic", tmp_path)
    first = backend.evaluate_detail(ARCH)
    assert not first.cached
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    saved = json.loads(files[0].read_text())
    assert saved["key"]["arch"] == ARCH and saved["key"]["draws"] == 8

    def no_training(*args, **kwargs):
        raise AssertionError("a cached architecture was retrained")

    monkeypatch.setattr("agentnas.tools.photonic.training.train", no_training)
    # same architecture, other spelling: the canonical form hits the cache
    shuffled = "mlp:nat=0|bits=8|k=8|mesh=clements|act=relu|h=32"
    second = small("realistic", tmp_path).evaluate_detail(shuffled)
    assert second.cached and second.metrics == first.metrics
    assert second.per_draw == first.per_draw
    # another draw count is another key
    assert small("realistic", tmp_path, draws=4).cache_file(ARCH) != backend.cache_file(ARCH)
    assert small("realistic", tmp_path, seed=1).cache_file(ARCH) != backend.cache_file(ARCH)
    other = small("realistic", tmp_path, overrides={"phase_noise_std": 0.2})
    assert other.cache_file(ARCH) != backend.cache_file(ARCH)


def test_corrupt_cache_files_are_recomputed(tmp_path) -> None:
    backend = small("realistic", tmp_path)
    expected = backend.evaluate(ARCH)
    path = backend.cache_file(ARCH)
    for junk in ("{not json", json.dumps({"key": {}, "metrics": {}, "per_draw": []})):
        path.write_text(junk)
        result = backend.evaluate_detail(ARCH)
        assert not result.cached and result.metrics == expected
        assert json.loads(path.read_text())["metrics"] == expected  # rewritten whole
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp files left


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AGENTNAS_CACHE_DIR", str(tmp_path))
    backend = OpticalMZIBackend("ideal", dataset="digits")
    assert backend.cache_file(ARCH).parent == tmp_path / "optical"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"dataset": "cifar10"}, "unknown dataset 'cifar10'"),
        ({"draws": 0}, "draws must be a positive integer"),
        ({"epochs": -1}, "epochs must be a positive integer"),
        ({"seed": -2}, "seed must be a non-negative integer"),
        ({"overrides": {"phase_noise_std": -0.1}}, "phase_noise_std must be"),
        ({"overrides": {"phase_bits": 0}}, "phase_bits must be"),
        ({"overrides": {"laser_power": 1}}, "unknown non-ideality laser_power"),
    ],
)
def test_bad_options_give_one_line_errors(kwargs, words) -> None:
    with pytest.raises(UserError, match=words) as info:
        OpticalMZIBackend("realistic", **kwargs)
    assert "\n" not in str(info.value)


def test_bad_architecture_is_refused(tmp_path) -> None:
    with pytest.raises(UserError, match="bad photonic-mlp architecture"):
        small("realistic", tmp_path).evaluate("mlp:h=48|act=relu|mesh=clements|k=8|bits=8|nat=0")


def test_cli_eval_prints_accuracy_energy_and_references(tmp_path, capsys) -> None:
    argv = ["optical", "eval", ARCH, "--dataset", "digits", "--draws", "4"]
    assert main([*argv, "--preset", "worst-case", "--set", "phase_noise_std=0.1"]) == 0
    out = capsys.readouterr().out
    for words in ("clean accuracy", "robust accuracy", "degradation", "heaters", "MZI count"):
        assert words in out
    assert "electronic cpu" in out and "electronic gpu" in out
    assert "over 4 draws" in out


def test_cli_bad_input_exits_2(capsys) -> None:
    assert main(["optical", "eval", ARCH, "--preset", "bogus", "--dataset", "digits"]) == 2
    assert "unknown optical-mzi preset 'bogus'" in capsys.readouterr().err
    assert main(["optical", "eval", ARCH, "--set", "phase_noise_std"]) == 2
    assert "--set takes KEY=VALUE" in capsys.readouterr().err


def test_bench_command_reports_ratios(capsys) -> None:
    assert main(["bench", "optical", "--draws", "2", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert "simulator overhead" in out and "robust evaluation" in out
    assert "×" in out


def test_a_network_trained_without_noise_is_scored_under_every_preset(
    tmp_path, monkeypatch
) -> None:
    small("realistic", tmp_path).evaluate(ARCH)

    def no_training(*args, **kwargs):
        raise RuntimeError("retrained")

    monkeypatch.setattr("agentnas.tools.photonic.training.train", no_training)
    worst = small("worst-case", tmp_path).evaluate(ARCH)  # nat=0: same weights, no training
    assert worst["robust_accuracy"] < worst["clean_accuracy"]
    with pytest.raises(RuntimeError, match="retrained"):  # nat=1 trains under each preset
        small("worst-case", tmp_path).evaluate(ARCH.replace("nat=0", "nat=1"))


def test_a_phase_bits_override_is_refused_not_silently_ignored(tmp_path) -> None:
    """The architecture's ``bits`` sets the phase-shifter resolution whenever the preset
    quantizes (tools/photonic/training.hardware_nonideal), so ``--set phase_bits=6`` could
    only be ignored; it is refused with the way to get what was meant."""
    with pytest.raises(UserError, match=r"bits=.*architecture.*phase_bits=none"):
        small("realistic", tmp_path, overrides={"phase_bits": 6})
    # switching quantization off is honoured (the architecture's bits then play no part)
    off = small("realistic", tmp_path, overrides={"phase_bits": None})
    assert off.nonideal.phase_bits is None
