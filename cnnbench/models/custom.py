"""The study's own lightweight CNN (``custom``).

A modern take on the original study's custom network: 3x3 convolutions in stages of two,
BatchNorm after every convolution (momentum 0.9 so short runs get statistics that keep up),
max-pooling between stages, global average pooling instead of a large dense head.
"""

import keras
from keras import layers

from cnnbench.errors import InputShapeError


def custom(input_shape, num_classes, *, widths=(32, 64, 128), dropout=0.2, bn_momentum=0.9):
    """Build the study's lightweight CNN.

    Args:
        input_shape: ``(height, width, channels)``; each side at least ``2 ** len(widths)``.
        num_classes: number of output classes (>= 2).
        widths: filters of each stage (two 3x3 convolutions per stage, then 2x2 max-pooling).
        dropout: dropout rate before the classifier.
        bn_momentum: BatchNorm moving-average momentum.
    """
    h, w, _ = input_shape
    min_side = 2 ** len(widths)
    if min(h, w) < min_side:
        raise InputShapeError(
            f"custom with {len(widths)} stages needs inputs of at least {min_side}x{min_side}, "
            f"got {h}x{w}"
        )
    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs)
    for filters in widths:
        for _ in range(2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=bn_momentum)(x)
            x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="custom")
