"""Full-budget confirmation of a probed config: validation *and* test accuracy, test read once.

The probes (``probe.py``) choose on validation and never read the test set; this script
re-trains a chosen config (same parser, builders, recipe and seeds as ``probe.py``) on the 25%
stratified sample of ``cifar10`` or ``mnist`` (seed-42 sample) and, after the last epoch, scores
validation and test without test-time augmentation and with each TTA mode whose views keep the
dataset's labels true (``cnnbench.checks.TTA_MODES``: on CIFAR-10 flip, translate and
flip_translate; on MNIST translate only, a mirrored digit being another symbol). Which one is
used is decided on validation by ``summary``; the test columns are reported for all so the
choice can be audited, not made on them.

One JSON line per (dataset, config, epochs, seed) to ``confirm.jsonl`` (kept in git), and the
trained model to ``models/`` beside it (not kept: 3 MB a run), so a TTA mode added later is
scored without retraining. A recorded run is skipped, a saved model
lacking a mode's column is re-scored, a recorded run without a saved model is retrained (the
runs are deterministic: it prints whether the new validation accuracy matches the recorded
one). An interrupted queue resumes. From the repository root::

    export CNNBENCH_DATA_DIR=../shared/data
    python benchmarks/research/accuracy/confirm.py run DATASET EPOCHS SEEDS CONFIG [CONFIG ...]
    python benchmarks/research/accuracy/confirm.py summary
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import probe  # noqa: E402

OUT = Path(__file__).parent / "confirm.jsonl"
MODELS = Path(__file__).parent / "models"


def records():
    if not OUT.exists():
        return []
    return [json.loads(line) for line in OUT.read_text().splitlines() if line.strip()]


def model_path(dataset, config, epochs, seed):
    return MODELS / dataset / f"{config}_e{epochs}_s{seed}.keras"


def modes_for(ds):
    """The TTA modes whose views keep ``ds``'s labels true."""
    from cnnbench.checks import TTA_MODES

    return [m for m, needs in TTA_MODES.items() if set(needs) <= set(ds.augmentations)]


def score(model, ds, row):
    """``row`` + validation and test accuracy, plain and with every mode of ``modes_for(ds)``."""
    from cnnbench.evaluation import predict_proba

    for split, x, y in (("val", ds.x_val, ds.y_val), ("test", ds.x_test, ds.y_test)):
        for mode in (None, *modes_for(ds)):
            key = f"{split}_acc" + (f"_{mode}" if mode else "")
            if key not in row:
                row[key] = float((predict_proba(model, x, tta=mode).argmax(1) == y).mean())
    return row


def save(rows):
    tmp = OUT.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    tmp.replace(OUT)


def run(dataset, epochs, seeds, configs):
    import keras

    from cnnbench import environment_info, load_dataset

    for config in configs:
        probe.parse(config)  # fail early on a typo
    ds = load_dataset(dataset, sample_fraction=0.25, seed=42)
    hardware = environment_info()["hardware"]
    for seed in seeds:
        for config in configs:
            key = (dataset, config, epochs, seed)
            rows = records()
            old = next(
                (r for r in rows if (r["dataset"], r["config"], r["epochs"], r["seed"]) == key),
                None,
            )
            path = model_path(*key)
            wanted = [f"{s}_acc_{m}" for s in ("val", "test") for m in modes_for(ds)]
            if old and all(k in old for k in wanted):
                continue
            if old and path.exists():  # a TTA mode added since: score the saved model
                row = score(keras.saving.load_model(path), ds, dict(old))
                save([row if r is old else r for r in rows])
                print(f"{dataset} {config} e{epochs} s{seed}: re-scored", flush=True)
                continue
            start = time.time()
            model, result, recipe = probe.train_one(ds, config, epochs, seed)
            path.parent.mkdir(parents=True, exist_ok=True)
            model.save(path)
            row = score(
                model,
                ds,
                {
                    "dataset": dataset,
                    "config": config,
                    "seed": seed,
                    "epochs": epochs,
                    "params": int(model.count_params()),
                    "batch_size": recipe.batch_size,
                    "recipe": result.config["recipe"],
                    "train_acc": result.history["accuracy"][-1],
                    "val_history": [round(v, 4) for v in result.history["val_accuracy"]],
                    "train_s": result.train_time_s,
                    "date": datetime.datetime.now().isoformat(timespec="seconds"),
                    "hardware": hardware,
                },
            )
            same = ""
            if old is not None:
                match = "the same" if old["val_acc"] == row["val_acc"] else old["val_acc"]
                same = f" (the recorded run's validation accuracy: {match})"
            rows = [
                r for r in records() if (r["dataset"], r["config"], r["epochs"], r["seed"]) != key
            ]
            save([*rows, row])
            print(
                f"{dataset} {config} e{epochs} s{seed}: val {row['val_acc']:.4f} "
                f"test {row['test_acc']:.4f} ({time.time() - start:.0f} s){same}",
                flush=True,
            )


def summary():
    from cnnbench.checks import TTA_MODES
    from cnnbench.stats import paired_test

    groups = {}
    for r in records():
        groups.setdefault((r["dataset"], r["config"], r["epochs"]), []).append(r)
    modes = list(TTA_MODES)
    print(
        "| dataset | config | params | epochs | seeds | val (%) | "
        + " | ".join(f"val + {m} (%)" for m in modes)
        + " | TTA chosen on val (gain pp, p t) | test (%) | "
        + " | ".join(f"test + {m} (%)" for m in modes)
        + " | reported test (%) | train s |"
    )
    print(
        "|---|---|---:|---:|---|---:|"
        + "---:|" * len(modes)
        + "---|---:|"
        + "---:|" * len(modes)
        + "---:|---:|"
    )
    for (dataset, config, epochs), mine in groups.items():
        mine.sort(key=lambda r: r["seed"])

        def col(key, mine=mine):
            return [100 * r[key] for r in mine] if all(key in r for r in mine) else None

        val, test = col("val_acc"), col("test_acc")
        # The mode with the best mean validation accuracy, plain prediction included.
        scored = {m: col(f"val_acc_{m}") for m in modes if col(f"val_acc_{m}")}
        best = max(scored, key=lambda m: np.mean(scored[m]), default=None)
        choice, reported = "none", probe.cell(test)
        if best and np.mean(scored[best]) > np.mean(val):
            p_t = paired_test(scored[best], val).p_t if len(mine) > 1 else float("nan")
            choice = f"{best} ({np.mean(scored[best]) - np.mean(val):+.2f}, {p_t:.2g})"
            reported = probe.cell(col(f"test_acc_{best}"))

        def cells(split):
            return " | ".join(
                probe.cell(c) if (c := col(f"{split}_acc_{m}")) else "–" for m in modes
            )

        print(
            f"| {dataset} | {config} | {mine[0]['params']:,} | {epochs} | "
            f"{','.join(str(r['seed']) for r in mine)} | {probe.cell(val)} | {cells('val')} | "
            f"{choice} | {probe.cell(test)} | {cells('test')} | **{reported}** | "
            f"{np.mean([r['train_s'] for r in mine]):.0f} |"
        )


if __name__ == "__main__":
    if sys.argv[1] == "summary":
        summary()
    else:
        dataset, epochs, seeds, *configs = sys.argv[2:]
        run(dataset, int(epochs), [int(s) for s in seeds.split(",")], configs)
