"""Augmentation throughput (img/s, no model): ImageDataGenerator vs tf.data pipelines.

docs/performance.md section 1 ("Augmentation throughput (no model)"). The original's
`ImageDataGenerator(rotation 15, shifts 0.1, hflip, zoom 0.1).flow` against Keras
preprocessing layers mapped over whole batches in tf.data (the same four, each alone, the
cheap pairs) and a per-image `tf.image` flip + reflect-pad-4 random crop (`tf.gather`), on the
first 12,500 JPEG-derived CIFAR-10 training images (uint8, `.cache()`d). One line per pipeline.

    python aug_bench.py    (from benchmarks/research; data from $CNNBENCH_DATA_DIR,
                            default ../../../shared/data)
"""

import os
import time

import keras
import numpy as np
import tensorflow as tf
from keras import layers

# The public alias was removed in Keras 3.15; the original recipe needs the legacy class.
from keras.src.legacy.preprocessing.image import ImageDataGenerator

DATA = os.environ.get("CNNBENCH_DATA_DIR", "../../../shared/data")
AUTOTUNE = tf.data.AUTOTUNE
N = 12500

d = np.load(os.path.join(DATA, "cifar10.npz"))
x, y = d["x_train"][:N], d["y_train"][:N].reshape(-1)


def timeit(name, it, n_batches):
    """Print the img/s of the first `n_batches` batches of the iterator `it`."""
    t0 = time.perf_counter()
    cnt = 0
    for i, b in enumerate(it):
        cnt += int(b[0].shape[0])
        if i + 1 >= n_batches:
            break
    dt = time.perf_counter() - t0
    print(f"{name:55s} {cnt / dt:9.0f} img/s ({cnt} imgs, {dt:.1f}s)", flush=True)


def make(augs, bs):
    """tf.data pipeline: cache, shuffle, batch, the Keras layers `augs` on float32 batches."""
    seq = keras.Sequential(augs)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache().shuffle(N, seed=0).batch(bs)
    ds = ds.map(
        lambda a, b: (seq(tf.cast(a, tf.float32), training=True), b),
        num_parallel_calls=AUTOTUNE,
    )
    return ds.prefetch(AUTOTUNE)


def full4():
    return [
        layers.RandomRotation(15 / 360),
        layers.RandomTranslation(0.1, 0.1),
        layers.RandomFlip("horizontal"),
        layers.RandomZoom(0.1),
    ]


def tfaug(a, b):
    """Per-image flip + reflect-pad-4 random crop of a uint8 batch (raw tf.image / tf.gather)."""
    a = tf.image.random_flip_left_right(a)
    a = tf.pad(a, [[0, 0], [4, 4], [4, 4], [0, 0]], mode="REFLECT")
    n = tf.shape(a)[0]
    ox = tf.random.uniform([n], 0, 9, tf.int32)
    oy = tf.random.uniform([n], 0, 9, tf.int32)
    idx_y = oy[:, None] + tf.range(32)[None]
    idx_x = ox[:, None] + tf.range(32)[None]
    a = tf.gather(a, idx_y, axis=1, batch_dims=1)
    a = tf.gather(a, idx_x, axis=2, batch_dims=1)
    return a, b


# 1. the original ImageDataGenerator
idg = ImageDataGenerator(
    rotation_range=15,
    width_shift_range=0.1,
    height_shift_range=0.1,
    horizontal_flip=True,
    zoom_range=0.1,
)
it = idg.flow(x, y, batch_size=64, seed=0)
next(it)
timeit("ImageDataGenerator.flow 4 augs bs64", it, N * 2 // 64)

# 2. Keras layers in tf.data
for bs in (64, 256):
    ds = make(full4(), bs)
    timeit(f"tf.data keras 4 augs (rot,trans,flip,zoom) bs{bs}", iter(ds.repeat()), N * 4 // bs)
PIPELINES = {
    "RandomFlip": lambda: [layers.RandomFlip("horizontal")],
    "RandomTranslation(0.1)": lambda: [layers.RandomTranslation(0.1, 0.1)],
    "RandomRotation(15deg)": lambda: [layers.RandomRotation(15 / 360)],
    "RandomZoom(0.1)": lambda: [layers.RandomZoom(0.1)],
    "ZeroPad4+RandomCrop32": lambda: [layers.ZeroPadding2D(4), layers.RandomCrop(32, 32)],
    "Flip+Translation": lambda: [
        layers.RandomFlip("horizontal"),
        layers.RandomTranslation(0.1, 0.1),
    ],
    "Flip+Pad+RandomCrop": lambda: [
        layers.RandomFlip("horizontal"),
        layers.ZeroPadding2D(4),
        layers.RandomCrop(32, 32),
    ],
    "none (cast only)": lambda: [layers.Identity()],
}
for name, augs in PIPELINES.items():
    ds = make(augs(), 256)
    timeit(f"tf.data {name} bs256", iter(ds.repeat()), N * 4 // 256)

# 3. raw tf.image ops: per-image flip + reflect-pad crop, vectorised over the batch
ds = (
    tf.data.Dataset.from_tensor_slices((x, y))
    .cache()
    .shuffle(N, seed=0)
    .batch(256)
    .map(tfaug, num_parallel_calls=AUTOTUNE)
    .prefetch(AUTOTUNE)
)
timeit("tf.data tf.image flip + reflect-pad4 crop (uint8) bs256", iter(ds.repeat()), N * 4 // 256)
