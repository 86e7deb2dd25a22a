"""``tf.data`` input pipelines: uint8 arrays in, float batches and one-hot labels out.

Images stay ``uint8`` in memory (4x smaller than float32); casting and augmentation happen per
batch, which is far cheaper than per image. Every epoch iterates the whole training array once
(no ``steps_per_epoch`` truncation, no dropped remainder), so each image is seen exactly once;
with ``class_weights`` (targeted oversampling, :mod:`cnnbench.targeted`) an epoch holds as many
images, drawn class by class with those weights.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from cnnbench.errors import ConfigError


def _check_arrays(x: np.ndarray, y: np.ndarray, batch_size: int) -> None:
    if len(x) != len(y):
        raise ConfigError(f"x has {len(x)} images but y has {len(y)} labels")
    if len(x) == 0:
        raise ConfigError("cannot build a pipeline over zero images")
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")


def _to_model_inputs(num_classes: int):
    def convert(images, labels):
        return tf.cast(images, tf.float32), tf.one_hot(labels, num_classes)

    return convert


def train_dataset(
    x: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    *,
    batch_size: int,
    seed: int,
    augmenter=None,
    class_weights=None,
) -> tf.data.Dataset:
    """Shuffled, batched training data; ``augmenter`` (a Keras layer) runs on whole batches.

    Reshuffles every epoch from ``seed``. Augmentation is mapped sequentially so the random
    stream, and hence every augmented batch, is the same for the same seed. ``class_weights``
    (one weight per class) oversamples: see :func:`weighted_epochs`.
    """
    _check_arrays(x, y, batch_size)
    if class_weights is None:
        data = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int64)))
        data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    else:
        data = weighted_epochs(x, y, class_weights, seed=seed)
    data = data.batch(batch_size).map(_to_model_inputs(num_classes))
    if augmenter is not None:
        data = data.map(lambda images, labels: (augmenter(images, training=True), labels))
    return data.prefetch(tf.data.AUTOTUNE)


def weighted_epochs(x: np.ndarray, y: np.ndarray, class_weights, *, seed: int) -> tf.data.Dataset:
    """Epochs of ``len(x)`` images drawn class by class: each draw picks class ``c`` with
    probability proportional to ``class_weights[c] x`` its number of images, then that class's
    next image. Each class's images come in a fresh random order and start over once used up,
    so a class weighted above 1 repeats images within an epoch and one below 1 leaves some out;
    every epoch draws anew (from ``seed``).
    """
    weights = np.asarray(class_weights, dtype=float)
    if weights.ndim != 1 or len(weights) <= int(y.max()) or not np.all(weights > 0):
        raise ConfigError(
            f"class_weights must hold one positive weight per class (labels 0 to {int(y.max())}), "
            f"got {class_weights!r}"
        )
    streams, shares = [], []
    for c in np.unique(y):
        index = np.flatnonzero(y == c)
        stream = tf.data.Dataset.from_tensor_slices((x[index], y[index].astype(np.int64)))
        streams.append(stream.shuffle(len(index), seed=seed + int(c)).repeat())
        shares.append(weights[c] * len(index))
    drawn = tf.data.Dataset.sample_from_datasets(
        streams,
        weights=(np.array(shares) / np.sum(shares)).tolist(),
        seed=seed,
        rerandomize_each_iteration=True,
    )
    return drawn.take(len(x))


def eval_dataset(
    x: np.ndarray, y: np.ndarray, num_classes: int, *, batch_size: int
) -> tf.data.Dataset:
    """Batched evaluation data in the original order."""
    _check_arrays(x, y, batch_size)
    data = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int64)))
    return data.batch(batch_size).map(_to_model_inputs(num_classes)).prefetch(tf.data.AUTOTUNE)
