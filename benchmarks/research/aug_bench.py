"""Augmentation throughput (no model): ImageDataGenerator vs Keras-layer tf.data pipelines.
Usage: python aug_bench.py  (JPEG-derived CIFAR-10, 12,500-image stratified sample)"""
import os, time, sys
import numpy as np, tensorflow as tf, keras
from keras import layers
DATA = os.environ.get("CNNBENCH_DATA_DIR", "../../../shared/data")
d = np.load(os.path.join(DATA, "cifar10.npz"))
x, y = d["x_train"][:12500], d["y_train"][:12500].reshape(-1)
AUTOTUNE = tf.data.AUTOTUNE
res = {}
def timeit(name, it, n_batches, bs):
    t0 = time.perf_counter(); cnt = 0
    for i, b in enumerate(it):
        cnt += int(b[0].shape[0])
        if i + 1 >= n_batches: break
    dt = time.perf_counter() - t0
    print(f"{name:55s} {cnt/dt:9.0f} img/s ({cnt} imgs, {dt:.1f}s)", flush=True)
    res[name] = cnt / dt

# 1. original ImageDataGenerator
from keras.src.legacy.preprocessing.image import ImageDataGenerator  # public alias removed in Keras 3.15
idg = ImageDataGenerator(rotation_range=15, width_shift_range=0.1,
        height_shift_range=0.1, horizontal_flip=True, zoom_range=0.1)
it = idg.flow(x, y, batch_size=64, seed=0); next(it)
timeit("ImageDataGenerator.flow 4 augs bs64", it, 12500*2//64, 64)

def make(augs, bs, where_cast="after"):
    seq = keras.Sequential(augs)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache().shuffle(12500, seed=0).batch(bs)
    ds = ds.map(lambda a, b: (seq(tf.cast(a, tf.float32), training=True), b), num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)

full4 = lambda: [layers.RandomRotation(15/360), layers.RandomTranslation(0.1, 0.1),
                 layers.RandomFlip("horizontal"), layers.RandomZoom(0.1)]
for bs in (64, 256):
    ds = make(full4(), bs); timeit(f"tf.data keras 4 augs (rot,trans,flip,zoom) bs{bs}", iter(ds.repeat()), 12500*4//bs, bs)
for name, mk in [("RandomFlip", lambda: [layers.RandomFlip("horizontal")]),
                 ("RandomTranslation(0.1)", lambda: [layers.RandomTranslation(0.1, 0.1)]),
                 ("RandomRotation(15deg)", lambda: [layers.RandomRotation(15/360)]),
                 ("RandomZoom(0.1)", lambda: [layers.RandomZoom(0.1)]),
                 ("ZeroPad4+RandomCrop32", lambda: [layers.ZeroPadding2D(4), layers.RandomCrop(32, 32)]),
                 ("Flip+Translation", lambda: [layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.1)]),
                 ("Flip+Pad+RandomCrop", lambda: [layers.RandomFlip("horizontal"), layers.ZeroPadding2D(4), layers.RandomCrop(32, 32)]),
                 ("none (cast only)", lambda: [layers.Identity()])]:
    ds = make(mk(), 256); timeit(f"tf.data {name} bs256", iter(ds.repeat()), 12500*4//256, 256)

# raw tf.image ops: flip + random crop via pad/crop per batch (vectorised)
def tfaug(a, b):
    a = tf.image.random_flip_left_right(a)  # per-image in batch
    a = tf.pad(a, [[0,0],[4,4],[4,4],[0,0]], mode="REFLECT")
    n = tf.shape(a)[0]
    ox = tf.random.uniform([n], 0, 9, tf.int32); oy = tf.random.uniform([n], 0, 9, tf.int32)
    idx_y = oy[:, None] + tf.range(32)[None]; idx_x = ox[:, None] + tf.range(32)[None]
    a = tf.gather(a, idx_y, axis=1, batch_dims=1)
    a = tf.gather(a, idx_x, axis=2, batch_dims=1)
    return a, b
ds = tf.data.Dataset.from_tensor_slices((x, y)).cache().shuffle(12500, seed=0).batch(256).map(tfaug, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)
timeit("tf.data tf.image flip + reflect-pad4 crop (uint8) bs256", iter(ds.repeat()), 12500*4//256, 256)
