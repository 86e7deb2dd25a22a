"""Validation accuracy of other test-time augmentation view sets on saved ``confirm.py`` models.

The package's six views (``evaluate(tta="flip_translate")``, airbench94's: each image and its
mirror, unshifted at weight 1/2 and shifted one pixel up-left and down-right at 1/4 each) against
equal weights, four diagonal or four axis-aligned one-pixel shifts, all nine shifts in [-1, 1]^2,
and two-pixel shifts, on the 25% CIFAR-10 sample's validation images (JPEG-derived copy, seed-42
sample). The test set is not read. From the repository root, with saved models of
``models/cifar10/``::

    export CNNBENCH_DATA_DIR=../shared/data
    python benchmarks/research/accuracy/tta_views.py MODEL.keras [MODEL.keras ...]
"""

import sys

import keras
import numpy as np
import tensorflow as tf

import cnnbench.augment  # noqa: F401  (registers the layers a saved model may hold)
from cnnbench import load_dataset
from cnnbench.evaluation import predict_proba


def shift(images, dy, dx):
    """``images`` shifted by (dy, dx) pixels, edges reflected (as ``predict_proba``'s views)."""
    height, width = images.shape[1:3]
    p = max(abs(dy), abs(dx))
    if p == 0:
        return images
    padded = np.pad(images, ((0, 0), (p, p), (p, p), (0, 0)), mode="reflect")
    return padded[:, p + dy : p + dy + height, p + dx : p + dx + width]


def view_sets(model, x):
    cache = {}

    def proba(dy, dx, flip):
        if (dy, dx, flip) not in cache:
            images = shift(x, dy, dx)[:, :, ::-1] if flip else shift(x, dy, dx)
            data = tf.data.Dataset.from_tensor_slices(images).batch(256)
            data = data.map(lambda batch: tf.cast(batch, tf.float32))
            cache[dy, dx, flip] = np.asarray(model.predict(data, verbose=0), dtype=np.float64)
        return cache[dy, dx, flip]

    def both(dy, dx):
        return (proba(dy, dx, False) + proba(dy, dx, True)) / 2

    diagonal = [(a, b) for a in (-1, 1) for b in (-1, 1)]
    cross = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    return {
        "plain": proba(0, 0, False),
        "flip": both(0, 0),
        "six (the package's)": predict_proba(model, x, tta="flip_translate"),
        "six, equal weights": (both(0, 0) + both(-1, -1) + both(1, 1)) / 3,
        "ten, diagonal": both(0, 0) / 2 + sum(both(a, b) for a, b in diagonal) / 8,
        "ten, axis-aligned": both(0, 0) / 2 + sum(both(a, b) for a, b in cross) / 8,
        "eighteen, 3x3": sum(both(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)) / 9,
        "six, 2 pixels": both(0, 0) / 2 + (both(-2, -2) + both(2, 2)) / 4,
    }


if __name__ == "__main__":
    ds = load_dataset("cifar10", sample_fraction=0.25, seed=42)
    for path in sys.argv[1:]:
        sets = view_sets(keras.saving.load_model(path), ds.x_val)
        scores = {name: 100 * (p.argmax(1) == ds.y_val).mean() for name, p in sets.items()}
        print(path.rsplit("/", 1)[-1], " | ".join(f"{k} {v:.2f}" for k, v in scores.items()))
