"""``tf.data`` input pipelines: uint8 arrays in, float batches and one-hot labels out.

Images stay ``uint8`` in memory (4x smaller than float32); casting and augmentation happen per
batch, which is far cheaper than per image. Every epoch iterates the whole training array once
(no ``steps_per_epoch`` truncation, no dropped remainder), so each image is seen exactly once.
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
) -> tf.data.Dataset:
    """Shuffled, batched training data; ``augmenter`` (a Keras layer) runs on whole batches.

    Reshuffles every epoch from ``seed``. Augmentation is mapped sequentially so the random
    stream, and hence every augmented batch, is the same for the same seed.
    """
    _check_arrays(x, y, batch_size)
    data = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int64)))
    data = data.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size).map(_to_model_inputs(num_classes))
    if augmenter is not None:
        data = data.map(lambda images, labels: (augmenter(images, training=True), labels))
    return data.prefetch(tf.data.AUTOTUNE)


def eval_dataset(
    x: np.ndarray, y: np.ndarray, num_classes: int, *, batch_size: int
) -> tf.data.Dataset:
    """Batched evaluation data in the original order."""
    _check_arrays(x, y, batch_size)
    data = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int64)))
    return data.batch(batch_size).map(_to_model_inputs(num_classes)).prefetch(tf.data.AUTOTUNE)
