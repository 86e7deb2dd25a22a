"""Does the package's named recipe and policy train what a confirmed research config trained?

Re-trains a config of ``confirm.jsonl`` through cnnbench's public API only (``build_model``,
``train`` with a named recipe and augmentation policy, ``evaluate`` with a TTA mode) on the same
25% CIFAR-10 sample (JPEG-derived copy, seed-42 sample) and seed, then compares every epoch's
validation accuracy and the final scores with the recorded row (the model is saved under
``models/package_check/``, not kept in git). ``alexnet``'s runs repeat bit
for bit across these machines (docs/performance.md, section 20), so equal numbers mean the
package trains the research config. One JSON line per run to ``package_check.jsonl``. From the
repository root::

    export CNNBENCH_DATA_DIR=../shared/data
    python -u benchmarks/research/accuracy/package_check.py SEED
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

import confirm

OUT = Path(__file__).parent / "package_check.jsonl"

# research config (confirm.py's name) -> how the package trains it
CHECKS = {
    "alexnet+t2+bs=64+wd=0.1": {
        "model": "alexnet",
        "recipe": "plain_long",
        "augment_policy": "flip_translate",
        "tta": "flip_translate",
    },
}


def check(seed: int) -> None:
    from cnnbench import build_model, environment_info, evaluate, load_dataset, set_seed, train

    ds = load_dataset("cifar10", sample_fraction=0.25, seed=42)
    for config, how in CHECKS.items():
        recorded = next(
            r
            for r in confirm.records()
            if (r["dataset"], r["config"], r["epochs"], r["seed"]) == ("cifar10", config, 50, seed)
        )
        set_seed(seed)
        model = build_model(how["model"], ds.input_shape, ds.num_classes)
        run = train(
            model,
            ds,
            augment=True,
            augment_policy=how["augment_policy"],
            recipe=how["recipe"],
            seed=seed,
            verbose=0,
        )
        path = confirm.MODELS / "package_check" / f"{config}_e50_s{seed}.keras"
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
        history = [round(v, 4) for v in run.history["val_accuracy"]]
        test = evaluate(model, ds, tta=how["tta"], timing=False).accuracy
        row = {
            "config": config,
            "package": how,
            "seed": seed,
            "epochs": run.epochs_run,
            "val_history_equal": history == recorded["val_history"],
            "val_acc": history[-1],
            "recorded_val_acc": recorded["val_acc"],
            f"test_acc_{how['tta']}": test,
            f"recorded_test_acc_{how['tta']}": recorded[f"test_acc_{how['tta']}"],
            "train_s": run.train_time_s,
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "hardware": environment_info()["hardware"],
        }
        with OUT.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(json.dumps(row, indent=1), flush=True)


if __name__ == "__main__":
    check(int(sys.argv[1]))
