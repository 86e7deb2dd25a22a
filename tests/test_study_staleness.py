"""Stale results never mix in (data checksum, library versions) and the study's progress bar.

Tiny studies as in test_study.py: 1 epoch on a few hundred images, interrupted after an
experiment or two.
"""

import re

import numpy as np
import pytest
import tensorflow as tf
from test_study import TINY, _count_training, _interrupt_after, _run

from cnnbench import runner as study_module
from cnnbench.artifacts import read_json, write_json
from cnnbench.config import get_profile
from cnnbench.runner import run_study
from cnnbench.store import load_study

BAR = re.compile(r"study: \d+/13 experiments")


def _write_mnist(folder, pixel_seed):
    """An MNIST-shaped file: same shapes and labels whatever the seed, other pixels."""
    rng = np.random.default_rng(pixel_seed)
    folder.mkdir()
    np.savez(
        folder / "mnist.npz",
        x_train=rng.integers(0, 256, (600, 28, 28), dtype=np.uint8),
        y_train=np.arange(600) % 10,
        x_test=rng.integers(0, 256, (100, 28, 28), dtype=np.uint8),
        y_test=np.arange(100) % 10,
    )
    return folder


def _run_on(artifacts, data_dir, **kwargs):
    profile = get_profile("demo", **{**TINY, "source": "auto"})
    return run_study(
        profile,
        artifacts=artifacts,
        data_dir=data_dir,
        datasets=("mnist",),
        verbose=0,
        estimate=False,
        **kwargs,
    )


def test_other_data_file_of_same_size_and_variant_is_recomputed(tmp_path, monkeypatch):
    a, b = _write_mnist(tmp_path / "a", 1), _write_mnist(tmp_path / "b", 2)
    assert (a / "mnist.npz").stat().st_size == (b / "mnist.npz").stat().st_size
    calls = _count_training(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        _run_on(tmp_path / "out", a, log=_interrupt_after(2))
    root = tmp_path / "out" / "demo"
    first = root / "mnist" / "variant_custom_v1" / "seed_42" / "result.json"
    before = read_json(first)["config"]["data"]
    assert before["of"] == "file" and calls == ["custom_v1", "custom_v2"]

    messages = []
    with pytest.raises(KeyboardInterrupt):
        _run_on(tmp_path / "out", b, log=_interrupt_after(1, messages))
    assert calls == ["custom_v1", "custom_v2", "custom_v1"]  # retrained on the other file
    assert any(
        "variant_custom_v1: recomputing (config changed: data changed)" in m for m in messages
    )
    after = read_json(first)["config"]["data"]
    assert after["variant"] == before["variant"] and after["sizes"] == before["sizes"]
    assert after["sha256"] != before["sha256"]
    # custom_v2 still holds numbers of file a: a table must not mix it with file b's.
    with pytest.warns(UserWarning, match=r"variant_custom_v2.*another config \(data sha256 differ"):
        partial = load_study(root)
    assert list(partial.results) == ["mnist/variant_custom_v1"]


def test_other_library_versions_warn_and_keep_unless_forced(tmp_path, monkeypatch, capsys):
    calls = _count_training(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, log=_interrupt_after(1))
    first = tmp_path / "demo" / "mnist" / "variant_custom_v1" / "seed_42" / "result.json"
    result = read_json(first)
    assert {"tensorflow", "keras", "numpy"} <= result["environment"].keys()
    result["environment"]["tensorflow"] = "0.0-fake"
    write_json(first, result)
    written = first.stat().st_mtime_ns

    def stop_when_skipped(message):  # the next run starts: the first one was kept
        if ": training " in message:
            raise KeyboardInterrupt

    with (
        pytest.warns(
            UserWarning, match=r"tensorflow 0\.0-fake -> .*results kept; rerun with --force"
        ),
        pytest.raises(KeyboardInterrupt),
    ):
        _run(tmp_path, log=stop_when_skipped)
    assert calls == ["custom_v1"] and first.stat().st_mtime_ns == written

    messages = []
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, force=True, log=_interrupt_after(1, messages))
    assert calls == ["custom_v1", "custom_v1"]
    assert any("recomputing (force)" in m for m in messages)
    assert read_json(first)["environment"]["tensorflow"] == tf.__version__


@pytest.mark.parametrize("verbose", [0, 1])
def test_progress_bar_on_stderr_whatever_keras_verbosity(verbose, tmp_path, capsys):
    messages = []
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, verbose=verbose, log=_interrupt_after(1, messages))
    err = capsys.readouterr().err
    assert "study: 0/13 experiments" in err
    # after one experiment: 6 one-epoch experiments left at the pace measured so far
    assert re.search(r"study: 1/13 experiments .* elapsed, ETA \d+:\d\d", err)
    assert any(m.startswith("[1/13] mnist/variant_custom_v1: done in") for m in messages)


def test_progress_bar_is_silent_when_the_study_is(tmp_path, capsys, monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(study_module, "train", stop)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, verbose=1, log=None)
    assert not BAR.search(capsys.readouterr().err)
