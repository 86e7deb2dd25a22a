"""Accuracy levers for `custom` + augmentation on the 25% CIFAR-10 sample, on validation only.

docs/performance.md section 9 ("Accuracy levers for `custom` on the 25% sample"): the levers
table and the width-at-equal-wall-clock rows. Raw runs in small/levers.jsonl (one JSON line per
run is appended); `summary` prints the table from it, paired vs `base` at 12 epochs (a run of
other epochs is its own row).

    python cifar_levers.py EPOCHS SEEDS LEVER [LEVER ...]     (SEEDS: comma-separated, e.g. 0,1,2)
    python cifar_levers.py summary

Each lever changes one thing against `train()`'s defaults (recipe="auto", the original's
augmentation): `base`; `cfc` (augment_policy="crop_flip_cutout"); `ls2` (label smoothing 0.2
instead of 0.1); `ema` (Keras optimizer weight averaging, use_ema=True, momentum 0.99, the
averaged weights evaluated); `wide` (custom with stem 24, widths 48-96-192, 659k parameters);
`whiten` (airbench's patch whitening: the stem's 16 3x3 filters set to the 8 leading principal
components of the training images' 3x3 patches and their negatives, then frozen; the stem's
BatchNorm makes the per-component 1/sqrt(eigenvalue) scale moot, so none is applied);
`whiten_init` (the same start, the stem left trainable). Validation accuracy is measured after
the last epoch with and without flip test-time augmentation (the test set is never evaluated).

The table's runs, in order (from benchmarks/research, data from $CNNBENCH_DATA_DIR):

    python cifar_levers.py 12 0 base cfc ls2 ema wide
    python cifar_levers.py 12 1,2 base cfc wide
    python cifar_levers.py 12 0,1,2 whiten whiten_init
    python cifar_levers.py 6 0,1,2 wide
    python cifar_levers.py 24 0,1,2 base
    python cifar_levers.py 8 0,1,2 wide
    python cifar_levers.py summary
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

import cnnbench.training as training
from cnnbench import build_model, load_dataset, set_seed, train
from cnnbench.evaluation import predict_proba
from cnnbench.training import plan_recipe

out = Path(__file__).parent / "small" / "levers.jsonl"
if sys.argv[1] == "summary":
    from cnnbench.stats import paired_test

    rows = [json.loads(line) for line in out.read_text().splitlines()]
    for r in rows:  # a lever run for other than the defaults' 12 epochs is its own row
        r["lever"] += "" if r["epochs"] == 12 else f" x{r['epochs']} epochs"
    runs = {(r["lever"], r["seed"]): r for r in rows}

    def mean_sd(v):
        return f"{np.mean(v):.2f} ± {np.std(v, ddof=1):.2f}" if len(v) > 1 else f"{v[0]:.2f}"

    print(
        "| lever | seeds | val acc (%) | val + flip TTA (%) | vs base (pp) | p exact | p t "
        "| train s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for lever in dict.fromkeys(r["lever"] for r in rows):
        seeds = sorted(s for (name, s) in runs if name == lever)
        val = [100 * runs[lever, s]["val"] for s in seeds]
        tta = [100 * runs[lever, s]["val_tta"] for s in seeds]
        secs = np.mean([runs[lever, s]["train_s"] for s in seeds])
        paired = [s for s in seeds if ("base", s) in runs]
        if lever != "base" and len(paired) == 1:
            s = paired[0]
            vs = f"{100 * (runs[lever, s]['val'] - runs['base', s]['val']):+.2f} | – | –"
        elif lever != "base" and len(paired) >= 2:
            t = paired_test(
                [100 * runs[lever, s]["val"] for s in paired],
                [100 * runs["base", s]["val"] for s in paired],
            )
            vs = f"{t.mean_difference:+.2f} | {t.p_exact:.2g} | {t.p_t:.2g}"
        else:
            vs = "– | – | –"
        print(
            f"| {lever} | {','.join(map(str, seeds))} | {mean_sd(val)} | {mean_sd(tta)} | {vs} "
            f"| {secs:.0f} |"
        )
    sys.exit()
epochs, levers = int(sys.argv[1]), sys.argv[3:]
seeds = [int(s) for s in sys.argv[2].split(",")]
ds = load_dataset("cifar10", sample_fraction=0.25, seed=42)  # data from $CNNBENCH_DATA_DIR
make_optimizer = training._optimizer


def patch_basis(x, filters, kernel=3):
    """`filters` // 2 leading principal components of the images' kernel x kernel patches, +-."""
    import tensorflow as tf

    patches = tf.image.extract_patches(
        tf.constant(x[:5000], tf.float32) / 255,
        [1, kernel, kernel, 1],
        [1, 1, 1, 1],
        [1, 1, 1, 1],
        "VALID",
    )
    flat = patches.numpy().reshape(-1, kernel * kernel * x.shape[-1])  # (row, col, channel) order
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(flat, rowvar=False))
    top = eigenvectors[:, ::-1][:, : filters // 2].T.reshape(-1, kernel, kernel, x.shape[-1])
    return np.concatenate([top, -top]).transpose(1, 2, 3, 0)  # HWIO, like a Keras Conv2D kernel


def with_ema(recipe, total_steps):
    opt = make_optimizer(recipe, total_steps)
    opt.use_ema, opt.ema_momentum, opt.ema_overwrite_frequency = True, 0.99, None
    return opt


for seed in seeds:
    for lever in levers:
        set_seed(seed)
        kwargs = {"stem": 24, "widths": (48, 96, 192)} if lever == "wide" else {}
        model = build_model("custom", ds.input_shape, ds.num_classes, **kwargs)
        if lever in ("whiten", "whiten_init"):
            stem = model.get_layer("features").get_layer("stem_conv")
            stem.set_weights([patch_basis(ds.x_train, stem.filters)])
            stem.trainable = lever == "whiten_init"
        recipe = plan_recipe("auto", model, len(ds.x_train), epochs=epochs).recipe
        if lever == "ls2":
            recipe = recipe.with_overrides(label_smoothing=0.2)
        training._optimizer = with_ema if lever == "ema" else make_optimizer
        policy = "crop_flip_cutout" if lever == "cfc" else "original"
        t0 = time.perf_counter()
        run = train(
            model, ds, recipe=recipe, augment=True, augment_policy=policy, seed=seed, verbose=0
        )
        wall = time.perf_counter() - t0
        labels = np.asarray(ds.y_val)
        val = float(np.mean(predict_proba(model, ds.x_val).argmax(1) == labels))
        val_tta = float(np.mean(predict_proba(model, ds.x_val, tta=True).argmax(1) == labels))
        row = {
            "lever": lever,
            "seed": seed,
            "epochs": epochs,
            "batch": recipe.batch_size,
            "params": model.count_params(),
            "val_history": run.history["val_accuracy"],
            "val": val,
            "val_tta": val_tta,
            "train_acc": run.history["accuracy"][-1],
            "train_s": round(run.train_time_s, 1),
            "wall_s": round(wall, 1),
        }
        print(json.dumps(row), flush=True)
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")
