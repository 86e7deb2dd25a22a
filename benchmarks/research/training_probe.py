"""Full training probe: per-epoch img/s and accuracy, final test accuracy with and without TTA.

docs/performance.md sections 3 ("dtype / XLA / threads", the real-training table) and 4
("Training runs", r1-r5 and mnist). Standalone (not `cnnbench.train`): a stratified split
(`--nval` validation images held out of the official training set, `--subset` of each class for
training), tf.data augmentation, SGD/Adam(W) with a one-cycle (or cosine, constant) schedule per
step, label smoothing, optional EMA, bf16 and XLA, thread settings, and horizontal-flip TTA at
the end. Architectures from `archs.py`, or the package's `custom` with `--custom`. Prints one
JSON line per epoch and a `RESULT {json}` line, and appends the result to `runs.jsonl`
(`training_probe_table.py` prints that file as a table).

The runs in the docs (from benchmarks/research; data from $CNNBENCH_DATA_DIR, default
../../../shared/data), K='{"stem":16,"widths":[32,64,128]}':

    r1:    python training_probe.py --arch ab24_48_96_192_pf --subset 1.0 --epochs 8 --bs 256
             --opt sgd --lr 0.2 --wd 5e-4 --ls 0.1 --aug crop --tag r1_full_ab24_48_crop
    r2:    python training_probe.py --custom --kw "$K" --subset 1.0 --epochs 6 --bs 256 --opt sgd
             --lr 0.2 --wd 5e-4 --ls 0.1 --aug crop --tag r2_full_custom16_32_6ep
    r4:    python training_probe.py --custom --subset 0.25 --epochs 12 --tag r4_25pct_custom_12ep
    r5:    python training_probe.py --custom --subset 1.0 --epochs 6 --aug fliptrans
             --tag r5_full_custom_fliptrans_6ep
    mnist: python training_probe.py --custom --kw "$K" --data mnist --subset 1.0 --epochs 2
             --aug none --tag mnist_custom16_2ep
    section 3: python training_probe.py --custom --kw "$K" --subset 0.25 --epochs 2 OPTS
             --tag TAG, with (OPTS, TAG) = ("", tp_fp32), (--bf16, tp_bf16), (--xla, tp_xla),
             ("--intra 0 --inter 0", tp_fp32_defaultthreads)

Defaults: SGD, lr 0.2, one-cycle with 20% warm-up, wd 5e-4, ls 0.1, bs 256, fliptrans, fp32,
intra 2 / inter 1.
"""

import argparse
import json
import os
import time

import keras
import numpy as np
import tensorflow as tf
from archs import ARCHS, flops
from keras import layers

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--arch", default="ab16_32_64_128_pf", help="a name from archs.ARCHS")
p.add_argument("--data", default="cifar10", help="cifar10|mnist (<name>.npz in the data folder)")
p.add_argument(
    "--subset", type=float, default=0.25, help="fraction of train set (stratified); 1.0 = all - val"
)
p.add_argument("--nval", type=int, default=5000)
p.add_argument("--epochs", type=int, default=10)
p.add_argument("--bs", type=int, default=256)
p.add_argument("--opt", default="sgd", help="sgd|adamw|adam")
p.add_argument("--lr", type=float, default=0.2)
p.add_argument("--wd", type=float, default=5e-4)
p.add_argument(
    "--warm", type=float, default=0.2, help="fraction of steps of linear warm-up, then decay to 0"
)
p.add_argument("--sched", default="onecycle", help="onecycle|cosine|const")
p.add_argument("--ls", type=float, default=0.1, help="label smoothing")
p.add_argument("--aug", default="fliptrans", help="none|flip|fliptrans|trans|crop|full4")
p.add_argument("--aug_where", default="data", help="data|model")
p.add_argument("--bf16", action="store_true")
p.add_argument("--xla", action="store_true")
p.add_argument("--ema", type=float, default=0.0, help="EMA momentum (0 = off)")
p.add_argument("--intra", type=int, default=2, help="intra-op threads (0 = TF default)")
p.add_argument("--inter", type=int, default=1, help="inter-op threads (0 = TF default)")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--mom", type=float, default=0.9, help="BN momentum")
p.add_argument("--custom", action="store_true", help="cnnbench.models.custom.custom, not --arch")
p.add_argument("--kw", default="{}", help="json overrides for the builder")
p.add_argument("--tag", default="")
a = p.parse_args()

if a.intra:
    tf.config.threading.set_intra_op_parallelism_threads(a.intra)
if a.inter:
    tf.config.threading.set_inter_op_parallelism_threads(a.inter)
if a.bf16:
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
keras.utils.set_random_seed(a.seed)

DATA = os.environ.get("CNNBENCH_DATA_DIR", "../../../shared/data")
d = np.load(os.path.join(DATA, f"{a.data}.npz"))
xtr, ytr = d["x_train"], d["y_train"].reshape(-1).astype(np.int64)
xte, yte = d["x_test"], d["y_test"].reshape(-1).astype(np.int64)
if xtr.ndim == 3:
    xtr, xte = xtr[..., None], xte[..., None]
rng = np.random.default_rng(a.seed)
C = int(ytr.max()) + 1
tr_idx, va_idx = [], []
for c in range(C):
    idx = rng.permutation(np.flatnonzero(ytr == c))
    nv = a.nval // C
    va_idx.append(idx[:nv])
    rest = idx[nv:]
    ntr = len(rest) if a.subset >= 1 else int(round(a.subset * len(idx)))
    tr_idx.append(rest[:ntr])
tr_idx = rng.permutation(np.concatenate(tr_idx))
va_idx = np.concatenate(va_idx)
xt, yt, xv, yv = xtr[tr_idx], ytr[tr_idx], xtr[va_idx], ytr[va_idx]
N, H, W, Ch = xt.shape
print(f"train {xt.shape} val {xv.shape} test {xte.shape}", flush=True)
flip_ok = a.data != "mnist"


def aug_layers():
    """The Keras augmentation layers of `--aug` (None for an unknown name)."""
    choices = {
        "none": lambda: [],
        "flip": lambda: [layers.RandomFlip("horizontal")],
        "fliptrans": lambda: [
            layers.RandomFlip("horizontal"),
            layers.RandomTranslation(0.125, 0.125, fill_mode="reflect"),
        ],
        "trans": lambda: [layers.RandomTranslation(0.1, 0.1)],
        "full4": lambda: [
            layers.RandomRotation(15 / 360),
            layers.RandomTranslation(0.1, 0.1),
            layers.RandomFlip("horizontal"),
            layers.RandomZoom(0.1),
        ],
    }
    return choices[a.aug]() if a.aug in choices else None


def crop_aug(x, y):
    """Per-image flip + reflect-pad-4 random crop on a uint8 batch."""
    if flip_ok:
        x = tf.image.random_flip_left_right(x)
    x = tf.pad(x, [[0, 0], [4, 4], [4, 4], [0, 0]], mode="REFLECT")
    n = tf.shape(x)[0]
    oy = tf.random.uniform([n], 0, 9, tf.int32)
    ox = tf.random.uniform([n], 0, 9, tf.int32)
    x = tf.gather(x, oy[:, None] + tf.range(H)[None], axis=1, batch_dims=1)
    x = tf.gather(x, ox[:, None] + tf.range(W)[None], axis=2, batch_dims=1)
    return x, y


def onehot(x, y):
    return x, tf.one_hot(y, C)


AUTOTUNE = tf.data.AUTOTUNE
ds = (
    tf.data.Dataset.from_tensor_slices((xt, yt))
    .cache()
    .shuffle(N, seed=a.seed, reshuffle_each_iteration=True)
    .batch(a.bs, drop_remainder=True)
)
model_aug = []
if a.aug == "crop":
    ds = ds.map(crop_aug, num_parallel_calls=AUTOTUNE)
elif a.aug != "none":
    al = aug_layers()
    if al is None:
        raise SystemExit(f"unknown --aug {a.aug}")
    if a.aug_where == "data":
        seq = keras.Sequential(al)
        ds = ds.map(
            lambda x, y: (seq(tf.cast(x, tf.float32), training=True), y),
            num_parallel_calls=AUTOTUNE,
        )
    else:
        model_aug = al
ds = ds.map(onehot, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)
steps_per_epoch = N // a.bs
total = steps_per_epoch * a.epochs


def build_core():
    kw = json.loads(a.kw)
    if a.custom:
        from cnnbench.models.custom import custom

        return custom((H, W, Ch), C, **kw)
    if a.arch == "custom_v2":
        return ARCHS[a.arch]((H, W, Ch), C)
    return ARCHS[a.arch](input_shape=(H, W, Ch), n=C, mom=a.mom, **kw)


core = build_core()
if model_aug:
    i = keras.Input((H, W, Ch))
    x = i
    for layer in model_aug:
        x = layer(x)
    model = keras.Model(i, core(x))
else:
    model = core


class Sched(keras.optimizers.schedules.LearningRateSchedule):
    """Per-step learning rate: linear warm-up over `--warm`, then `--sched` to 0."""

    def __call__(self, step):
        s = tf.cast(step, tf.float32)
        T = float(total)
        w = max(1.0, a.warm * T)
        if a.sched == "const":
            return tf.constant(a.lr)
        if a.sched == "cosine":
            return a.lr * tf.where(s < w, s / w, 0.5 * (1 + tf.cos(np.pi * (s - w) / (T - w))))
        return a.lr * tf.where(s < w, s / w, tf.maximum(0.0, (T - s) / (T - w)))


lr = Sched()
ema = dict(use_ema=True, ema_momentum=a.ema) if a.ema else {}
if a.opt == "sgd":
    opt = keras.optimizers.SGD(lr, momentum=0.9, nesterov=True, weight_decay=a.wd, **ema)
elif a.opt == "adamw":
    opt = keras.optimizers.AdamW(lr, weight_decay=a.wd, **ema)
elif a.opt == "adam":
    opt = keras.optimizers.Adam(lr, **ema)
else:
    raise SystemExit(f"unknown --opt {a.opt}")
model.compile(
    opt,
    keras.losses.CategoricalCrossentropy(label_smoothing=a.ls),
    metrics=["accuracy"],
    jit_compile=a.xla,
)


def evaluate(x, y, tta=False):
    """Accuracy of `core` on (x, y); with tta, softmax summed over the image and its mirror."""
    prob = core.predict(x, batch_size=500, verbose=0)
    if tta:
        prob = prob + core.predict(x[:, :, ::-1], batch_size=500, verbose=0)
    return float((prob.argmax(1) == y).mean())


hist = []


class CB(keras.callbacks.Callback):
    """Per-epoch training time and img/s, then validation accuracy (timed separately)."""

    def on_epoch_begin(self, epoch, logs=None):
        self.t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        dt = time.perf_counter() - self.t
        t1 = time.perf_counter()
        va = evaluate(xv, yv)
        et = time.perf_counter() - t1
        hist.append(
            dict(
                ep=epoch + 1,
                t=round(dt, 1),
                ips=round(steps_per_epoch * a.bs / dt),
                loss=round(logs["loss"], 4),
                acc=round(logs["accuracy"], 4),
                val=round(va, 4),
                eval_s=round(et, 1),
            )
        )
        print(json.dumps(hist[-1]), flush=True)


t0 = time.perf_counter()
model.fit(ds, epochs=a.epochs, verbose=0, callbacks=[CB()])
wall = time.perf_counter() - t0
if a.ema:  # swap in the EMA weights
    opt.finalize_variable_values(model.trainable_variables)
train_t = sum(h["t"] for h in hist)
res = dict(
    tag=a.tag,
    args=vars(a),
    params=core.count_params(),
    mflops=round(flops(core) / 1e6, 1),
    n_train=int(N),
    train_time_s=round(train_t, 1),
    wall_incl_val_s=round(wall, 1),
    img_s=round(N * a.epochs // a.bs * a.bs / train_t),
    val=evaluate(xv, yv),
    val_tta=evaluate(xv, yv, flip_ok),
    test=evaluate(xte, yte),
    test_tta=evaluate(xte, yte, flip_ok),
    hist=hist,
)
print("RESULT", json.dumps(res), flush=True)
with open(os.path.join(os.path.dirname(__file__), "runs.jsonl"), "a") as f:
    f.write(json.dumps(res) + "\n")
