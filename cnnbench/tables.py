"""The study's results as tables (pandas frames), computed from its ``result.json`` files alone.

:mod:`cnnbench.report` writes them as Markdown/CSV; :mod:`cnnbench.discussion` reads numbers from
them. :class:`~cnnbench.study.Study` keeps same-named methods that call these functions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cnnbench.errors import ConfigError
from cnnbench.stats import paired_test, summarize
from cnnbench.study import (
    AUGMENTED,
    COMPARED,
    TARGETED,
    VARIANTS,
    Study,
    display_name,
    mean_f1,
    variant_experiment,
)

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
    keys = [f"{study.selection_dataset}/{variant_experiment(v)}" for v in VARIANTS]
    done = [k for k in keys if k in study.results]
    chosen = study.selected_variant() if len(done) == len(keys) else None
    rows = [_mean_row(study, k) for k in done]
    rows = [{**row, "chosen": row["model"] == chosen} for row in rows]
    columns = [c for c in TABLE_COLUMNS if c != "augmented"] + ["chosen"]
    return pd.DataFrame(rows, columns=columns)


def comparison_table(study: Study) -> pd.DataFrame:
    """One row per compared model and augmented retrain, per dataset (finished ones only);
    numbers are means over the seeds, ``recipe`` the recipe and batch size each trained with."""
    keys = [f"{d}/{name}" for d in study.datasets for name in (*COMPARED, AUGMENTED)]
    rows = [_mean_row(study, k) for k in keys if k in study.results]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def runs_frame(study: Study) -> pd.DataFrame:
    """One row per finished seed run (unfinished experiments' finished seeds too): the per-seed
    numbers the tables average."""
    rows = [
        {"experiment": key, "seed": seed, **_row(study.runs[key][seed])}
        for key in study.expected_keys()
        for seed in study.seed_list
        if seed in study.runs.get(key, {})
    ]
    columns = ["experiment", "seed", *TABLE_COLUMNS[: TABLE_COLUMNS.index("seeds")], "recipe"]
    columns = [c for c in columns if "std" not in c and "CI" not in c]
    return pd.DataFrame(rows, columns=columns)


def per_class_table(study: Study, dataset: str) -> pd.DataFrame:
    """Per-class F1 of the best model: validation, test, test after uniform augmentation and the
    change it made, then test after each finished targeted augmentation (each the mean over the
    seeds)."""
    before = study.seed_results(study.best_key(dataset))
    after = study.seed_results(f"{dataset}/{AUGMENTED}")
    names = before[0]["test"]["class_names"]
    frame = pd.DataFrame(
        {
            "val F1": mean_f1(before, "val", names),
            "test F1": mean_f1(before, "test", names),
            "test F1 augmented": mean_f1(after, "test", names),
        },
        index=pd.Index(names, name="class"),
    )
    frame["change"] = frame["test F1 augmented"] - frame["test F1"]
    for name, method in TARGETED.items():
        if f"{dataset}/{name}" in study.results:
            runs = study.seed_results(f"{dataset}/{name}")
            frame[f"test F1 {method.replace('_', ' ')}"] = mean_f1(runs, "test", names)
    return frame


# How each training of the augmentation comparison is named in its table.
TRAININGS = {
    None: "no augmentation",
    AUGMENTED: "uniform augmentation",
    **{
        name: f"targeted augmentation, {method.replace('_', ' ')}"
        for name, method in TARGETED.items()
    },
}

TARGETED_COLUMNS = [
    "dataset",
    "model",
    "training",
    "boosted classes",
    "val acc (%)",
    "test acc (%)",
    "test acc std (pp)",
    "test macro F1",
    "boosted F1",
    "vs uniform (pp)",
    "p exact",
    "p t-test",
    "seeds",
]


def augmentation_keys(study: Study, dataset: str) -> dict[str | None, str]:
    """The experiments of the augmentation comparison on ``dataset`` (the best compared model
    without augmentation, with uniform and with targeted augmentation), keyed as in
    :data:`TRAININGS`; only finished ones, and none before the best model is known."""
    try:
        best = study.best_key(dataset)
    except ConfigError:
        return {}
    keys = {None: best, **{name: f"{dataset}/{name}" for name in (AUGMENTED, *TARGETED)}}
    return {name: key for name, key in keys.items() if key in study.results}


def targeted_table(study: Study) -> pd.DataFrame:
    """The augmentation comparison per dataset, at equal budgets and seeds: the best compared
    model without augmentation, with uniform augmentation and with each targeted augmentation.

    ``boosted F1`` is the test F1 of the classes the targeted runs boosted (the weakest on
    validation), averaged over them and the seeds; ``vs uniform`` columns are the mean per-seed
    test accuracy difference from uniform augmentation and its paired test's p values (exact
    sign-flip, and paired t-test).
    """
    rows = []
    for dataset in study.datasets:
        keys = augmentation_keys(study, dataset)
        if AUGMENTED not in keys:
            continue
        boosted = study.targeted_classes(dataset)
        uniform = study.accuracies(keys[AUGMENTED], "test")
        for name, key in keys.items():
            runs = study.seed_results(key)
            test = summarize([100 * r["test"]["accuracy"] for r in runs])
            row = {
                "dataset": display_name(dataset),
                "model": runs[0]["config"]["model"],
                "training": TRAININGS[name],
                "boosted classes": ", ".join(boosted),
                "val acc (%)": 100 * float(np.mean([r["val"]["accuracy"] for r in runs])),
                "test acc (%)": test.mean,
                "test acc std (pp)": _spread(test)[0],
                "test macro F1": float(
                    np.mean([r["test"]["report"]["macro avg"]["f1-score"] for r in runs])
                ),
                "boosted F1": float(np.mean(mean_f1(runs, "test", boosted))),
                "vs uniform (pp)": None,
                "p exact": None,
                "p t-test": None,
                "seeds": len(runs),
            }
            if name != AUGMENTED:
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
                "experiment": key,
                "model": config["model"],
                "recipe": recipe["name"],
                "optimizer": recipe["optimizer"],
                "schedule": recipe["schedule"],
                "peak lr": recipe["learning_rate"],
                "batch": config["batch_size"],
                "epochs": config["epochs"],
                "label smoothing": recipe["label_smoothing"],
                "weight decay": recipe["weight_decay"],
                "dropout ramp": recipe.get("dropout_ramp", False),  # absent before it existed
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
        "model": config["model"],
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
    }
