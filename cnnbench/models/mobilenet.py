"""MobileNet (v1) for small images (``mobilenet``).

Follows Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision
Applications", arXiv:1704.04861, 2017: a standard 3x3 convolution, then 13 depthwise-separable
blocks (3x3 depthwise convolution + BatchNorm + ReLU, then 1x1 pointwise convolution + BatchNorm +
ReLU), global average pooling and a softmax classifier, with the width multiplier ``alpha``
scaling every layer's channels.

Changes from the paper, which was built for 224x224 ImageNet images:

- the stem convolution has stride 1 instead of 2, so the network downsamples 16x instead of 32x
  and a 32x32 image ends as a 2x2 map; the four stride-2 depthwise-separable blocks stay where
  the paper has them (the usual CIFAR adaptation);
- strided convolutions use ``padding="same"``;
- the width multiplier defaults to 0.5 (the paper's 1.0 is ``alpha=1.0``);
- dropout (default 0.2) before the classifier; BatchNorm momentum 0.9 so the moving statistics
  keep up in short training runs;
- the model takes raw pixels in ``[0, 255]`` (the first layer rescales them), accepts 1 or 3
  channels, and computes the softmax in ``float32`` so mixed precision is safe.
"""

import keras
from keras import layers

from cnnbench.checks import check_fraction, check_int, check_real
from cnnbench.errors import InputShapeError, ModelError

_STEM_FILTERS = 32
# (pointwise filters, depthwise stride) of the 13 depthwise-separable blocks, as in the paper.
_BLOCKS = (
    (64, 1),
    (128, 2),
    (128, 1),
    (256, 2),
    (256, 1),
    (512, 2),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (512, 1),
    (1024, 2),
    (1024, 1),
)
# Each stride-2 block halves the map; below 2**4 = 16 pixels one would get a 1-pixel map.
_MIN_SIDE = 2 ** sum(stride == 2 for _, stride in _BLOCKS)
_BN_MOMENTUM = 0.9


# Half width by default: at 32 px the paper's full width (3.2M parameters, 93 MFLOPs an image)
# trained 5x slower per epoch than custom on a 2-core CPU (the quick study's calibration, 0.195
# vs 0.037 s a step at batch 64), and the study compares light networks.
_DEFAULT_ALPHA = 0.5


def mobilenet(input_shape, num_classes, *, alpha=_DEFAULT_ALPHA, dropout=0.2):
    """MobileNet v1 with a stride-1 stem for 28-32 pixel inputs.

    Args:
        input_shape: ``(height, width, channels)``; each side at least 16.
        num_classes: number of output classes (>= 2).
        alpha: width multiplier (> 0); every layer gets ``int(alpha * filters)`` channels (at
            least 1), as in the paper. 1.0 gives the full 32-64-...-1024 widths; the default
            0.5 halves them (about a quarter of the parameters and FLOPs).
        dropout: rate of the dropout before the classifier, in ``[0, 1)``.
    """
    check_int("mobilenet: num_classes", num_classes, min_value=2, noun="int", error=ModelError)
    check_real("mobilenet: alpha", alpha, noun="float", error=ModelError)
    check_fraction(
        "mobilenet: dropout",
        dropout,
        low_closed=True,
        high_closed=False,
        noun="float",
        error=ModelError,
    )
    height, width, _ = input_shape
    if min(height, width) < _MIN_SIDE:
        raise InputShapeError(
            f"mobilenet needs inputs of at least {_MIN_SIDE}x{_MIN_SIDE} (four stride-2 blocks), "
            f"got {height}x{width}"
        )

    def width_of(filters):
        return max(1, int(alpha * filters))

    feature_layers = [
        layers.Conv2D(width_of(_STEM_FILTERS), 3, padding="same", use_bias=False, name="conv1"),
        layers.BatchNormalization(momentum=_BN_MOMENTUM, name="conv1_bn"),
        layers.ReLU(name="conv1_relu"),
    ]
    for block, (filters, stride) in enumerate(_BLOCKS, start=1):
        feature_layers += [
            layers.DepthwiseConv2D(
                3, strides=stride, padding="same", use_bias=False, name=f"conv_dw_{block}"
            ),
            layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"conv_dw_{block}_bn"),
            layers.ReLU(name=f"conv_dw_{block}_relu"),
            layers.Conv2D(width_of(filters), 1, use_bias=False, name=f"conv_pw_{block}"),
            layers.BatchNormalization(momentum=_BN_MOMENTUM, name=f"conv_pw_{block}_bn"),
            layers.ReLU(name=f"conv_pw_{block}_relu"),
        ]
    features = keras.Sequential(feature_layers, name="features")
    classifier = keras.Sequential(
        [
            layers.GlobalAveragePooling2D(name="avg_pool"),
            layers.Dropout(dropout, name="dropout"),
            layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions"),
        ],
        name="classifier",
    )
    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    outputs = classifier(features(x))
    return keras.Model(inputs, outputs, name="mobilenet")
