"""The benchmark's measurements, run in-process on the shipped sample (tiny budgets)."""

from pathlib import Path

import numpy as np
import pytest

from cnnbench import build_model, evaluate, from_arrays, get_recipe, set_seed, train
from cnnbench.bench import (
    ORIGINAL_BEST,
    PEER_RECIPE,
    STUDY_MODELS,
    BenchSettings,
    _small_data_worker,
    _throughput_worker,
    _time_to_accuracy_worker,
    markdown_report,
    peer_convnet,
    run_benchmark,
    small_data_lines,
    small_data_margins,
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
        assert run["peak_rss_mib"] > 0
    # the original's constant learning rate: its first crossing counts
    reached = [p for p in original["trace"] if p["test_accuracy"] >= original["target_accuracy"]]
    assert original["epochs_to_target"] == (reached[0]["epoch"] if reached else None)
    # ours is a one-cycle schedule: only its final model counts, and the whole run's time
    final = ours["trace"][-1]
    if final["test_accuracy"] >= ours["target_accuracy"]:
        assert ours["seconds_to_target"] == final["seconds"]
    else:
        assert ours["seconds_to_target"] is None and ours["epochs_to_target"] is None
    assert original["setup"]["model"] == "custom_v2" and ours["setup"]["model"] == "custom"


def test_markdown_report_states_hardware_and_data(report):
    text = markdown_report(report)
    assert report["environment"]["hardware"] in text
    assert "cnnbench shipped sample" in text
    assert "| ImageDataGenerator.flow (original) |" in text
    assert "mnist: time to 98.2%" in text


def test_small_data_rows_pair_every_model_with_the_peer():
    settings = BenchSettings(
        source="sample",
        small_sizes=(300,),
        small_epochs=(2,),
        small_models=("custom", "custom_v1"),
        small_val_images=200,
        small_test_fraction=0.5,
    )
    rows = _small_data_worker("mnist", settings)
    assert [(r["model"], r["peer"]) for r in rows] == [
        ("custom", False),
        ("custom_v1", False),
        ("mnist_convnet", True),
    ]
    assert {r["train_images"] for r in rows} == {300}
    assert {(r["val_images"], r["test_images"]) for r in rows} == {(200, 500)}
    peer = rows[-1]
    assert peer["recipe"]["optimizer"] == "adam" and peer["recipe"]["batch_size"] == 128
    margins = small_data_margins(rows)
    assert [m["margin"] for m in margins] == pytest.approx(
        [r["test_accuracy"] - peer["test_accuracy"] for r in rows[:2]]
    )
    text = "\n".join(small_data_lines(rows))
    assert "| 300 | 2 |" in text and "mnist_convnet" in text


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["mnist", "cifar10"])
def test_defaults_match_the_peer_on_500_images(dataset):
    """The benchmark's small-data comparison, shrunk for CI: the shipped samples, 500 training
    images, 3 epochs, every model the study trains against keras-io's mnist_convnet.

    Tolerance: 2 points (6 of 300 CIFAR-10 / 10 of 1,000 MNIST test images) for float
    non-determinism between machines. alexnet is the documented exception (docs/performance.md,
    section 6): 24 steps are too few for a 7-layer plain network with dropout under any recipe
    tried, so it is only required to beat chance where the peer is far above it (MNIST).
    """
    settings = BenchSettings(
        source="sample",
        small_sizes=(500,),
        small_epochs=(3,),
        small_val_images=300,
        small_test_fraction=1.0,
    )
    margins = {m["model"]: m for m in small_data_margins(_small_data_worker(dataset, settings))}
    assert set(margins) == set(STUDY_MODELS)
    for name, m in margins.items():
        if name == "alexnet":
            continue
        assert m["margin"] >= -0.02, (name, m)
        assert m["test_accuracy"] > m["chance"] + 0.05, (name, m)
    if dataset == "mnist":
        assert margins["alexnet"]["test_accuracy"] > 0.15


def test_small_data_resumes_from_its_progress_file(tmp_path):
    settings = BenchSettings(
        source="sample",
        small_sizes=(200,),
        small_epochs=(1,),
        small_models=("custom_v1",),
        small_val_images=100,
        small_test_fraction=0.2,
    )
    progress = tmp_path / "progress.jsonl"
    first = _small_data_worker("mnist", settings, progress)
    assert len(progress.read_text().splitlines()) == 2  # custom_v1 and the peer
    again = _small_data_worker("mnist", settings, progress)
    assert again == first  # read back, timings included: nothing retrained
    assert len(progress.read_text().splitlines()) == 2


def test_small_data_size_beyond_the_data_is_refused():
    settings = BenchSettings(source="sample", small_sizes=(6000,), small_val_images=1000)
    with pytest.raises(ConfigError, match="exceeds"):
        _small_data_worker("mnist", settings)


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


def _digit_pairs(x, y, n, seed):
    """Two digits side by side: 28x56 grayscale, 100 classes ("00".."99")."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(x), n), rng.integers(0, len(x), n)
    return np.concatenate([x[a], x[b]], axis=2), y[a] * 10 + y[b]


@pytest.fixture(scope="module")
def odd_datasets(sample_mnist):
    """Shapes and class counts unlike the benchmark's: 100 non-square classes, and 2 classes."""
    m = sample_mnist
    pairs = from_arrays(
        *_digit_pairs(m.x_train, m.y_train, 2000, 0),
        *_digit_pairs(m.x_test, m.y_test, 1000, 1),
        name="digit_pairs",
    )
    train, test = np.isin(m.y_train, (4, 9)), np.isin(m.y_test, (4, 9))
    two = from_arrays(
        m.x_train[train], (m.y_train[train] == 9).astype(int), m.x_test[test],
        (m.y_test[test] == 9).astype(int), class_names=["4", "9"], name="four_or_nine",
    )  # fmt: skip
    return {"digit_pairs": (pairs, 3), "four_or_nine": (two, 3)}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digit_pairs", "four_or_nine"])
@pytest.mark.parametrize("model_name", ["custom", "custom_v2"])
def test_defaults_match_the_peer_on_odd_datasets(odd_datasets, name, model_name):
    """train()'s defaults on 100 classes of 28x56 grayscale (1,800 images) and on 2 classes,
    4 vs 9 (about 950 images), 3 epochs each: at or above keras-io's mnist_convnet with its own
    recipe, same images, epochs and seed (2-point tolerance as above)."""
    ds, epochs = odd_datasets[name]
    accuracy = {}
    for which in (model_name, "peer"):
        set_seed(0)
        if which == "peer":
            model = peer_convnet(ds.input_shape, ds.num_classes)
            train(model, ds, epochs=epochs, recipe=get_recipe("original", **PEER_RECIPE), verbose=0)
        else:
            model = build_model(which, ds.input_shape, ds.num_classes)
            train(model, ds, epochs=epochs, verbose=0)
        accuracy[which] = evaluate(model, ds, timing=False).accuracy
    assert accuracy[model_name] >= accuracy["peer"] - 0.02, accuracy
    assert accuracy[model_name] > 1 / ds.num_classes + 0.1, accuracy


def test_trace_scores_each_epochs_weights_after_training_not_during(monkeypatch):
    # Predicting the test set between epochs slowed the following epochs (docs/performance.md,
    # section 7): the trace only saves weights while training and scores them afterwards.
    import cnnbench.evaluation as evaluation
    from cnnbench.bench import _accuracy_trace
    from cnnbench.data import load_dataset

    ds = load_dataset("mnist", source="sample", sample_fraction=0.1, seed=0)
    set_seed(0)
    model = build_model("custom", ds.input_shape, ds.num_classes)
    predict, calls = evaluation.predict_proba, []
    monkeypatch.setattr(
        evaluation, "predict_proba", lambda *a, **k: calls.append(1) or predict(*a, **k)
    )
    trace = _accuracy_trace(model, ds)
    train(model, ds, epochs=2, seed=0, verbose=0, callbacks=[trace])
    assert calls == []

    def accuracy():
        return float((predict(model, ds.x_test).argmax(1) == ds.y_test).mean())

    final = [w.copy() for w in model.get_weights()]
    final_accuracy = accuracy()
    folder = Path(trace.folder.name)
    model.load_weights(folder / "epoch_1.weights.h5")
    assert any(not np.array_equal(a, b) for a, b in zip(model.get_weights(), final, strict=True))
    first_accuracy = accuracy()
    points = trace.points()
    assert [p["epoch"] for p in points] == [1, 2] and len(calls) == 2
    assert 0 < points[0]["seconds"] < points[1]["seconds"]
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), final, strict=True))
    assert points[0]["test_accuracy"] == first_accuracy
    assert points[1]["test_accuracy"] == final_accuracy
    assert not folder.exists()  # the snapshots are deleted once scored


def test_time_to_accuracy_verdict_says_faster_slower_or_a_bound():
    from cnnbench.bench import _time_to_accuracy_lines

    def run(which, reached, epochs, total):
        setup = {"model": which, "recipe": "r", "augment": False}
        return {
            "which": which, "dataset": "mnist", "setup": setup, "target_accuracy": 0.982,
            "seconds_to_target": reached, "epochs_to_target": epochs,
            "final_test_accuracy": 0.99, "total_seconds": total, "peak_rss_mib": 1.0,
        }  # fmt: skip

    def verdict(ours, original):
        return _time_to_accuracy_lines([ours, original])[-1]

    assert verdict(run("ours", 10, 2, 10), run("original", 40, 4, 60)).endswith(
        "cnnbench is 4.0x faster."
    )
    assert verdict(run("ours", 53, 12, 53), run("original", 22, 3, 43)).endswith(
        "cnnbench is 2.4x slower (its whole 12-epoch default run against the original's "
        "first 3 epochs)."
    )
    assert verdict(run("ours", 88, 12, 88), run("original", None, None, 355)).endswith(
        "the original recipe did not reach it in 355 s: cnnbench is more than 4.0x faster."
    )
    # the second policy's row gets its own verdict against the same original run
    lines = _time_to_accuracy_lines(
        [
            run("ours", 10, 2, 10),
            run("ours_crop_flip_cutout", None, None, 12),
            run("original", 40, 4, 60),
        ]
    )
    assert lines[-2:] == [
        "\nmnist: time to 98.2%: cnnbench is 4.0x faster.",
        "\nmnist: time to 98.2% with augment_policy='crop_flip_cutout': cnnbench did not reach "
        "the target.",
    ]


def test_the_second_policy_runs_only_where_the_bench_augments_with_a_flip():
    from cnnbench.bench import time_to_accuracy_runs

    assert time_to_accuracy_runs("cifar10") == ("ours", "ours_crop_flip_cutout", "original")
    assert time_to_accuracy_runs("mnist") == ("ours", "original")
    settings = BenchSettings(
        datasets=("cifar10",), source="sample", ours_epochs={"cifar10": 1}, sample_fraction=0.2
    )
    run = _time_to_accuracy_worker("ours_crop_flip_cutout", "cifar10", settings)
    assert run["setup"]["augment_policy"] == "crop_flip_cutout" and run["setup"]["augment"]
    assert "augment_policy='crop_flip_cutout'" in run["setup"]["recipe"]
    assert [p["epoch"] for p in run["trace"]] == [1]
