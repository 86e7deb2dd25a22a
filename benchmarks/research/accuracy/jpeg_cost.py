"""What the JPEG-derived CIFAR-10 pixels cost: the same images, lossless vs JPEG-decoded.

Trains the current ``custom`` with ``train(model, ds, augment=True, seed=SEED)`` and every other
argument at its default (recipe "auto", the original's augmentation, 12 epochs) on CIFAR-10
training images 0-3999 in both pixel versions: ``lossless`` (``cifar10_lossless_subset.npz``,
the original pixels) and ``jpeg`` (the same indices of ``cifar10.npz``); labels are checked to
agree. Both datasets come from ``cnnbench.data.from_arrays(..., sample_fraction=1.0,
val_fraction=0.1, seed=42, augmentations=AUGMENTATIONS)``: the validation split (10% of each
class, 400 images, carved from the 4,000) depends only on the labels and the seed, so it is the
same indices in both versions (checked); 3,600 images are trained on. Every trained model is
then tested on both versions of test images 0-999. The purpose is to measure the test-set
penalty of the JPEG copy, so here (and only here) the test images are evaluated; nothing is
chosen on them.

One JSON line per (train version, seed) to ``jpeg_cost.jsonl`` (resumable: recorded runs are
skipped). Run from the repository root::

    export CNNBENCH_DATA_DIR=../shared/data
    nice -n 19 python benchmarks/research/accuracy/jpeg_cost.py run 0,1,2
    python benchmarks/research/accuracy/jpeg_cost.py summary     # the 2x2 table and penalties
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).parent / "jpeg_cost.jsonl"
VERSIONS = ("lossless", "jpeg")


def load_versions():
    """``{version: (x_train, y_train, x_test, y_test)}`` for train 0-3999 and test 0-999."""
    data_dir = Path(os.environ.get("CNNBENCH_DATA_DIR", "../shared/data"))
    lossless = np.load(data_dir / "cifar10_lossless_subset.npz")
    jpeg = np.load(data_dir / "cifar10.npz")
    assert (lossless["idx_train"] == np.arange(4000)).all()
    assert (lossless["idx_test"] == np.arange(1000)).all()
    out = {
        "lossless": tuple(lossless[k] for k in ("x_train", "y_train", "x_test", "y_test")),
        "jpeg": (
            jpeg["x_train"][:4000],
            jpeg["y_train"][:4000],
            jpeg["x_test"][:1000],
            jpeg["y_test"][:1000],
        ),
    }
    for i in (1, 3):  # labels agree
        a, b = (np.asarray(out[v][i]).reshape(-1) for v in VERSIONS)
        assert (a == b).all(), "labels differ between the two versions"
    return out


def records():
    if not OUT.exists():
        return []
    return [json.loads(line) for line in OUT.read_text().splitlines() if line.strip()]


def run(seeds):
    from cnnbench import build_model, environment_info, set_seed, train
    from cnnbench.data import AUGMENTATIONS, from_arrays
    from cnnbench.evaluation import predict_proba

    arrays = load_versions()
    datasets = {
        v: from_arrays(
            *arrays[v],
            name=f"cifar10_0-3999_{v}",
            sample_fraction=1.0,
            val_fraction=0.1,
            seed=42,
            augmentations=AUGMENTATIONS,
        )
        for v in VERSIONS
    }
    a, b = datasets["lossless"], datasets["jpeg"]
    assert (a.train_indices == b.train_indices).all() and (a.val_indices == b.val_indices).all()
    assert (a.test_indices == b.test_indices).all()
    hardware = environment_info()["hardware"]
    done = {(r["train_version"], r["seed"]) for r in records()}
    for seed in seeds:
        for version in VERSIONS:
            if (version, seed) in done:
                continue
            ds = datasets[version]
            set_seed(seed)
            model = build_model("custom", ds.input_shape, ds.num_classes)
            result = train(model, ds, augment=True, seed=seed, verbose=0)
            row = {
                "train_version": version,
                "seed": seed,
                "train_images": len(ds.x_train),
                "val_images": len(ds.x_val),
                "val_indices_first": [int(i) for i in ds.val_indices[:5]],
                "epochs": result.epochs_run,
                "batch_size": result.config["batch_size"],
                "recipe": result.config["recipe"],
                "augment_policy": result.config["augment_policy"],
                "params": result.config["params"],
                "val_acc_own_version": result.history["val_accuracy"][-1],
                "train_s": result.train_time_s,
                "date": datetime.datetime.now().isoformat(timespec="seconds"),
                "hardware": hardware,
            }
            for test_version in VERSIONS:
                other = datasets[test_version]
                proba = predict_proba(model, other.x_test)
                row[f"test_acc_{test_version}"] = float((proba.argmax(1) == other.y_test).mean())
                proba = predict_proba(model, other.x_val)
                row[f"val_acc_{test_version}"] = float((proba.argmax(1) == other.y_val).mean())
            with OUT.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps({k: row[k] for k in row if k != "recipe"}), flush=True)


def summary():
    from cnnbench.stats import paired_test

    rows = {(r["train_version"], r["seed"]): r for r in records()}
    seeds = sorted({s for (_, s) in rows if all((v, s) in rows for v in VERSIONS)})

    def cell(values):
        return f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}"

    acc = {
        (tr, te): [100 * rows[tr, s][f"test_acc_{te}"] for s in seeds]
        for tr in VERSIONS
        for te in VERSIONS
    }
    print(f"seeds {seeds}; test images 0-999, accuracy (%) mean ± std over seeds")
    print("| train \\ test | lossless | jpeg |")
    print("|---|---:|---:|")
    for tr in VERSIONS:
        print(f"| {tr} | {cell(acc[tr, 'lossless'])} | {cell(acc[tr, 'jpeg'])} |")
    print()
    print("| paired difference (pp) | mean | per seed | p exact | p t |")
    print("|---|---:|---|---:|---:|")
    pairs = {
        "all lossless - all jpeg (the copy's penalty)": (
            ("lossless", "lossless"),
            ("jpeg", "jpeg"),
        ),
        "lossless test: trained lossless - trained jpeg": (
            ("lossless", "lossless"),
            ("jpeg", "lossless"),
        ),
        "jpeg test: trained lossless - trained jpeg": (("lossless", "jpeg"), ("jpeg", "jpeg")),
        "trained jpeg: lossless test - jpeg test": (("jpeg", "lossless"), ("jpeg", "jpeg")),
        "trained lossless: lossless test - jpeg test": (
            ("lossless", "lossless"),
            ("lossless", "jpeg"),
        ),
    }
    for label, (x, y) in pairs.items():
        t = paired_test(acc[x], acc[y])
        per = ", ".join(f"{a - b:+.1f}" for a, b in zip(acc[x], acc[y], strict=True))
        print(f"| {label} | {t.mean_difference:+.2f} | {per} | {t.p_exact:.2g} | {t.p_t:.2g} |")
    val = {v: [100 * rows[v, s]["val_acc_own_version"] for s in seeds] for v in VERSIONS}
    print(
        f"\nvalidation (400 images, own version): {', '.join(f'{v} {cell(val[v])}' for v in val)}"
    )
    secs = [rows[k]["train_s"] for k in rows]
    print(f"train s per run: {np.mean(secs):.0f} (n={len(secs)})")


if __name__ == "__main__":
    if sys.argv[1] == "summary":
        summary()
    else:
        run([int(s) for s in sys.argv[2].split(",")])
