"""The study's results as tables (pandas frames), computed from its ``result.json`` files alone.

:mod:`cnnbench.report` writes them as Markdown/CSV; :mod:`cnnbench.discussion` reads numbers from
them. Every experiment is named by :func:`cnnbench.plan.label` (``custom + aug``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cnnbench.config import TARGETED_METHODS
from cnnbench.errors import ConfigError
from cnnbench.plan import display_name, label, selection_cells
from cnnbench.results import Study, mean_f1
from cnnbench.stats import interaction_test, paired_test, summarize

TABLE_COLUMNS = [
    "dataset",
    "model",
    "augmented",
    "val acc (%)",
    "test acc (%)",
    "test loss",
    "params",
    "MFLOPs/image",
    "train time (s)",
    "s/epoch",
    "epochs",
    "latency (ms)",
    "train-val gap (pp)",
    # Added with seeds (after the columns above, so their positions do not move): the numeric
    # columns above are means over the seeds; the accuracies' spread and 95% interval follow.
    "val acc std (pp)",
    "val acc 95% CI low (%)",
    "val acc 95% CI high (%)",
    "test acc std (pp)",
    "test acc 95% CI low (%)",
    "test acc 95% CI high (%)",
    "seeds",
    "recipe",
    # The machine(s) its seeds ran on: a resumed study can span machines, and times and latencies
    # compare only between cells measured on the same one.
    "hardware",
]
# Per-run columns averaged over the seeds in the tables (every numeric one; params is the same
# for every seed, so its mean is itself).
MEAN_COLUMNS = [
    "val acc (%)",
    "test acc (%)",
    "test loss",
    "MFLOPs/image",
    "train time (s)",
    "s/epoch",
    "epochs",
    "latency (ms)",
    "train-val gap (pp)",
]


def variant_table(study: Study) -> pd.DataFrame:
    """The variant selection: one row per custom variant, ``chosen`` by mean validation accuracy
    over the seeds."""
    keys = [e.key for e in selection_cells(study.spec, study.datasets)]
    done = [k for k in keys if k in study.results]
    chosen = study.selected_variant() if keys and len(done) == len(keys) else None
    rows = [_mean_row(study, k) for k in done]
    rows = [
        {**row, "model": study.model_of(k), "chosen": study.model_of(k) == chosen}
        for row, k in zip(rows, done, strict=True)
    ]
    columns = [c for c in TABLE_COLUMNS if c != "augmented"] + ["chosen"]
    return pd.DataFrame(rows, columns=columns)


def comparison_table(study: Study) -> pd.DataFrame:
    """One row per compared cell on every training image, per dataset (finished ones only);
    numbers are means over the seeds, ``recipe`` the recipe and batch size each trained with."""
    keys = [k for d in study.datasets for k in study.compared_keys(d)]
    rows = [_mean_row(study, k) for k in keys if k in study.results]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def training_table(study: Study) -> pd.DataFrame:
    """What the study trained, in grid order: per finished experiment its epochs, seeds, mean
    training seconds a seed, validation accuracy (the number every choice is made on) and the
    hardware it ran on; the same whether the runs were trained now or loaded from disk."""
    rows = []
    for key in study.expected_keys():
        if key not in study.results:
            continue
        runs = study.seed_results(key)
        rows.append(
            {
                "dataset": display_name(key.split("/")[0]),
                "experiment": label(key),
                "epochs": runs[0]["train"]["epochs_run"],
                "seeds": len(runs),
                "train s/seed": float(np.mean([r["train"]["train_time_s"] for r in runs])),
                "val acc (%)": 100 * float(study.accuracies(key, "val").mean()),
                "hardware": "; ".join(dict.fromkeys(r["environment"]["hardware"] for r in runs)),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "dataset",
            "experiment",
            "epochs",
            "seeds",
            "train s/seed",
            "val acc (%)",
            "hardware",
        ],
    )


def runs_frame(study: Study) -> pd.DataFrame:
    """One row per finished seed run (unfinished experiments' finished seeds too): the per-seed
    numbers the tables average."""
    rows = [
        {"experiment": key, "seed": seed, **_row(study.runs[key][seed])}
        for key in study.expected_keys()
        for seed in study.seed_list
        if seed in study.runs.get(key, {})
    ]
    columns = [
        "experiment",
        "seed",
        *TABLE_COLUMNS[: TABLE_COLUMNS.index("seeds")],
        "recipe",
        "hardware",
    ]
    columns = [c for c in columns if "std" not in c and "CI" not in c]
    return pd.DataFrame(rows, columns=columns)


AUGMENTATION_COLUMNS = [
    "dataset",
    "model",
    "test acc (%)",
    "test acc + aug (%)",
    "effect (pp)",
    "p exact",
    "p t-test",
    "train-val gap (pp)",
    "train-val gap + aug (pp)",
    "seeds",
]


def augmentation_table(study: Study, fraction: float = 1.0) -> pd.DataFrame:
    """Augmentation's paired effect per model: test accuracy without and with it (same epochs,
    batch, recipe and seeds), the mean per-seed difference and its paired test, and the
    train-minus-validation accuracy gap of each (overfitting; Keras' training accuracy is the
    last epoch's mean, with dropout and augmentation on)."""
    rows = []
    for dataset in study.datasets:
        for model, plain, augmented in study.augmentation_pairs(dataset, fraction):
            test = paired_test(study.accuracies(augmented, "test"), study.accuracies(plain, "test"))
            rows.append(
                {
                    "dataset": display_name(dataset),
                    "model": model,
                    "test acc (%)": 100 * study.accuracies(plain, "test").mean(),
                    "test acc + aug (%)": 100 * study.accuracies(augmented, "test").mean(),
                    "effect (pp)": 100 * test.mean_difference,
                    "p exact": test.p_exact if test.n > 1 else None,
                    "p t-test": test.p_t if test.n > 1 else None,
                    "train-val gap (pp)": _mean_gap(study, plain),
                    "train-val gap + aug (pp)": _mean_gap(study, augmented),
                    "seeds": test.n,
                }
            )
    return pd.DataFrame(rows, columns=AUGMENTATION_COLUMNS)


INTERACTION_COLUMNS = [
    "dataset",
    "comparison",
    "effect on first (pp)",
    "effect on second (pp)",
    "difference (pp)",
    "p exact",
    "p t-test",
    "seeds",
]
INTERACTION_REFERENCE = "custom"  # the original claim: augmentation helps it more than alexnet


def interaction_table(study: Study, reference: str = INTERACTION_REFERENCE) -> pd.DataFrame:
    """Does augmentation help ``reference`` more than each other model? Per dataset, the
    paired difference of differences over seeds, ``(ref+aug - ref) - (other+aug - other)``,
    with its test (:func:`cnnbench.stats.interaction_test`)."""
    rows = []
    for dataset in study.datasets:
        pairs = {model: (a, b) for model, a, b in study.augmentation_pairs(dataset)}
        if reference not in pairs:
            continue
        ref_plain, ref_aug = pairs[reference]
        for model, (plain, augmented) in pairs.items():
            if model == reference:
                continue
            test = interaction_test(
                study.accuracies(ref_aug, "test"),
                study.accuracies(ref_plain, "test"),
                study.accuracies(augmented, "test"),
                study.accuracies(plain, "test"),
            )
            effect = lambda a, b: 100 * (study.accuracies(a, "test") - study.accuracies(b, "test"))  # noqa: E731
            rows.append(
                {
                    "dataset": display_name(dataset),
                    "comparison": f"{reference} vs {model}",
                    "effect on first (pp)": float(effect(ref_aug, ref_plain).mean()),
                    "effect on second (pp)": float(effect(augmented, plain).mean()),
                    "difference (pp)": 100 * test.mean_difference,
                    "p exact": test.p_exact if test.n > 1 else None,
                    "p t-test": test.p_t if test.n > 1 else None,
                    "seeds": test.n,
                }
            )
    return pd.DataFrame(rows, columns=INTERACTION_COLUMNS)


def confused_pairs(study: Study, key: str, k: int = 5) -> pd.DataFrame:
    """The ``k`` most frequent test confusions of experiment ``key`` (true class predicted as
    another), summed over its seeds, with their share of the true class's images."""
    cm = study.confusion_matrix(key)
    values = cm.to_numpy().copy()
    totals = values.sum(axis=1)
    np.fill_diagonal(values, 0)
    order = np.argsort(-values, axis=None, kind="stable")[:k]
    rows = []
    for flat in order:
        i, j = np.unravel_index(flat, values.shape)
        if values[i, j] == 0:
            break
        rows.append(
            {
                "true": cm.index[i],
                "predicted": cm.columns[j],
                "images": int(values[i, j]),
                "share of true (%)": 100 * values[i, j] / totals[i],
            }
        )
    return pd.DataFrame(rows, columns=["true", "predicted", "images", "share of true (%)"])


def confused_pairs_table(study: Study, k: int = 3) -> pd.DataFrame:
    """Per dataset and compared cell, its ``k`` most frequent test confusions in one row each:
    ``cat -> dog`` with the count summed over the seeds."""
    rows = []
    for dataset in study.datasets:
        for key in study.compared_keys(dataset):
            if key not in study.results:
                continue
            pairs = confused_pairs(study, key, k)
            row = {"dataset": display_name(dataset), "model": label(key)}
            for i, pair in enumerate(pairs.itertuples(index=False), start=1):
                row[f"confusion {i}"] = f"{pair.true} -> {pair.predicted} ({pair.images})"
            rows.append(row)
    return pd.DataFrame(rows)


def predicted_distribution(study: Study, dataset: str) -> pd.DataFrame:
    """How often each compared cell predicts each class on the test set (mean over the seeds),
    with the true count: a model that over-predicts a class shows here first."""
    matrices = {
        label(key): study.confusion_matrix(key)
        for key in study.compared_keys(dataset)
        if key in study.results
    }
    if not matrices:
        return pd.DataFrame()
    frame = pd.DataFrame({name: cm.sum(axis=0) / study.seeds for name, cm in matrices.items()})
    true_counts = next(iter(matrices.values())).sum(axis=1)  # the same test set for every cell
    frame.insert(0, "true", true_counts.to_numpy() / study.seeds)
    frame.index.name = "predicted class"
    return frame


def per_class_table(study: Study, dataset: str) -> pd.DataFrame:
    """Per-class F1 of the best augmented model (on validation): validation F1, test F1 without
    and with augmentation and the change, then test F1 under each finished targeted
    augmentation (each the mean over the seeds)."""
    best = study.best_key(dataset, augment=True)
    model = study.model_of(best)
    plain = f"{dataset}/{model}"
    after = study.seed_results(best)
    names = after[0]["test"]["class_names"]
    frame = pd.DataFrame({"val F1 + aug": mean_f1(after, "val", names)}, index=names)
    frame.index.name = "class"
    if plain in study.results:
        frame["test F1"] = mean_f1(study.seed_results(plain), "test", names)
    frame["test F1 + aug"] = mean_f1(after, "test", names)
    if "test F1" in frame:
        frame["change"] = frame["test F1 + aug"] - frame["test F1"]
    for method in TARGETED_METHODS:
        key = f"{best}+{method}"
        if key in study.results:
            frame[f"test F1 {label(key).split(' + ')[-1]}"] = mean_f1(
                study.seed_results(key), "test", names
            )
    return frame


TARGETED_COLUMNS = [
    "dataset",
    "model",
    "boosted classes",
    "val acc (%)",
    "test acc (%)",
    "test acc std (pp)",
    "boosted F1",
    "vs uniform (pp)",
    "p exact",
    "p t-test",
    "seeds",
]


def augmentation_keys(study: Study, dataset: str) -> list[str]:
    """The finished cells of the targeted comparison on ``dataset``: the best augmented model
    without augmentation, with the original augmentation and with each targeted one; none
    before the best is known."""
    try:
        best = study.best_key(dataset, augment=True)
    except ConfigError:
        return []
    keys = [f"{dataset}/{study.model_of(best)}", best]
    keys += [f"{best}+{method}" for method in TARGETED_METHODS]
    return [k for k in keys if k in study.results]


def targeted_table(study: Study) -> pd.DataFrame:
    """Targeted augmentation against uniform, per dataset, at equal budgets and seeds.

    ``boosted F1`` is the test F1 of the classes the targeted runs boosted (the best augmented
    model's weakest on validation), averaged over them and the seeds; ``vs uniform`` is the
    mean per-seed test accuracy difference from uniform augmentation and its paired test.
    """
    rows = []
    for dataset in study.datasets:
        keys = augmentation_keys(study, dataset)
        targeted = [k for k in keys if k.count("+") == 2]
        if not targeted:
            continue
        uniform_key = study.best_key(dataset, augment=True)
        boosted = study.targeted_classes(dataset)
        uniform = study.accuracies(uniform_key, "test")
        for key in keys:
            runs = study.seed_results(key)
            test = summarize([100 * r["test"]["accuracy"] for r in runs])
            row = {
                "dataset": display_name(dataset),
                "model": label(key),
                "boosted classes": ", ".join(boosted),
                "val acc (%)": 100 * float(np.mean([r["val"]["accuracy"] for r in runs])),
                "test acc (%)": test.mean,
                "test acc std (pp)": _spread(test)[0],
                "boosted F1": float(np.mean(mean_f1(runs, "test", boosted))),
                "vs uniform (pp)": None,
                "p exact": None,
                "p t-test": None,
                "seeds": len(runs),
            }
            if key != uniform_key:
                paired = paired_test(study.accuracies(key, "test"), uniform)
                row.update(
                    {
                        "vs uniform (pp)": 100 * paired.mean_difference,
                        "p exact": paired.p_exact if paired.n > 1 else None,
                        "p t-test": paired.p_t if paired.n > 1 else None,
                    }
                )
            rows.append(row)
    return pd.DataFrame(rows, columns=TARGETED_COLUMNS)


PAIRED_TESTS_COLUMNS = ["dataset", "comparison", "difference (pp)", "p exact", "p t-test", "seeds"]


def paired_tests_table(study: Study) -> pd.DataFrame:
    """Every paired test the discussion judges, in one place: the best model (on validation)
    against each other compared cell, augmentation's effect per model, the interactions and
    targeted against uniform augmentation. ``difference`` is the mean per-seed test accuracy
    difference (first minus second); ``p exact`` the exact sign-flip test's two-sided p (the
    one significance is judged by), ``p t-test`` the paired t-test's, for reference."""
    rows = []
    for dataset in study.datasets:
        keys = study.compared_keys(dataset)
        if not keys or any(k not in study.results for k in keys):
            continue
        best = study.best_key(dataset)
        augmented = study.result(best)["config"]["augment"]
        for key in study.compared_keys(dataset, augment=augmented):  # one per other model
            if study.model_of(key) != study.model_of(best):
                test = paired_test(study.accuracies(best, "test"), study.accuracies(key, "test"))
                rows.append(_test_row(dataset, f"{label(best)} vs {label(key)}", test))
    for _, row in augmentation_table(study).iterrows():
        name = f"{row['model']} + aug vs {row['model']}"
        rows.append(
            {
                **row[["dataset", "p exact", "p t-test", "seeds"]].to_dict(),
                "comparison": name,
                "difference (pp)": row["effect (pp)"],
            }
        )
    for _, row in interaction_table(study).iterrows():
        first, second = row["comparison"].split(" vs ")
        name = f"augmentation's effect on {first} vs on {second}"
        rows.append(
            {
                **row[["dataset", "p exact", "p t-test", "seeds"]].to_dict(),
                "comparison": name,
                "difference (pp)": row["difference (pp)"],
            }
        )
    targeted = targeted_table(study)
    for _, row in targeted[targeted["model"].str.count(r" \+ ") == 2].iterrows():
        uniform = row["model"].rsplit(" + ", 1)[0]
        rows.append(
            {
                **row[["dataset", "p exact", "p t-test", "seeds"]].to_dict(),
                "comparison": f"{row['model']} vs {uniform}",
                "difference (pp)": row["vs uniform (pp)"],
            }
        )
    return pd.DataFrame(rows, columns=PAIRED_TESTS_COLUMNS)


def _test_row(dataset: str, comparison: str, test) -> dict:
    return {
        "dataset": display_name(dataset),
        "comparison": comparison,
        "difference (pp)": 100 * test.mean_difference,
        "p exact": test.p_exact if test.n > 1 else None,
        "p t-test": test.p_t if test.n > 1 else None,
        "seeds": test.n,
    }


def _mean_gap(study: Study, key: str) -> float:
    return float(np.mean([_row(r)["train-val gap (pp)"] for r in study.seed_results(key)]))


def recipe_table(study: Study) -> pd.DataFrame:
    """How every finished experiment was trained, as ``train()`` recorded it (its first seed;
    the seeds share the recipe): optimizer, schedule, peak learning rate, batch, epochs, label
    smoothing, weight decay, whether dropout was ramped up, augmentation policy and class
    boost, and why the recipe was sized so."""
    rows = []
    for key in study.expected_keys():
        if key not in study.results:
            continue
        config = study.result(key)["train"]["config"]
        recipe = config["recipe"]
        boost = config.get("class_boost")
        rows.append(
            {
                "dataset": display_name(key.split("/")[0]),
                "experiment": label(key),
                "model": config["model"],
                "recipe": recipe["name"],
                "optimizer": recipe["optimizer"],
                "schedule": recipe["schedule"],
                "peak lr": recipe["learning_rate"],
                "batch": config["batch_size"],
                "epochs": config["epochs"],
                "label smoothing": recipe["label_smoothing"],
                "weight decay": recipe["weight_decay"],
                "dropout ramp": recipe["dropout_ramp"],
                "augmentation": config["augment_policy"] or "none",
                "class boost": (
                    f"{boost['method'].replace('_', ' ')} x{boost['factor']:g}" if boost else "none"
                ),
                "why": recipe.get("reason", ""),
            }
        )
    return pd.DataFrame(rows)


def class_report(study: Study, key: str, split: str = "test") -> pd.DataFrame:
    """Per-class precision, recall and F1 of a finished experiment on ``split`` (the mean over
    its seeds; scikit-learn's report), with each class's number of images."""
    runs = study.seed_results(key)
    names = runs[0][split]["class_names"]
    frame = pd.DataFrame(
        {
            metric: [float(np.mean([r[split]["report"][c][metric] for r in runs])) for c in names]
            for metric in ("precision", "recall", "f1-score")
        },
        index=pd.Index(names, name="class"),
    )
    frame["images"] = [int(runs[0][split]["report"][c]["support"]) for c in names]
    return frame


def _spread(summary) -> tuple[float, float, float]:
    """Std and 95% interval of a seed summary; one seed has no spread to measure, so NaN (a
    dash in Markdown) rather than a misleading 0 and a zero-width interval."""
    return (summary.std, summary.low, summary.high) if summary.n > 1 else (np.nan,) * 3


def _mean_row(study: Study, key: str) -> dict:
    """A table row of one experiment: the mean of its seed runs' rows, the accuracies' standard
    deviation and 95% interval (:func:`cnnbench.stats.summarize`; NaN for one seed), and how
    many seeds."""
    rows = [_row(r) for r in study.seed_results(key)]
    row = dict(rows[0])
    for column in MEAN_COLUMNS:
        values = [r[column] for r in rows]
        row[column] = values[0] if len(set(values)) == 1 else float(np.mean(values))
    for split in ("val", "test"):
        summary = summarize([r[f"{split} acc (%)"] for r in rows])
        spread = _spread(summary)
        row[f"{split} acc std (pp)"] = spread[0]
        row[f"{split} acc 95% CI low (%)"] = spread[1]
        row[f"{split} acc 95% CI high (%)"] = spread[2]
    row["seeds"] = len(rows)
    row["recipe"] = "; ".join(dict.fromkeys(r["recipe"] for r in rows))
    row["hardware"] = "; ".join(dict.fromkeys(r["hardware"] for r in rows))
    return row


def _recipe(train: dict) -> str:
    """The recipe a run trained with, as recorded by train(): ``"fast_plain, batch 64"``, with
    ``", dropout ramp"`` when its dropout rose from 0 over the epochs."""
    config = train.get("config") or {}
    recipe = config.get("recipe") or {}
    name = recipe.get("name", "?")
    batch = recipe.get("batch_size") or config.get("batch_size")
    text = f"{name}, batch {batch}" if batch else str(name)
    return text + (", dropout ramp" if recipe.get("dropout_ramp") else "")


def _row(result: dict) -> dict:
    """A table row of one seed run: accuracy, cost and overfitting, from its result.json."""
    config, train, test = result["config"], result["train"], result["test"]
    history = train["history"]
    return {
        "dataset": display_name(config["dataset"]),
        "model": label(config["experiment"]),
        "augmented": config["augment"],
        "val acc (%)": 100 * result["val"]["accuracy"],
        "test acc (%)": 100 * test["accuracy"],
        "test loss": test["loss"],
        "params": test["params"],
        "MFLOPs/image": test["flops"] / 1e6,
        "train time (s)": train["train_time_s"],
        # Median, so the first epoch's graph tracing does not count as training speed.
        "s/epoch": float(np.median(train["epoch_times_s"])),
        "epochs": train["epochs_run"],
        "latency (ms)": test["latency_ms"],
        # Keras' train accuracy is the mean over the last epoch, with dropout and augmentation on.
        "train-val gap (pp)": 100 * (history["accuracy"][-1] - history["val_accuracy"][-1]),
        "recipe": _recipe(train),
        "hardware": result["environment"]["hardware"],
    }
