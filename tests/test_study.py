"""The study runner: resume, atomic artifacts, validation-only choices, computed summary.

Every run uses a tiny configuration of the shipped MNIST sample (300 train / 120 val / 200 test
images, 1 epoch, batch 32), so a whole study of 9 experiments takes a few seconds per experiment.
"""

import copy
import dataclasses
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from cnnbench import runner as study_module
from cnnbench.artifacts import read_json
from cnnbench.config import PROFILES, Epochs, Profile, get_profile
from cnnbench.discussion import header, limitations_markdown, summary_markdown
from cnnbench.errors import ConfigError
from cnnbench.plan import VARIANTS, get_study, label
from cnnbench.report import write_report
from cnnbench.runner import resolve_profile, run_study
from cnnbench.stats import paired_test, summarize
from cnnbench.store import load_study
from cnnbench.tables import (
    augmentation_table,
    comparison_table,
    interaction_table,
    paired_tests_table,
    per_class_table,
    runs_frame,
    targeted_table,
    training_table,
    variant_table,
)

TINY = {
    "sample_fraction": 0.05,
    "val_fraction": 0.02,
    "test_fraction": 0.2,
    "epochs": 1,
    "batch_size": 32,
}
TIMING_COLUMNS = ["train time (s)", "s/epoch", "latency (ms)"]


# The original grid with its targeted cells on MNIST too, so the MNIST-only runs below have them
ORIGINAL_TARGETED = dataclasses.replace(get_study("original"), targeted=True)


def _run(artifacts, **kwargs):
    kwargs = {
        "study": ORIGINAL_TARGETED,
        "datasets": ("mnist",),
        "verbose": 0,
        "log": None,
        "estimate": False,
        **kwargs,
    }
    return run_study(get_profile("demo", **TINY), artifacts=artifacts, **kwargs)


def _interrupt_after(n, messages=None):
    """A log hook that stops the study (as Ctrl-C would) once ``n`` experiments are written.

    Every message is appended to ``messages`` when given.
    """
    finished = []

    def log(message):
        if messages is not None:
            messages.append(message)
        if ": done in" in message:
            finished.append(message)
            if len(finished) == n:
                raise KeyboardInterrupt

    return log


def _count_training(monkeypatch):
    """Record the model name of every train() call the study makes."""
    calls = []
    real_train = study_module.train

    def counting_train(model, *args, **kwargs):
        calls.append(model.name)
        return real_train(model, *args, **kwargs)

    monkeypatch.setattr(study_module, "train", counting_train)
    return calls


def _same_numbers(a: pd.DataFrame, b: pd.DataFrame):
    """Equal tables, apart from wall-clock timings."""
    pd.testing.assert_frame_equal(a.drop(columns=TIMING_COLUMNS), b.drop(columns=TIMING_COLUMNS))


@pytest.fixture(scope="module")
def one_go(tmp_path_factory):
    """A tiny study run from start to end without interruption."""
    return _run(tmp_path_factory.mktemp("one_go"))


def _copy_study(study, tmp_path):
    shutil.copytree(study.path, tmp_path / "demo")
    return tmp_path / "demo"


# ---------------------------------------------------------------------------------------------
# What a finished study holds
# ---------------------------------------------------------------------------------------------


def test_study_runs_every_experiment_and_writes_complete_artifacts(one_go):
    assert one_go.missing() == []
    assert list(one_go.results) == one_go.expected_keys()
    chosen, best = one_go.selected_variant(), one_go.model_of(one_go.best_key("mnist", True))
    assert one_go.expected_keys() == [
        "mnist/variant_custom_v1",
        "mnist/variant_custom_v2",
        "mnist/variant_custom_v3",
        f"mnist/{chosen}",
        f"mnist/{chosen}+aug",
        "mnist/alexnet",
        "mnist/alexnet+aug",
        "mnist/custom",
        "mnist/custom+aug",
        "mnist/mobilenet",
        "mnist/mobilenet+aug",
        f"mnist/{best}+aug+oversample",
        f"mnist/{best}+aug+loss_weight",
    ]
    folder = one_go.path / "mnist" / "alexnet" / "seed_42"
    result = read_json(folder / "result.json")
    assert result["dataset"]["source"] == "sample"
    assert result["dataset"]["variant"].startswith("cnnbench shipped sample")
    assert result["config"]["epochs"] == 1 and result["seed"] == 42
    assert result["profile"]["name"] == "demo"
    assert {"hardware", "tensorflow", "keras", "numpy"} <= set(result["environment"])
    assert result["peak_rss_mib"] > 0 and result["timings"]["total_s"] > 0
    assert result["test"]["split"] == "test" and result["val"]["split"] == "val"
    cm = pd.read_csv(folder / "confusion_matrix.csv", index_col=0)
    assert cm.to_numpy().sum() == result["dataset"]["sizes"]["test"]
    assert (folder / "model.keras").is_file()
    assert one_go.results["mnist/custom+aug"]["config"]["augment"] is True
    assert one_go.results["mnist/custom"]["config"]["augment"] is False


def test_each_experiment_is_reproducible_whatever_ran_before(one_go):
    # The chosen variant is trained again among the compared cells with the same epochs and
    # seed (this profile gives both budgets 1 epoch), after other models: seeding before each
    # build makes it the same model.
    chosen = one_go.selected_variant()
    selection = one_go.results[f"mnist/variant_{chosen}"]
    again = one_go.results[f"mnist/{chosen}"]
    assert again["test"]["confusion_matrix"] == selection["test"]["confusion_matrix"]
    assert again["train"]["history"] == selection["train"]["history"]


def test_model_and_history_reload_from_artifacts(one_go):
    history = one_go.history("mnist/custom")
    assert list(history.columns) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert list(history.index) == [1]
    model = one_go.load_model("mnist/custom")
    table = comparison_table(one_go).set_index("model")
    assert model.count_params() == table.loc["custom", "params"]
    with pytest.raises(ConfigError, match="has not finished"):
        one_go.history("mnist/nothing")


def test_loaded_study_equals_the_returned_one(one_go):
    loaded = load_study(one_go.path)
    assert loaded.results == one_go.results
    assert loaded.profile == one_go.profile and loaded.datasets == ("mnist",)
    pd.testing.assert_frame_equal(comparison_table(loaded), comparison_table(one_go))


# ---------------------------------------------------------------------------------------------
# Resume, force, config changes, crashes
# ---------------------------------------------------------------------------------------------


def test_interrupted_study_resumes_without_recomputing(tmp_path, one_go, monkeypatch):
    calls = _count_training(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, log=_interrupt_after(1))
    first = tmp_path / "demo" / "mnist" / "variant_custom_v1" / "seed_42" / "result.json"
    n = len(one_go.expected_keys())
    assert first.is_file() and calls == ["custom_v1"]
    partial = load_study(tmp_path / "demo")
    assert partial.missing()[:3] == [
        "mnist/variant_custom_v2",
        "mnist/variant_custom_v3",
        "mnist/chosen_variant",
    ]
    assert len(partial.missing()) == n - 1
    summary = summary_markdown(partial)
    assert f"_Incomplete: {n - 1} of {n} experiments not finished" in summary
    assert "No findings yet" in summary and "# Findings" not in summary
    assert len(comparison_table(partial)) == 0 and len(variant_table(partial)) == 1
    assert (write_report(partial)["comparison.md"]).is_file()  # a partial report works too
    written = first.stat().st_mtime_ns

    messages = []
    resumed = _run(tmp_path, log=messages.append)
    assert first.stat().st_mtime_ns == written
    assert len(calls) == n  # 1 before the interruption + the rest
    assert f"{n} seed runs, {n - 1} trained in " in messages[-1]
    assert messages[-1].endswith(", 1 finished earlier and kept")
    assert not any("variant_custom_v1: training" in m for m in messages)
    _same_numbers(comparison_table(resumed), comparison_table(one_go))
    _same_numbers(variant_table(resumed), variant_table(one_go))


def test_force_recomputes_finished_experiments(tmp_path, one_go, monkeypatch):
    root = _copy_study(one_go, tmp_path)
    first = root / "mnist" / "variant_custom_v1" / "seed_42" / "result.json"
    written = first.stat().st_mtime_ns
    calls = _count_training(monkeypatch)
    messages = []
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, force=True, log=_interrupt_after(1, messages))
    assert calls == ["custom_v1"]
    assert first.stat().st_mtime_ns != written
    assert any("recomputing (force)" in m for m in messages)


def test_changed_config_is_recomputed_and_said(tmp_path, one_go, monkeypatch):
    root = _copy_study(one_go, tmp_path)
    calls = _count_training(monkeypatch)
    messages = []
    with pytest.raises(KeyboardInterrupt):
        run_study(
            get_profile("demo", **{**TINY, "epochs": 2}),
            study=ORIGINAL_TARGETED,
            artifacts=tmp_path,
            datasets=("mnist",),
            verbose=0,
            estimate=False,
            log=_interrupt_after(1, messages),
        )
    assert calls == ["custom_v1"]
    assert any("config changed: epochs 1 -> 2" in m for m in messages)
    # The results of the old config no longer belong to the study.
    with pytest.warns(UserWarning, match=r"another config \(epochs, recipe_epochs differ"):
        partial = load_study(root)
    assert list(partial.results) == ["mnist/variant_custom_v1"]


def test_edited_model_builder_counts_as_a_config_change(tmp_path, one_go, monkeypatch):
    _copy_study(one_go, tmp_path)
    real_build = study_module.build_model

    def edited_build(name, *args, **kwargs):
        return (
            real_build(name, *args, dropout=0.5) if name == "custom_v1" else real_build(name, *args)
        )

    monkeypatch.setattr(study_module, "build_model", edited_build)
    calls = _count_training(monkeypatch)
    messages = []
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, log=_interrupt_after(1, messages))
    assert calls == ["custom_v1"]
    assert any(
        "variant_custom_v1: recomputing (config changed: architecture" in m for m in messages
    )


def test_crash_while_writing_leaves_no_partial_result(tmp_path, monkeypatch):
    real_replace = os.replace

    def crash_on_result(src, dst, *args, **kwargs):
        if Path(dst).name == "result.json":
            raise OSError("simulated crash")
        return real_replace(src, dst, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", crash_on_result)
        with pytest.raises(OSError, match="simulated crash"):
            _run(tmp_path)
    folder = tmp_path / "demo" / "mnist" / "variant_custom_v1" / "seed_42"
    assert (folder / "model.keras").is_file()  # written before the crash
    assert not (folder / "result.json").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["confusion_matrix.csv", "model.keras"]

    # A process killed mid-write would also leave a temporary file: the rerun clears it.
    (folder / ".result.json.killed.tmp").write_text('{"config": ')
    calls = _count_training(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, log=_interrupt_after(1))
    assert calls == ["custom_v1"]
    assert read_json(folder / "result.json")["config"]["model"] == "custom_v1"
    assert not list(folder.glob(".*"))


# ---------------------------------------------------------------------------------------------
# Choices are made on validation, never test
# ---------------------------------------------------------------------------------------------


def test_variant_is_the_argmax_of_validation_accuracy(one_go):
    table = variant_table(one_go)
    assert table.loc[table["val acc (%)"].idxmax(), "model"] == one_go.selected_variant()
    assert table["chosen"].sum() == 1
    assert f"mnist/{one_go.selected_variant()}" in one_go.results


def test_choices_follow_validation_when_test_disagrees(one_go):
    study = copy.deepcopy(one_go)
    # custom_v3 best on validation but worst on test; same for alexnet among compared models
    for model, (val, test) in zip(VARIANTS, [(0.5, 0.9), (0.6, 0.8), (0.7, 0.1)], strict=True):
        result = study.results[f"mnist/variant_{model}"]
        result["val"]["accuracy"], result["test"]["accuracy"] = val, test
    assert study.selected_variant() == "custom_v3"
    for key in study.compared_keys("mnist"):
        result = study.results.setdefault(key, copy.deepcopy(study.results["mnist/custom"]))
        study.runs[key] = {42: result}
        result["val"]["accuracy"], result["test"]["accuracy"] = 0.4, 0.95
    for name, (val, test) in {"alexnet": (0.7, 0.1), "custom+aug": (0.6, 0.8)}.items():
        result = study.results[f"mnist/{name}"]
        result["val"]["accuracy"], result["test"]["accuracy"] = val, test
    assert study.best_key("mnist") == "mnist/alexnet"
    assert study.best_key("mnist", augment=True) == "mnist/custom+aug"

    # weakest classes come from the validation report of that model
    report = study.results["mnist/alexnet"]
    for name in report["val"]["class_names"]:
        report["val"]["report"][name]["f1-score"] = 0.9
        report["test"]["report"][name]["f1-score"] = 0.9
    report["val"]["report"]["7"]["f1-score"] = 0.2
    report["test"]["report"]["3"]["f1-score"] = 0.0
    assert list(study.weakest_classes("mnist/alexnet", k=1).index) == ["7"]


def test_variants_are_chosen_on_cifar10_when_it_is_in_the_study(one_go):
    study = copy.deepcopy(one_go)
    study.datasets = ("mnist", "cifar10")
    assert study.selection_dataset == "cifar10"
    assert study.expected_keys()[:3] == [f"cifar10/variant_{v}" for v in VARIANTS]
    study.results = {}  # nothing finished on cifar10: the choice is not made yet
    assert study.expected_keys()[3:5] == ["mnist/chosen_variant", "cifar10/chosen_variant"]


# ---------------------------------------------------------------------------------------------
# Summary and per-class tables
# ---------------------------------------------------------------------------------------------


def test_summary_states_numbers_computed_from_the_results(one_go):
    text = summary_markdown(one_go)
    best = one_go.best_key("mnist")
    val, test = one_go.accuracies(best, "val")[0], one_go.accuracies(best, "test")[0]
    assert f"**{label(best)}** has the best validation accuracy ({100 * val:.2f}%)" in text
    assert f"reaches {100 * test:.2f}% on test" in text
    for model, plain, augmented in one_go.augmentation_pairs("mnist"):
        effect = 100 * (one_go.accuracies(augmented, "test") - one_go.accuracies(plain, "test"))
        assert f"{model} {effect[0]:+.2f} (one seed: untested)" in text
    assert "**Overfitting**" in text and "**Interaction** (the paired difference" in text
    assert "for custom augmentation changed test accuracy by" in text
    for name in one_go.weakest_classes(best).index:
        assert f"{name} (F1 " in text
    assert "With one seed no difference is tested" in text
    assert header(one_go) in text
    assert "not results on the full datasets" in text  # the shipped sample says so
    assert not re.search(r"\bp\s*[=<>]", text)  # p values live in the tests table only
    for placeholder in ("TODO", "TBD", "XX", "{", "}", "nan", "None", "inf"):
        assert placeholder not in text

    changed = copy.deepcopy(one_go)
    changed.results[best]["test"]["accuracy"] = 0.987654
    assert "98.77%" in summary_markdown(changed)


def test_per_class_table_compares_f1_before_and_after_augmentation(one_go):
    table = per_class_table(one_go, "mnist")
    assert list(table.index) == [str(d) for d in range(10)]
    assert list(table.columns) == [
        "val F1 + aug",
        "test F1",
        "test F1 + aug",
        "change",
        "test F1 oversample",
        "test F1 loss weight",
    ]
    best = one_go.best_key("mnist", augment=True)
    before = one_go.results[f"mnist/{one_go.model_of(best)}"]["test"]["report"]
    after = one_go.results[best]["test"]["report"]
    assert table.loc["4", "test F1"] == before["4"]["f1-score"]
    assert table.loc["4", "test F1 + aug"] == after["4"]["f1-score"]
    np.testing.assert_allclose(table["change"], table["test F1 + aug"] - table["test F1"])
    weakest = one_go.weakest_classes(best, k=4)
    assert len(weakest) == 4 and weakest.is_monotonic_increasing
    assert weakest.iloc[-1] <= table["val F1 + aug"].drop(weakest.index).min()


# ---------------------------------------------------------------------------------------------
# Seeds: every experiment trained with seed, seed + 1, ...; means, spreads, paired comparisons
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_seeds(tmp_path_factory):
    """The tiny study trained with 2 seeds (42 and 43)."""
    return _run(tmp_path_factory.mktemp("two_seeds"), seeds=2)


def test_every_experiment_runs_per_seed_on_the_same_data(two_seeds):
    assert two_seeds.missing() == [] and two_seeds.seed_list == [42, 43]
    for key in two_seeds.expected_keys():
        runs = two_seeds.seed_results(key)
        assert [r["seed"] for r in runs] == [42, 43] and {r["data_seed"] for r in runs} == {42}
        assert len({r["config"]["data"]["sha256"] for r in runs}) == 1  # the same data sample
        for seed in (42, 43):
            assert (two_seeds.run_folder(key, seed) / "result.json").is_file()
    custom = two_seeds.seed_results("mnist/custom")
    assert custom[0]["train"]["history"] != custom[1]["train"]["history"]  # other seeds train
    assert "seeds 42-43 (2)" in header(two_seeds)
    loaded = load_study(two_seeds.path)
    assert loaded.seeds == 2 and loaded.runs == two_seeds.runs
    pd.testing.assert_frame_equal(comparison_table(loaded), comparison_table(two_seeds))


def test_tables_hold_the_mean_spread_and_interval_of_the_seeds(two_seeds):
    runs = runs_frame(two_seeds)
    assert len(runs) == 2 * len(two_seeds.expected_keys())
    table = comparison_table(two_seeds)
    assert (table["seeds"] == 2).all()
    assert len(table) == 8  # 4 models x 2 conditions; the targeted runs have their own table
    for _, row in table.iterrows():
        name = row["model"].replace(" + ", "+")
        assert row["augmented"] == name.endswith("+aug")
        per_seed = runs[runs["experiment"] == f"mnist/{name}"]
        for column in ("val acc (%)", "test acc (%)"):
            values = per_seed[column].to_numpy()
            assert row[column] == pytest.approx(values.mean())
            stem = column.removesuffix(" (%)")
            assert row[f"{stem} std (pp)"] == pytest.approx(values.std(ddof=1))
            summary = summarize(values)
            assert row[f"{stem} 95% CI low (%)"] == pytest.approx(summary.low)
            assert row[f"{stem} 95% CI high (%)"] == pytest.approx(summary.high)
        recipes = {r["train"]["config"]["recipe"]["name"] for r in two_seeds.seed_results(
            f"mnist/{name}")}  # fmt: skip
        assert row["recipe"].split(",")[0] in recipes and "batch 32" in row["recipe"]


def test_one_seed_has_no_spread_in_the_tables(one_go):
    from cnnbench.report import markdown_table

    table = comparison_table(one_go)
    assert (table["seeds"] == 1).all()
    spread = [c for c in table.columns if "std" in c or "CI" in c]
    assert len(spread) == 6 and table[spread].isna().all().all()  # not a 0.00 std
    row = markdown_table(table).splitlines()[2].split(" | ")
    assert row[table.columns.get_loc("test acc std (pp)")] == "–"
    assert targeted_table(one_go)["test acc std (pp)"].isna().all()


def test_choices_use_the_mean_validation_accuracy_over_seeds(two_seeds):
    study = copy.deepcopy(two_seeds)
    # custom_v1 has the best single seed, custom_v2 the best mean
    accuracies = {"custom_v1": (0.99, 0.1), "custom_v2": (0.6, 0.6), "custom_v3": (0.5, 0.5)}
    for model, values in accuracies.items():
        for seed, value in zip((42, 43), values, strict=True):
            study.runs[f"mnist/variant_{model}"][seed]["val"]["accuracy"] = value
    assert study.selected_variant() == "custom_v2"
    table = variant_table(study)
    assert table.loc[table["chosen"], "model"].item() == "custom_v2"
    for key in study.compared_keys("mnist"):
        for seed in (42, 43):
            study.runs[key][seed]["val"]["accuracy"] = 0.3
    for name, values in {
        "alexnet": (0.9, 0.2),
        "custom": (0.6, 0.6),  # best mean; alexnet has the best seed
    }.items():
        for seed, value in zip((42, 43), values, strict=True):
            study.runs[f"mnist/{name}"][seed]["val"]["accuracy"] = value
    assert study.best_key("mnist") == "mnist/custom"


def test_every_model_pairs_with_its_augmented_run_at_an_equal_budget(two_seeds):
    pairs = two_seeds.augmentation_pairs("mnist")
    assert [model for model, _, _ in pairs] == [
        two_seeds.selected_variant(),
        "alexnet",
        "custom",
        "mobilenet",
    ]
    for _, plain_key, augmented_key in pairs:
        plain_runs = two_seeds.seed_results(plain_key)
        augmented_runs = two_seeds.seed_results(augmented_key)
        for plain, augmented in zip(plain_runs, augmented_runs, strict=True):
            assert plain["seed"] == augmented["seed"]
            assert plain["config"]["model"] == augmented["config"]["model"]
            assert plain["config"]["epochs"] == augmented["config"]["epochs"]
            assert plain["train"]["epochs_run"] == augmented["train"]["epochs_run"]
            assert plain["train"]["config"]["recipe"] == augmented["train"]["config"]["recipe"]
            assert augmented["config"]["augment"] and not plain["config"]["augment"]
    table = augmentation_table(two_seeds)
    row = table[table["model"] == "custom"].iloc[0]
    test = paired_test(
        two_seeds.accuracies("mnist/custom+aug", "test"),
        two_seeds.accuracies("mnist/custom", "test"),
    )
    assert row["effect (pp)"] == pytest.approx(100 * test.mean_difference)
    assert row["p exact"] == pytest.approx(test.p_exact)
    text = summary_markdown(two_seeds)
    assert f"custom {row['effect (pp)']:+.2f} (not significant" in text  # 2 seeds: never
    agree = "; every seed agrees" if row["p exact"] == pytest.approx(0.5) else ""
    assert f"custom {row['effect (pp)']:+.2f} (not significant{agree})" in text
    assert "with 2 seeds no difference can, however large (that needs 6 seeds)" in text
    tests = paired_tests_table(two_seeds)
    assert "custom + aug vs custom" in set(tests["comparison"])


def test_interaction_is_the_paired_difference_of_augmentation_effects(two_seeds):
    table = interaction_table(two_seeds)
    assert list(table["comparison"]) == [
        f"custom vs {two_seeds.selected_variant()}",
        "custom vs alexnet",
        "custom vs mobilenet",
    ]
    row = table[table["comparison"] == "custom vs alexnet"].iloc[0]

    def acc(name):
        return 100 * two_seeds.accuracies(f"mnist/{name}", "test")

    by_hand = (acc("custom+aug") - acc("custom")) - (acc("alexnet+aug") - acc("alexnet"))
    assert row["difference (pp)"] == pytest.approx(by_hand.mean())
    assert row["effect on second (pp)"] == pytest.approx(
        (acc("alexnet+aug") - acc("alexnet")).mean()
    )


def test_targeted_runs_boost_the_best_augmented_models_weakest_classes(two_seeds):
    best = two_seeds.best_key("mnist", augment=True)
    weakest = list(two_seeds.weakest_classes(best, 3).index)  # lowest mean validation F1
    assert two_seeds.targeted_classes("mnist") == weakest
    uniform = two_seeds.seed_results(best)
    names = uniform[0]["val"]["class_names"]
    for method in ("oversample", "loss_weight"):
        targeted = two_seeds.seed_results(f"{best}+{method}")
        for base, run in zip(uniform, targeted, strict=True):
            assert run["seed"] == base["seed"]
            for field in ("model", "epochs", "batch_size", "recipe", "augmentation"):
                assert run["config"][field] == base["config"][field]
            assert run["train"]["config"]["recipe"] == base["train"]["config"]["recipe"]
            assert run["train"]["epochs_run"] == base["train"]["epochs_run"]
            assert run["config"]["class_boost"] == {
                "classes": weakest,
                "factor": 2.0,
                "method": method,
            }
            labels = [names.index(c) for c in weakest]
            assert run["train"]["config"]["class_boost"]["classes"] == labels
    table = targeted_table(two_seeds)
    model = two_seeds.model_of(best)
    assert list(table["model"]) == [
        model,
        f"{model} + aug",
        f"{model} + aug + oversample",
        f"{model} + aug + loss weight",
    ]
    row = table.iloc[2]
    runs = two_seeds.seed_results(f"{best}+oversample")
    f1 = np.mean([r["test"]["report"][c]["f1-score"] for r in runs for c in weakest])
    assert row["boosted F1"] == pytest.approx(f1)
    test = paired_test(
        two_seeds.accuracies(f"{best}+oversample", "test"), two_seeds.accuracies(best, "test")
    )
    assert row["vs uniform (pp)"] == pytest.approx(100 * test.mean_difference)
    assert row["p exact"] == pytest.approx(test.p_exact)
    assert pd.isna(table.iloc[1]["vs uniform (pp)"])  # uniform is the reference
    text = summary_markdown(two_seeds)
    assert f"**Targeted augmentation** of {model} + aug's weakest validation classes" in text
    assert f"oversample {row['vs uniform (pp)']:+.2f} points (not significant" in text


def test_the_discussion_opens_with_plain_findings_computed_from_the_results(two_seeds):
    text = summary_markdown(two_seeds)
    findings = text.split("### Findings\n\n")[1].split("\n\n")[0].splitlines()
    assert [line.split("**")[1] for line in findings] == [
        "Which model wins",
        "Augmentation",
        "Does augmentation help the lean model more",
        "Overfitting",
        "Where it fails",
    ]
    assert text.index("### Findings") < text.index("### In detail")
    best = two_seeds.best_key("mnist")
    test = 100 * two_seeds.accuracies(best, "test").mean()
    assert f"on MNIST, **{label(best)}** ({test:.2f}% test)" in findings[0]
    effects = augmentation_table(two_seeds)["effect (pp)"]
    assert f"({effects.min():+.2f} to {effects.max():+.2f} points; none significant" in findings[1]
    row = interaction_table(two_seeds).set_index("comparison").loc["custom vs alexnet"]
    side = "better" if row["difference (pp)"] >= 0 else "worse"
    assert (
        f"did {abs(row['difference (pp)']):.2f} points {side} for custom than for alexnet"
        in (findings[2])
    )
    cm = two_seeds.confusion_matrix(best).to_numpy()
    assert f"of its {int(cm.sum() - np.trace(cm)):,} test errors over the seeds" in findings[4]
    for line in findings:
        assert not re.search(
            r"\bp\s*[=<>]|p value", line
        )  # verdicts only: p values live in the table


def test_the_overfitting_finding_says_when_no_model_overfits_yet():
    from cnnbench.discussion import _overfitting_finding

    gaps = pd.DataFrame(
        {
            "dataset": ["CIFAR-10", "CIFAR-10", "MNIST"],
            "model": ["custom", "alexnet", "custom"],
            "train-val gap (pp)": [9.8, -3.0, -6.8],
            "train-val gap + aug (pp)": [-0.5, -4.0, -9.4],
        }
    )
    text = _overfitting_finding(gaps)
    assert "custom ends 9.8 points more accurate on its training images" in text
    assert "the CIFAR-10 gaps are -4.0 to -0.5 points" in text
    text = _overfitting_finding(gaps.assign(**{"train-val gap (pp)": [-2.6, -8.1, -6.8]}))
    assert text.startswith("**Overfitting**: none measurable at this budget: without augmentation")
    assert (
        "every model ends less accurate on its training images than on validation (-8.1 to "
        "-2.6 points), and with it the CIFAR-10 gaps are -4.0 to -0.5 (training" in text
    )


def test_a_verdict_says_when_every_seed_agrees_but_the_seeds_are_too_few():
    from cnnbench.discussion import _verdict

    assert _verdict(0.25, 3) == "not significant; every seed agrees"  # 3 seeds: p >= 0.25
    assert _verdict(0.75, 3) == "not significant"
    assert _verdict(0.03125, 6) == "significant"  # 6 seeds can reach 5%
    assert _verdict(0.0625, 6) == "not significant"  # and there agreeing is not enough to say so
    assert _verdict(None) == "one seed: untested"


def test_training_table_says_what_each_cell_trained_loaded_or_not(two_seeds):
    table = training_table(two_seeds)
    assert list(table["experiment"]) == [label(k) for k in two_seeds.expected_keys()]
    assert set(table["seeds"]) == {2} and set(table["epochs"]) == {1}
    key = "mnist/custom+aug"
    row = table[table["experiment"] == label(key)].iloc[0]
    times = [r["train"]["train_time_s"] for r in two_seeds.seed_results(key)]
    assert row["train s/seed"] == pytest.approx(np.mean(times))
    assert row["val acc (%)"] == pytest.approx(100 * two_seeds.accuracies(key, "val").mean())
    loaded = load_study(two_seeds.path)  # read back from disk: the same table
    pd.testing.assert_frame_equal(training_table(loaded), table)


def test_rerun_skips_every_seed_run_and_more_seeds_train_only_the_new_ones(
    two_seeds, tmp_path, monkeypatch
):
    _copy_study(two_seeds, tmp_path)
    calls = _count_training(monkeypatch)
    messages = []
    again = _run(tmp_path, seeds=2, log=messages.append)
    assert calls == []
    assert messages[-1].endswith("26 seed runs, 26 finished earlier and kept")
    assert again.runs == two_seeds.runs
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, seeds=3, log=_interrupt_after(1))
    assert calls == ["custom_v1"]  # seeds 42 and 43 kept, seed 44 trained


def test_cli_seeds_flag_runs_every_experiment_per_seed(two_seeds, tmp_path, monkeypatch):
    from cnnbench import cli

    _copy_study(two_seeds, tmp_path)
    calls = _count_training(monkeypatch)
    flags = [
        "--profile", "demo", "--datasets", "mnist", "--epochs", "1", "--sample-fraction", "0.05",
        "--val-fraction", "0.02", "--test-fraction", "0.2", "--batch-size", "32", "--verbose", "0",
    ]  # fmt: skip
    assert cli.main(["run", *flags, "--seeds", "2", "--artifacts", str(tmp_path)]) == 0
    assert calls == []  # the same 26 seed runs, all finished
    assert load_study(tmp_path / "demo").seeds == 2
    assert "seeds 42-43 (2)" in (tmp_path / "demo" / "comparison.md").read_text()


# ---------------------------------------------------------------------------------------------
# Profiles and bad input
# ---------------------------------------------------------------------------------------------


def test_profiles_cover_both_datasets_and_round_trip():
    assert list(PROFILES) == ["demo", "quick", "standard", "full"]
    for profile in PROFILES.values():
        assert set(profile.epochs) == {"cifar10", "mnist", "images"}
        assert Profile.from_dict(profile.to_dict()) == profile
        assert profile.patience is None  # every profile's one-cycle runs train to their end
    assert PROFILES["demo"].source == "sample" and PROFILES["demo"].sample_fraction == 1.0
    assert PROFILES["standard"].sample_fraction == 0.25
    assert PROFILES["full"].sample_fraction == 1.0
    assert PROFILES["standard"].epochs["cifar10"] == Epochs(30, 50)
    assert PROFILES["quick"].sample_fraction == 0.25 and PROFILES["quick"].seeds == 3
    assert [PROFILES[p].seeds for p in ("demo", "standard", "full")] == [1, 1, 1]


def test_early_stopping_is_refused_for_one_cycle_schedules():
    with pytest.raises(ConfigError, match="would cut a one-cycle schedule"):
        get_profile("standard", patience=10)
    assert get_profile("standard", recipe="original", patience=10).patience == 10


def test_profile_overrides_and_scaling():
    tiny = get_profile("demo", epochs=1)
    assert all(e == Epochs(1, 1) for e in tiny.epochs.values())
    scaled = PROFILES["standard"].scaled(0.1)
    assert scaled.epochs["cifar10"] == Epochs(3, 5)
    assert PROFILES["demo"].scaled(0.01).epochs["mnist"] == Epochs(1, 1)
    assert get_profile("demo", seeds=2).seeds == 2
    # a reworded description is documentation, not a setting: the profile is the same
    assert get_profile("standard", description="reworded") == PROFILES["standard"]
    assert get_profile("standard", seeds=2) != PROFILES["standard"]


def test_auto_profile_follows_the_hardware_and_says_so():
    messages = []
    profile = resolve_profile("auto", log=messages.append)
    expected = "standard" if tf.config.list_physical_devices("GPU") else "quick"
    assert profile.name == expected
    assert f"using '{expected}'" in messages[0]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: get_profile("huge"), "unknown profile 'huge'; valid: demo, quick, standard, full"),
        (lambda: run_study("huge", log=None), "valid: demo, quick, standard, full"),
        (lambda: get_profile("demo", sample_fraction=0), r"sample_fraction must be in \(0, 1\]"),
        (lambda: get_profile("demo", val_fraction=1.0), r"val_fraction must be in \(0, 1\)"),
        (lambda: get_profile("demo", epochs=0), "must be a positive integer"),
        (lambda: get_profile("demo", recipe="slow"), "unknown recipe 'slow'"),
        (lambda: get_profile("demo", epoch=3), "unknown profile fields"),
        (lambda: _run("x", datasets=("svhn",)), r"among \['cifar10', 'mnist', 'images'\]"),
        (lambda: _run("x", datasets=()), "datasets must be distinct names"),
        (lambda: _run("x", datasets=("mnist", "mnist")), "datasets must be distinct names"),
        (lambda: _run("x", data_dir="/data"), "ignores data_dir"),
        (lambda: _run("x", seed=-1), "seed must be a non-negative integer"),
        (lambda: _run("x", seeds=0), "seeds must be a positive integer"),
        (lambda: _run("x", seeds=21), "seeds must be at most 20"),
        (lambda: _run("x", study_name="a/b"), "plain folder name"),
        (lambda: _run("x", epochs_scale=0), "epochs_scale must be a number > 0"),
        (lambda: _run("x", force="yes"), "force must be True or False"),
        (lambda: _run("x", verbose=5), "verbose must be 0, 1 or 2"),
    ],
)
def test_bad_input_is_rejected_before_any_work(call, match, monkeypatch):
    monkeypatch.setattr(study_module, "load_dataset", _must_not_run)
    with pytest.raises(ConfigError, match=match):
        call()


def _must_not_run(*args, **kwargs):
    raise AssertionError("validation should have failed before loading data")


def test_bad_study_queries(one_go, tmp_path):
    with pytest.raises(ConfigError, match="not a study folder"):
        load_study(tmp_path)
    with pytest.raises(ConfigError, match=r"k must be an integer in \[1, 10\]"):
        one_go.weakest_classes("mnist/custom", k=0)
    with pytest.raises(ConfigError, match="not in this study"):
        per_class_table(one_go, "cifar10")


def test_recipe_table_and_class_report_read_what_train_and_evaluate_recorded(two_seeds):
    from cnnbench.tables import class_report, recipe_table

    recipes = recipe_table(two_seeds)
    assert list(recipes["experiment"]) == [label(k) for k in two_seeds.expected_keys()]
    best = two_seeds.best_key("mnist", augment=True)
    row = recipes.set_index("experiment").loc[label(f"{best}+oversample")]
    recorded = two_seeds.result(f"{best}+oversample")["train"]["config"]
    assert row["batch"] == recorded["batch_size"] == 32 and row["epochs"] == 1
    assert row["peak lr"] == recorded["recipe"]["learning_rate"]
    assert row["augmentation"] == "original" and row["class boost"] == "oversample x2"
    assert recipes.set_index("experiment").loc["custom", "augmentation"] == "none"
    # this study gives the batch (32), so auto does not size its runs: dropout stays as built
    assert two_seeds.result("mnist/alexnet")["train"]["config"]["recipe"]["dropout_ramp"] is False
    assert not recipes.set_index("experiment").loc["alexnet", "dropout ramp"]
    report = class_report(two_seeds, "mnist/custom")
    runs = two_seeds.seed_results("mnist/custom")
    assert list(report.columns) == ["precision", "recall", "f1-score", "images"]
    assert report.loc["3", "recall"] == pytest.approx(
        np.mean([r["test"]["report"]["3"]["recall"] for r in runs])
    )
    assert report["images"].sum() == runs[0]["dataset"]["sizes"]["test"]


def test_the_recipe_column_names_a_dropout_ramp():
    from cnnbench.tables import _recipe

    recipe = {"name": "fast_plain", "batch_size": 64, "dropout_ramp": True}
    assert _recipe({"config": {"recipe": recipe}}) == "fast_plain, batch 64, dropout ramp"
    recipe["dropout_ramp"] = False
    assert _recipe({"config": {"recipe": recipe}}) == "fast_plain, batch 64"
    del recipe["dropout_ramp"]  # recorded before the field existed
    assert _recipe({"config": {"recipe": recipe}}) == "fast_plain, batch 64"


def test_limitations_come_from_the_study_settings(two_seeds):
    text = limitations_markdown(two_seeds)
    assert "- **Seeds.** 2 training seeds per experiment" in text
    assert "with so few the exact paired test cannot call any difference significant at 5%" in text
    info = two_seeds.dataset_info("mnist")
    assert info["variant"] in text and f"{info['sizes']['train']:,} training images" in text
    assert "MNIST 1 for the variants, 1 for the compared and augmented runs" in text
    assert two_seeds.results["mnist/custom"]["environment"]["hardware"] in text


def test_headline_table_shows_mean_and_std_over_the_seeds(two_seeds):
    from cnnbench.report import headline_table

    table = headline_table(two_seeds)
    comparison = comparison_table(two_seeds)
    for (_, short), (_, full) in zip(table.iterrows(), comparison.iterrows(), strict=True):
        mean, std = full["test acc (%)"], full["test acc std (pp)"]
        assert short["test acc (%)"] == f"{mean:.2f} ± {std:.2f}"
        low, high = full["test acc 95% CI low (%)"], full["test acc 95% CI high (%)"]
        assert short["test 95% CI (%)"] == f"{low:.2f}–{high:.2f}"
        assert short["seeds"] == 2
