"""Full-budget confirmation of a probed config: validation *and* test accuracy, test read once.

The probes (``probe.py``) choose on validation and never read the test set; this script
re-trains a chosen config (same parser, builders, recipe and seeds as ``probe.py``) on the 25%
stratified sample of ``cifar10`` or ``mnist`` (seed-42 sample) and, after the last epoch, scores
validation and test, each without and (CIFAR-10 only: a mirrored digit is another symbol) with
flip test-time augmentation. Whether TTA is used is decided on validation by ``summary``; the
test columns are reported for both so the choice can be audited, not made on them.

One JSON line per (dataset, config, epochs, seed) to ``confirm.jsonl`` (not kept in git: the
summary goes to docs/performance.md); recorded runs are skipped, so an interrupted queue
resumes. From the repository root::

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
TTA_DATASETS = ("cifar10",)  # flip TTA only where a mirrored image is the same class


def records():
    if not OUT.exists():
        return []
    return [json.loads(line) for line in OUT.read_text().splitlines() if line.strip()]


def run(dataset, epochs, seeds, configs):
    from cnnbench import environment_info, load_dataset
    from cnnbench.evaluation import predict_proba

    for config in configs:
        probe.parse(config)  # fail early on a typo
    ds = load_dataset(dataset, sample_fraction=0.25, seed=42)
    hardware = environment_info()["hardware"]
    for seed in seeds:
        for config in configs:
            done = {(r["dataset"], r["config"], r["epochs"], r["seed"]) for r in records()}
            if (dataset, config, epochs, seed) in done:
                continue
            start = time.time()
            model, result, recipe = probe.train_one(ds, config, epochs, seed)
            row = {
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
            }
            for split, x, y in (("val", ds.x_val, ds.y_val), ("test", ds.x_test, ds.y_test)):
                row[f"{split}_acc"] = float((predict_proba(model, x).argmax(1) == y).mean())
                if dataset in TTA_DATASETS:
                    tta = predict_proba(model, x, tta=True)
                    row[f"{split}_acc_tta"] = float((tta.argmax(1) == y).mean())
            with OUT.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(
                f"{dataset} {config} e{epochs} s{seed}: val {row['val_acc']:.4f} "
                f"test {row['test_acc']:.4f} ({time.time() - start:.0f} s)",
                flush=True,
            )


def summary():
    from cnnbench.stats import paired_test

    rows = records()
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["config"], r["epochs"]), []).append(r)

    print(
        "| dataset | config | params | epochs | seeds | val (%) | val + TTA (%) | TTA on val "
        "(pp, p t) | test (%) | test + TTA (%) | reported test (%) | train s |"
    )
    print("|---|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|")
    for (dataset, config, epochs), mine in groups.items():
        mine.sort(key=lambda r: r["seed"])
        val = [100 * r["val_acc"] for r in mine]
        test = [100 * r["test_acc"] for r in mine]
        tta_val = [100 * r.get("val_acc_tta", np.nan) for r in mine]
        tta_test = [100 * r.get("test_acc_tta", np.nan) for r in mine]
        choice, reported = "–", probe.cell(test)
        if dataset in TTA_DATASETS:
            gain = np.mean(tta_val) - np.mean(val)
            p_t = paired_test(tta_val, val).p_t if len(mine) > 1 else float("nan")
            use = gain > 0  # chosen on validation only
            choice = f"{gain:+.2f} ({p_t:.2g}): {'used' if use else 'not used'}"
            reported = probe.cell(tta_test if use else test)
        print(
            f"| {dataset} | {config} | {mine[0]['params']:,} | {epochs} | "
            f"{','.join(str(r['seed']) for r in mine)} | {probe.cell(val)} | "
            f"{probe.cell(tta_val) if dataset in TTA_DATASETS else '–'} | {choice} | "
            f"{probe.cell(test)} | "
            f"{probe.cell(tta_test) if dataset in TTA_DATASETS else '–'} | **{reported}** | "
            f"{np.mean([r['train_s'] for r in mine]):.0f} |"
        )


if __name__ == "__main__":
    if sys.argv[1] == "summary":
        summary()
    else:
        dataset, epochs, seeds, *configs = sys.argv[2:]
        run(dataset, int(epochs), [int(s) for s in seeds.split(",")], configs)
