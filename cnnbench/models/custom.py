"""The study's own lightweight CNN (``custom``): airbench94's layout, scaled down.

After Keller Jordan, "94% on CIFAR-10 in 3.29 seconds on a single GPU" (2024,
https://github.com/KellerJordan/cifar10-airbench, ``airbench94.py``), with narrower blocks so
it stays under the original study's "~1M parameters":

* **features**: a 2x2 ``valid`` stem convolution (``stem`` filters, GELU) then, per width, one
  block: 3x3 conv -> MaxPool 2x2 -> BatchNorm -> GELU -> 3x3 conv -> BatchNorm -> GELU.
  Pooling right after the first convolution of a block keeps most of the work at the block's
  lower resolution; BatchNorm after every block convolution lets one-cycle SGD run at a high
  peak rate; momentum 0.9 (not Keras' 0.99) so the moving statistics keep up in short runs.
* **classifier**: global max pooling, a bias-free Dense layer whose logits are scaled by 1/9
  before the softmax (airbench's temperature for 10 classes), by more for more classes (below).
* Raw ``[0, 255]`` pixels in (first layer ``Rescaling(1/255)``), a ``float32`` softmax out so
  ``mixed_bfloat16`` is safe; any channel count (28x28x1 MNIST, 32x32x3 CIFAR) and class count.

Defaults (stem 24, widths 64-128-192): 830k parameters on 32x32x3, 119 MFLOPs an image. On the
25% CIFAR-10 sample (JPEG-derived copy) it leads the previous ``custom`` (294k, pool-first
ReLU stages) by 6.9 validation points at 16 epochs, and reaches 83.7% validation (85.0% with
flip test-time augmentation) at 50 epochs with weight decay 5e-3: docs/performance.md §11.
"""

import keras
from keras import layers

from cnnbench.checks import check_fraction, check_int, check_real, is_int
from cnnbench.errors import InputShapeError, ModelError

# airbench94's logit scale, for 10 classes: on the 25% CIFAR-10 sample at 16 epochs it beat no
# scaling by 0.70 and 0.54 validation points (seeds 0, 1; docs/performance.md §11).
LOGIT_SCALE = 1 / 9
REFERENCE_CLASSES = 10


def logit_scale_for(num_classes: int) -> float:
    """The default logit scale: 1/9 up to 10 classes, growing with the square root beyond.

    The scale multiplies each class's logit gradient by its square, and a class's row of the
    classifier learns from that class's share (1/K) of the images, so ``sqrt(K / 10) / 9`` keeps
    a class's learning speed at the 10-class rate. Measured on 100 classes (pairs of MNIST
    digits, 28x56, 1,800 images, 3 epochs): 1/9 reached 28% validation, 1/3 77%.
    """
    return LOGIT_SCALE * max(1.0, num_classes / REFERENCE_CLASSES) ** 0.5


def _check(num_classes, stem, widths, dropout, bn_momentum, logit_scale):
    check_int("custom: num_classes", num_classes, min_value=2, noun="int", error=ModelError)
    check_int("custom: stem", stem, error=ModelError)
    if not isinstance(widths, (tuple, list)) or not widths or not all(is_int(w, 1) for w in widths):
        raise ModelError(
            f"custom: widths must be a non-empty sequence of ints >= 1, got {widths!r}"
        )
    for name, value in (("dropout", dropout), ("bn_momentum", bn_momentum)):
        check_fraction(
            f"custom: {name}",
            value,
            low_closed=True,
            high_closed=False,
            noun="float",
            error=ModelError,
        )
    if logit_scale is not None:
        check_real("custom: logit_scale", logit_scale, error=ModelError)


def custom(
    input_shape,
    num_classes,
    *,
    stem=24,
    widths=(64, 128, 192),
    dropout=0.0,
    bn_momentum=0.9,
    logit_scale=None,
):
    """Build the study's lightweight CNN (uncompiled).

    Args:
        input_shape: ``(height, width, channels)``; each side at least ``2 ** len(widths) + 1``
            (the stem's 2x2 valid convolution takes one pixel, each block halves the rest).
        num_classes: number of output classes (>= 2).
        stem: filters of the 2x2 stem convolution.
        widths: filters of each block (conv, MaxPool 2x2, BatchNorm, GELU, conv-BN-GELU).
        dropout: dropout rate before the classifier (0 = none).
        bn_momentum: BatchNorm moving-average momentum.
        logit_scale: factor on the logits before the softmax; ``None``:
            :func:`logit_scale_for` ``(num_classes)`` (1/9 for up to 10 classes).

    Raises:
        ModelError: an invalid override or class count.
        InputShapeError: an input smaller than ``2 ** len(widths) + 1`` on a side.
    """
    _check(num_classes, stem, widths, dropout, bn_momentum, logit_scale)
    h, w, _ = input_shape
    min_side = 2 ** len(widths) + 1
    if min(h, w) < min_side:
        raise InputShapeError(
            f"custom with {len(widths)} blocks needs inputs of at least {min_side}x{min_side}, "
            f"got {h}x{w}"
        )

    def conv(filters, name):
        return layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")

    def bn_gelu(name):
        return [
            layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_bn"),
            layers.Activation("gelu", name=f"{name}_gelu"),
        ]

    blocks = [
        layers.Conv2D(stem, 2, padding="valid", name="stem_conv"),
        layers.Activation("gelu", name="stem_gelu"),
    ]
    for i, filters in enumerate(widths, start=1):
        blocks += [conv(filters, f"block{i}a"), layers.MaxPooling2D(name=f"block{i}_pool")]
        blocks += bn_gelu(f"block{i}a") + [conv(filters, f"block{i}b")] + bn_gelu(f"block{i}b")
    features = keras.Sequential(blocks, name="features")
    head = [layers.GlobalMaxPooling2D(name="global_max_pool")]
    if dropout:
        head.append(layers.Dropout(dropout, name="dropout"))
    head += [
        layers.Dense(num_classes, use_bias=False, name="logits"),
        layers.Rescaling(
            logit_scale_for(num_classes) if logit_scale is None else logit_scale,
            name="logit_scale",
        ),
        layers.Activation("softmax", dtype="float32", name="predictions"),
    ]
    classifier = keras.Sequential(head, name="classifier")

    inputs = keras.Input(shape=tuple(input_shape))
    outputs = classifier(features(layers.Rescaling(1.0 / 255, name="rescaling")(inputs)))
    return keras.Model(inputs, outputs, name="custom")
