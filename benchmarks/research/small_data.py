"""Small-data recipe screen: validation accuracy of recipes when a run has few optimizer steps.

docs/performance.md section 6 ("Sizing the recipe to the data"): the N x epochs table (raw runs
in small/screen.jsonl) and the "Odd datasets" table (small/odd.jsonl). Each run: a stratified
N-image training subset (seed 0), 1,000 validation images from outside it, 2,000 test images
(stratified); trains from scratch and appends one JSON line to OUT. Recipes are compared on the
VALIDATION accuracy; test is recorded for the benchmark, never used to choose. Resumable: a
(dataset, N, epochs, model, kind) already in OUT is skipped. RUNS are MODEL:KIND, MODEL a
registry name or `peer` (keras-io mnist_convnet), KIND one of `recipe_for`'s (cur = `auto`).

    python small_data.py OUT.jsonl DATASETS SIZES EPOCHS RUNS

The tables' runs (from benchmarks/research, data from $CNNBENCH_DATA_DIR):

    python small_data.py small/screen.jsonl cifar10 500,2000 3,10 \
        peer:peer,custom:cur,custom:sgd_s,custom:adamw_s,alexnet:cur,alexnet:adamw_s
    python small_data.py small/screen.jsonl cifar10 8000 3 \
        peer:peer,custom:cur,custom:sgd_s,custom:adamw_s
    python small_data.py small/screen.jsonl cifar10 500 3 custom_v2:cur,custom_v2:adamw_t800_16_2e-3
    python small_data.py small/odd.jsonl cifar2,pairs100 2000 3,10 \
        peer:peer,custom:cur,custom_v2:cur,alexnet:cur

(`cur` now means today's `recipe="auto"`, so these rerun the rule, not the previous defaults
the first table's `cur` column measured.)
"""

import json
import math
import os
import sys
import time
from pathlib import Path

import keras

from cnnbench import build_model, evaluate, get_recipe, load_dataset, set_seed, train

TOTALS = {"mnist": 60000, "cifar10": 50000, "pairs100": 60000, "cifar2": 10000}


def odd_dataset(name):
    """Odd shapes and class counts built from the offline files.

    pairs100: two MNIST digits side by side, 28x56 grayscale, 100 classes ("00".."99").
    cifar2: CIFAR-10 airplane vs ship, 32x32 RGB, 2 classes.
    """
    import numpy as np

    from cnnbench.data import from_arrays

    folder = Path(os.environ["CNNBENCH_DATA_DIR"])
    if name == "pairs100":
        d = np.load(folder / "mnist.npz")
        rng = np.random.default_rng(0)

        def pairs(x, y):
            a, b = rng.permutation(len(x)), rng.permutation(len(x))
            return np.concatenate([x[a], x[b]], axis=2), y[a] * 10 + y[b]

        return from_arrays(
            *pairs(d["x_train"], d["y_train"]),
            *pairs(d["x_test"], d["y_test"]),
            name="pairs100",
            sample_fraction=1.0,
            val_fraction=0.02,
        )
    d = np.load(folder / "cifar10.npz")
    keep, keep_t = np.isin(d["y_train"], (0, 8)), np.isin(d["y_test"], (0, 8))
    return from_arrays(
        d["x_train"][keep],
        (d["y_train"][keep] == 8).astype(int),
        d["x_test"][keep_t],
        (d["y_test"][keep_t] == 8).astype(int),
        class_names=["airplane", "ship"],
        name="cifar2",
        augmentations=("rotation", "translation", "zoom", "horizontal_flip"),
    )


def step_batch(n, epochs, target=400, lo=32, hi=256):
    """Largest power of two in [lo, hi] giving at least `target` optimizer steps in all."""
    b = hi
    while b > lo and math.ceil(n / b) * epochs < target:
        b //= 2
    return b


def peer(input_shape, num_classes):
    """keras-io examples/vision/mnist_convnet.py, verbatim architecture."""
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(num_classes, activation="softmax"),
        ],
        name="mnist_convnet",
    )


def recipe_for(kind, n, epochs):
    b = step_batch(n, epochs)
    if kind == "cur":
        return "auto", None
    if kind == "sgd_s":  # SGD one-cycle, lr scaled linearly with the batch
        return get_recipe("fast", learning_rate=0.2 * b / 256, batch_size=b), b
    if kind == "adamw_s":  # AdamW one-cycle 2e-3 at the step-target batch
        return get_recipe("fast_plain", batch_size=b), b
    if kind == "adamw_s1":
        return get_recipe("fast_plain", batch_size=b, learning_rate=1e-3), b
    if kind == "adam_c":  # the peer's constant Adam 1e-3, at the step-target batch
        return get_recipe("original", batch_size=b, label_smoothing=0.1), b
    if kind.startswith("adamw_t"):  # adamw_t<target>_<lo>_<lr>: one-cycle AdamW, more steps
        target, lo, lr = kind[len("adamw_t") :].split("_")
        b = step_batch(n, epochs, target=int(target), lo=int(lo))
        return get_recipe("fast_plain", batch_size=b, learning_rate=float(lr)), b
    if kind.startswith("sgd_t"):  # sgd_t<target>_<lo>: one-cycle SGD, lr linear in the batch
        target, lo = kind[len("sgd_t") :].split("_")
        b = step_batch(n, epochs, target=int(target), lo=int(lo))
        return get_recipe("fast", batch_size=b, learning_rate=0.2 * b / 256), b
    if kind == "peer":
        return get_recipe("original", batch_size=128), 128
    raise SystemExit(f"unknown recipe kind {kind}")


def main():
    out = Path(sys.argv[1])
    datasets = sys.argv[2].split(",")
    sizes = [int(s) for s in sys.argv[3].split(",")]
    epoch_list = [int(s) for s in sys.argv[4].split(",")]
    runs = [r.split(":") for r in sys.argv[5].split(",")]
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["dataset"], r["n"], r["epochs"], r["model"], r["kind"]))
    for name in datasets:
        for n in sizes:
            loader = load_dataset
            if name in ("pairs100", "cifar2"):
                full = odd_dataset(name)

                def loader(_name, sample_fraction, seed, val_fraction, test_fraction, full=full):
                    from cnnbench.data import from_arrays

                    return from_arrays(
                        full.x_train,
                        full.y_train,
                        full.x_test,
                        full.y_test,
                        class_names=full.class_names,
                        name=full.name,
                        sample_fraction=sample_fraction,
                        seed=seed,
                        val_fraction=val_fraction,
                        test_fraction=test_fraction,
                        augmentations=full.augmentations,
                    )

            ds = loader(
                name,
                sample_fraction=n / TOTALS[name],
                seed=0,
                val_fraction=1000 / TOTALS[name],
                test_fraction=0.2,
            )
            for epochs in epoch_list:
                for model_name, kind in runs:
                    if (name, n, epochs, model_name, kind) in done:
                        continue
                    set_seed(0)
                    if model_name == "peer":
                        model = peer(ds.input_shape, ds.num_classes)
                    else:
                        model = build_model(model_name, ds.input_shape, ds.num_classes)
                    recipe, batch = recipe_for(kind, len(ds.x_train), epochs)
                    start = time.perf_counter()
                    r = train(model, ds, epochs=epochs, recipe=recipe, batch_size=batch, verbose=0)
                    ev = evaluate(model, ds, timing=False)
                    row = {
                        "dataset": name,
                        "n": n,
                        "train_images": len(ds.x_train),
                        "epochs": epochs,
                        "model": model_name,
                        "kind": kind,
                        "batch": r.config["batch_size"],
                        "recipe": r.config["recipe"]["name"],
                        "val": round(r.history["val_accuracy"][-1], 4),
                        "val_curve": [round(v, 3) for v in r.history["val_accuracy"]],
                        "test": round(ev.accuracy, 4),
                        "s": round(time.perf_counter() - start, 1),
                    }
                    print(json.dumps(row), flush=True)
                    with out.open("a") as f:
                        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
