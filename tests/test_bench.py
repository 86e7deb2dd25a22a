"""The benchmark's measurements, run in-process on the shipped sample (tiny budgets)."""

import pytest

from cnnbench.bench import (
    ORIGINAL_BEST,
    BenchSettings,
    _throughput_worker,
    _time_to_accuracy_worker,
    markdown_report,
    run_benchmark,
)
from cnnbench.errors import ConfigError
from cnnbench.hardware import environment_info

SMOKE = BenchSettings(
    datasets=("mnist",),
    source="sample",
    sample_fraction=0.1,
    throughput_images=128,
    ours_epochs={"mnist": 1},
    original_epochs={"mnist": 2},
)


@pytest.fixture(scope="module")
def report():
    return {
        "environment": environment_info(),
        "settings": {},
        "throughput": _throughput_worker(SMOKE),
        "time_to_accuracy": [
            _time_to_accuracy_worker(which, "mnist", SMOKE) for which in ("ours", "original")
        ],
    }


def test_throughput_measures_every_pipeline(report):
    tp = report["throughput"]
    assert set(tp["augmentation_images_per_s"]) == {
        "ImageDataGenerator.flow (original)",
        "cnnbench tf.data + RandomAffine",
        "tf.data + Keras layer stack",
    }
    assert all(v > 0 for v in tp["augmentation_images_per_s"].values())
    assert len(tp["training_images_per_s"]) == 4
    assert tp["data"]["variant"].startswith("cnnbench shipped sample")


def test_time_to_accuracy_traces_every_epoch(report):
    ours, original = report["time_to_accuracy"]
    assert [p["epoch"] for p in ours["trace"]] == [1]
    assert [p["epoch"] for p in original["trace"]] == [1, 2]
    seconds = [p["seconds"] for p in original["trace"]]
    assert 0 < seconds[0] < seconds[1]
    for run in (ours, original):
        assert run["target_accuracy"] == ORIGINAL_BEST["mnist"]
        reached = [p for p in run["trace"] if p["test_accuracy"] >= run["target_accuracy"]]
        assert run["epochs_to_target"] == (reached[0]["epoch"] if reached else None)
        assert run["peak_rss_mib"] > 0
    assert original["setup"]["model"] == "custom_v2" and ours["setup"]["model"] == "custom"


def test_markdown_report_states_hardware_and_data(report):
    text = markdown_report(report)
    assert report["environment"]["hardware"] in text
    assert "cnnbench shipped sample" in text
    assert "| ImageDataGenerator.flow (original) |" in text
    assert "mnist: time to 98.2%" in text


def test_unknown_bench_dataset_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="bench datasets"):
        run_benchmark(BenchSettings(datasets=("svhn",)), tmp_path)


def test_best_of_interleaves_and_keeps_the_fastest():
    from cnnbench.bench import best_of

    calls = []
    speeds = iter([5, 1, 9, 2, 7, 3])
    result = best_of(
        {
            "a": lambda: calls.append("a") or next(speeds),
            "b": lambda: calls.append("b") or next(speeds),
        }
    )
    assert calls == ["a", "b"] * 3
    assert result == {"a": 9, "b": 3}
