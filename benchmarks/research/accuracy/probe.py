"""Accuracy probes for ``custom`` (residual candidates + tricks) and ``alexnet`` (recipe only).

Measures final-epoch **validation** accuracy (and with flip test-time augmentation: the softmax
averaged over each image and its mirror) on the 25% CIFAR-10 sample (JPEG-derived copy, seed-42
sample: 12,500 training, 5,000 validation images); the test set is never evaluated. A config is
an architecture, optionally followed by ``+modifier`` terms, each changing one thing:

* architectures: ``custom`` (the package's previous ``custom``, ``candidates.pool_first``: 294k),
  ``custom_wide`` (stem 24, widths 48-96-192),
  the residual candidates of ``candidates.py`` (``res_pf``, ``resnet9``, ``airbench_s``), and
  ``alexnet`` (fixed). The ``custom`` family trains with ``augment_policy="crop_flip_cutout"``,
  ``alexnet`` with ``"original"`` (the study's).
* recipe: ``recipe="auto"`` resolved by ``plan_recipe`` for the model and epochs (SGD one-cycle
  for BatchNorm nets, AdamW one-cycle for alexnet), then ``wd=X`` (weight decay, Keras'
  convention: decay per step = learning rate x X), ``lrx=F`` (peak learning rate x F),
  ``ls=X`` (label smoothing), ``warm=X`` (warm-up fraction), ``bs=N`` (batch size, learning
  rate scaled as ``auto`` scales it).
* architecture: ``res=B`` (blocks ``B``, dot-separated, get airbench96's third conv-BN-GELU
  added back to the block's pooled activation; candidates only), ``bnbias`` (BatchNorm without
  scale, shift re-parametrised so SGD moves it 16x faster; candidates only), ``w=A.B.C`` (the
  three blocks' widths; ``airbench_s``: 64.128.192), ``temp=X``
  (``airbench_s``'s logit scale, 1/9 by default).
* optimizer: ``ema=M`` (Keras's ``use_ema``: an exponential moving average of the weights with
  momentum ``M`` a step over the whole run, copied into the model when training ends);
  ``la`` (airbench94's lookahead, :func:`lookahead`).
* augmentation: ``altflip`` (airbench94's alternating flip: an image's mirroring alternates
  from epoch to epoch, random only in the first, instead of a fresh coin each epoch), ``t2``
  (airbench's flip + translate by up to 2 pixels, no Cutout, instead of crop pad 4 + Cutout 8),
  ``cut=N`` (Cutout's square N pixels a side instead of 8, as airbench96's 12 for its 40-epoch
  runs), ``orig`` / ``cfc`` (the other policy); ``cutmix`` / ``mixup=A`` (Keras's ``CutMix`` /
  ``MixUp(alpha=A)`` on every training batch, after the policy's augmentation: images and
  one-hot labels mixed with a shuffled copy of the batch).

Epochs, batch and seeds are the same on both sides of every comparison; the one-cycle schedule
always runs to its end. One JSON line per (config, epochs, seed) to ``probes.jsonl``;
recorded runs are skipped, so an interrupted queue resumes. From the repository root::

    export CNNBENCH_DATA_DIR=../shared/data
    nice -n 19 python benchmarks/research/accuracy/probe.py run EPOCHS SEEDS CONFIG [CONFIG ...]
    python benchmarks/research/accuracy/probe.py summary    # tables, paired vs each baseline

(SEEDS comma-separated, e.g. ``0,1``.) The baseline of ``A+m1+m2`` is ``A+m1``; that of a bare
candidate architecture is ``custom``; both at the same epochs, paired over shared seeds.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import candidates  # noqa: E402

OUT = Path(__file__).parent / "probes.jsonl"

ARCHS = {
    # "custom" is the pool-first net the package's custom was before airbench_s replaced it.
    "custom": ("the previous custom (pool-first, stem 16, widths 32-64-128)", None),
    "custom_wide": (
        "the previous custom widened: stem 24, widths 48-96-192",
        {"stem": 24, "widths": (48, 96, 192)},
    ),
    "res_pf": ("pool-first residual: stem 32, 48-96-192, residual stages 1+3", candidates.res_pf),
    "resnet9": ("ResNet-9 (conv-pool): prep 24, 48-96-192, residual 1+3", candidates.resnet9),
    "airbench_s": ("airbench94 layout, 2x2 stem 24, 64-128-192, GELU", candidates.airbench_s),
    "alexnet": ("alexnet (architecture fixed)", None),
}


def records():
    if not OUT.exists():
        return []
    return [json.loads(line) for line in OUT.read_text().splitlines() if line.strip()]


def parse(config: str):
    arch, *mods = config.split("+")
    if arch not in ARCHS:
        raise SystemExit(f"unknown architecture {arch!r}; valid: {sorted(ARCHS)}")
    out = {"arch": arch, "overrides": {}, "arch_kw": {}, "policy": None, "aug_kw": {}, "bs": None}
    for mod in mods:
        key, _, value = mod.partition("=")
        if key == "wd":
            out["overrides"]["weight_decay"] = float(value)
        elif key == "ls":
            out["overrides"]["label_smoothing"] = float(value)
        elif key == "warm":
            out["overrides"]["warmup_fraction"] = float(value)
        elif key == "lrx":
            out["lrx"] = float(value)
        elif key == "bs":
            out["bs"] = int(value)
        elif key == "temp":  # the logits' scale before the softmax (airbench_s: 1/9)
            out["arch_kw"]["logit_scale"] = float(value)
        elif key == "w":  # the blocks' widths, dot-separated (airbench_s: 64.128.192)
            out["arch_kw"]["widths"] = tuple(int(w) for w in value.split("."))
        elif key == "res":  # e.g. res=2 or res=1.2: the blocks given airbench96's third conv
            out["arch_kw"]["residual_blocks"] = tuple(int(b) for b in value.split("."))
        elif key == "bnbias":
            out["arch_kw"].update(bn_scale=False, bias_boost=4.0)
        elif key == "ema":  # Keras's weight EMA over the whole run, momentum per step
            out["ema"] = float(value)
        elif key == "la":
            out["la"] = True
        elif key == "altflip":
            out["altflip"] = True
        elif key == "t2":
            out["policy"], out["aug_kw"] = "crop_flip_cutout", {"pad": 2, "cutout": 0}
        elif key == "cut":  # Cutout's side in pixels (crop_flip_cutout: 8; airbench96: 12)
            out["policy"], out["aug_kw"] = "crop_flip_cutout", {"cutout": int(value)}
        elif key == "cutmix":
            out["mix"] = ("CutMix", {})
        elif key == "mixup":
            out["mix"] = ("MixUp", {"alpha": float(value)})
        elif key in ("orig", "cfc"):
            out["policy"] = {"orig": "original", "cfc": "crop_flip_cutout"}[key]
        else:
            raise SystemExit(f"unknown modifier {mod!r} in {config!r}")
    if out["policy"] is None:
        out["policy"] = "original" if arch == "alexnet" else "crop_flip_cutout"
    return out


def build(spec, input_shape, num_classes):
    from cnnbench import build_model

    arch = spec["arch"]
    if arch in ("custom", "alexnet", "custom_wide"):
        if spec["arch_kw"]:
            raise SystemExit(f"{arch} takes no architecture modifiers")
        if arch == "alexnet":
            return build_model("alexnet", input_shape, num_classes)
        return candidates.pool_first(input_shape, num_classes, **(ARCHS[arch][1] or {}))
    return ARCHS[arch][1](input_shape, num_classes, **spec["arch_kw"])


def train_one(ds, config, epochs, seed):
    """Train ``config`` on ``ds`` for ``epochs`` with ``seed``; returns (model, result, recipe)."""
    import cnnbench.training as training
    from cnnbench import set_seed, train

    spec = parse(config)
    set_seed(seed)
    model = build(spec, ds.input_shape, ds.num_classes)
    plan = training.plan_recipe("auto", model, len(ds.x_train), epochs=epochs)
    recipe = plan.recipe.with_overrides(**spec["overrides"])
    if spec["bs"]:
        ratio = spec["bs"] / recipe.batch_size
        scale = ratio if recipe.optimizer == "sgd" else math.sqrt(ratio)
        recipe = recipe.with_overrides(
            batch_size=spec["bs"], learning_rate=recipe.learning_rate * scale
        )
    if "lrx" in spec:
        recipe = recipe.with_overrides(learning_rate=recipe.learning_rate * spec["lrx"])
    original_builder, original_dataset = training.build_augmenter, training.train_dataset
    original_optimizer = training._optimizer
    if spec["aug_kw"]:
        training.build_augmenter = functools.partial(original_builder, **spec["aug_kw"])
    if "mix" in spec:
        training.train_dataset = functools.partial(mixed_dataset, original_dataset, spec["mix"])
    if spec.get("altflip"):
        training.build_augmenter = functools.partial(without_flip, training.build_augmenter)
        training.train_dataset = alternating_flip_dataset
    if "ema" in spec:
        training._optimizer = functools.partial(ema_optimizer, original_optimizer, spec["ema"])
    callbacks = []
    if spec.get("la"):
        callbacks.append(lookahead(epochs * math.ceil(len(ds.x_train) / recipe.batch_size)))
    try:
        result = train(
            model,
            ds,
            augment=True,
            augment_policy=spec["policy"],
            seed=seed,
            recipe=recipe,
            verbose=0,
            callbacks=callbacks,
        )
    finally:
        training.build_augmenter, training.train_dataset = original_builder, original_dataset
        training._optimizer = original_optimizer
    return model, result, recipe


def lookahead(total_steps, every=5, decay=0.95**5):
    """airbench94's lookahead (Zhang et al. 2019, "Lookahead Optimizer: k steps forward, 1 step
    back", as airbench94 schedules it), a Keras callback: every ``every`` steps a slow copy of
    the weights moves towards the model's, ``slow = d * slow + (1 - d) * weights``, and the
    model restarts from it; ``d`` grows as ``decay * (step / total_steps) ** 3``, so it barely
    acts early and averages the last steps of the anneal. The model ends on the slow copy. Every
    float weight takes part, BatchNorm's moving statistics included, as in airbench."""
    import keras

    class Lookahead(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.tracked = [w for w in self.model.weights if "float" in str(w.dtype)]
            self.slow = [keras.ops.copy(w.value) for w in self.tracked]
            self.step = 0

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            if self.step % every == 0:
                d = decay * min(self.step / total_steps, 1.0) ** 3
                for i, w in enumerate(self.tracked):
                    self.slow[i] = d * self.slow[i] + (1 - d) * w.value
                    w.assign(self.slow[i])

        def on_train_end(self, logs=None):
            for w, slow in zip(self.tracked, self.slow, strict=True):
                w.assign(slow)

    return Lookahead()


def ema_optimizer(optimizer, momentum, *args):
    """``optimizer(*args)`` keeping an EMA of the weights, which ``fit()`` copies in at its end
    (Keras's ``use_ema``; validation during training sees the raw weights)."""
    opt = optimizer(*args)
    opt.use_ema, opt.ema_momentum, opt.ema_overwrite_frequency = True, momentum, None
    return opt


def without_flip(build_augmenter, augmentations, **kwargs):
    """The policy's augmenter with its random flip left out (the pipeline flips instead)."""
    return build_augmenter([a for a in augmentations if a != "horizontal_flip"], **kwargs)


def alternating_flip_dataset(x, y, num_classes, *, batch_size, seed, augmenter, class_weights):
    """airbench94's alternating flip: each image is mirrored at random in the first epoch and
    in every other epoch after, the opposite of the epoch before, so every pair of epochs sees
    it both ways. The epoch's parity comes from a counter the dataset bumps each time ``fit()``
    starts iterating it."""
    import tensorflow as tf

    from cnnbench.pipeline import _to_model_inputs

    if class_weights is not None:
        raise SystemExit("altflip takes no class weights")
    first = np.random.default_rng(seed).random(len(x)) < 0.5
    epoch = tf.Variable(-1, dtype=tf.int64, trainable=False)
    base = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int64), first))
    base = base.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)

    def one_epoch(e):
        def flip(images, labels, first):
            mirrored = tf.math.logical_xor(first, tf.equal(e % 2, 1))
            images = tf.where(mirrored[:, None, None, None], tf.reverse(images, [2]), images)
            return images, labels

        return base.map(flip)

    data = tf.data.Dataset.from_tensors(0).map(lambda _: epoch.assign_add(1)).flat_map(one_epoch)
    data = data.apply(tf.data.experimental.assert_cardinality(math.ceil(len(x) / batch_size)))
    data = data.map(_to_model_inputs(num_classes))
    if augmenter is not None:
        data = data.map(lambda images, labels: (augmenter(images, training=True), labels))
    return data.prefetch(tf.data.AUTOTUNE)


def mixed_dataset(train_dataset, mix, *args, seed, **kwargs):
    """``train_dataset(...)``, then Keras's CutMix or MixUp on every (augmented) batch."""
    import keras

    name, kw = mix
    layer = getattr(keras.layers, name)(seed=seed, **kw)

    def apply(images, labels):
        out = layer({"images": images, "labels": labels}, training=True)
        return out["images"], out["labels"]

    return train_dataset(*args, seed=seed, **kwargs).map(apply)


def run_one(ds, config, epochs, seed, hardware):
    from cnnbench.evaluation import predict_proba

    spec = parse(config)
    model, result, recipe = train_one(ds, config, epochs, seed)
    # flip TTA is the summary's column; airbench94's six views are kept to choose a mode later
    tta, six = (predict_proba(model, ds.x_val, tta=m) for m in ("flip", "flip_translate"))
    times = result.epoch_times_s
    return {
        "config": config,
        "description": " + ".join([ARCHS[spec["arch"]][0], *config.split("+")[1:]]),
        "seed": seed,
        "epochs": epochs,
        "params": int(model.count_params()),
        "batch_size": recipe.batch_size,
        "augment_policy": spec["policy"],
        "augment_kw": spec["aug_kw"],
        "recipe": result.config["recipe"],
        "val_acc": result.history["val_accuracy"][-1],
        "val_acc_tta": float((tta.argmax(1) == ds.y_val).mean()),
        "val_acc_flip_translate": float((six.argmax(1) == ds.y_val).mean()),
        "train_acc": result.history["accuracy"][-1],
        "val_history": [round(v, 4) for v in result.history["val_accuracy"]],
        "train_s": result.train_time_s,
        "sec_per_epoch": float(np.median(times[1:] if len(times) > 1 else times)),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "hardware": hardware,
    }


def run(epochs, seeds, configs):
    from cnnbench import environment_info, load_dataset

    for config in configs:
        parse(config)  # fail early on a typo
    ds = load_dataset("cifar10", sample_fraction=0.25, seed=42)  # from $CNNBENCH_DATA_DIR
    hardware = environment_info()["hardware"]
    for seed in seeds:  # seed-major: both sides of a comparison finish early
        for config in configs:
            done = {(r["config"], r["epochs"], r["seed"]) for r in records()}
            if (config, epochs, seed) in done:
                continue
            start = time.time()
            row = run_one(ds, config, epochs, seed, hardware)
            with OUT.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(
                f"{config} e{epochs} s{seed}: val {row['val_acc']:.4f} tta {row['val_acc_tta']:.4f}"
                f" flip_translate {row['val_acc_flip_translate']:.4f}"
                f" {row['sec_per_epoch']:.1f} s/epoch ({time.time() - start:.0f} s)",
                flush=True,
            )


def baseline_of(config):
    if "+" in config:
        return config.rsplit("+", 1)[0]
    return None if config in ("custom", "alexnet") else "custom"


def cell(v):
    """Mean ± standard deviation (ddof 1) of a list of percentages; the value alone for one."""
    return f"{np.mean(v):.2f} ± {np.std(v, ddof=1):.2f}" if len(v) > 1 else f"{v[0]:.2f}"


def summary():
    from cnnbench.stats import paired_test

    rows = records()
    runs = {(r["config"], r["epochs"], r["seed"]): r for r in rows}
    print(
        "| config | params | epochs | batch | seeds | val (%) | val + flip TTA (%) | vs | "
        "diff val (pp) | diff TTA (pp) | p t | sec/epoch |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|")

    for config, epochs in dict.fromkeys((r["config"], r["epochs"]) for r in rows):
        seeds = sorted(s for (c, e, s) in runs if (c, e) == (config, epochs))
        mine = [runs[config, epochs, s] for s in seeds]
        val = [100 * r["val_acc"] for r in mine]
        tta = [100 * r["val_acc_tta"] for r in mine]
        base = baseline_of(config)
        shared = [s for s in seeds if (base, epochs, s) in runs]
        vs, dv, dt, pt = "–", "–", "–", "–"
        if base and shared:
            a = [100 * runs[config, epochs, s]["val_acc"] for s in shared]
            b = [100 * runs[base, epochs, s]["val_acc"] for s in shared]
            at = [100 * runs[config, epochs, s]["val_acc_tta"] for s in shared]
            bt = [100 * runs[base, epochs, s]["val_acc_tta"] for s in shared]
            vs = f"{base} (seeds {','.join(map(str, shared))})"
            per = "/".join(f"{x - y:+.1f}" for x, y in zip(a, b, strict=True))
            dv = f"{np.mean(a) - np.mean(b):+.2f} ({per})"
            dt = f"{np.mean(at) - np.mean(bt):+.2f}"
            if len(shared) >= 2:
                pt = f"{paired_test(a, b).p_t:.2g}"
        spe = np.mean([r["sec_per_epoch"] for r in mine])
        print(
            f"| {config} | {mine[0]['params']:,} | {epochs} | {mine[0]['batch_size']} | "
            f"{','.join(map(str, seeds))} | {cell(val)} | {cell(tta)} | {vs} | {dv} | {dt} | "
            f"{pt} | {spe:.1f} |"
        )


if __name__ == "__main__":
    if sys.argv[1] == "summary":
        summary()
    else:
        run(int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")], sys.argv[4:])
