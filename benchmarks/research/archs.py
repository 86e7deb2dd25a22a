"""Candidate architectures of the CPU study, and their forward FLOPs.

Not a measurement itself: the module `model_bench.py`, `training_probe.py` and
`original_recipe.py` build their networks from (docs/performance.md, "Setup" and sections 2-5).
All take uint8 images (Rescaling(1/255) in) and end in a float32 softmax. Names in `ARCHS`:
`custom_v2` (the original study's network), `cur32` (the previous `custom`), `ab*` (airbench-like,
stem then widths), `*_pf` (pool-first stages), `res*` (a ResNet-9-lite).

    python -c "import archs; print(sorted(archs.ARCHS))"    (from benchmarks/research)
"""

import keras
from keras import layers


def _cbr(x, f, k=3, mom=0.9, act="relu", stride=1):
    x = layers.Conv2D(f, k, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=mom)(x)
    return layers.Activation(act)(x)


def custom_v2(input_shape=(32, 32, 3), n=10):
    i = keras.Input(input_shape)
    x = layers.Rescaling(1 / 255)(i)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(128, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.25)(x)
    o = layers.Dense(n, activation="softmax", dtype="float32")(x)
    return keras.Model(i, o, name="custom_v2")


def cur(input_shape=(32, 32, 3), n=10, widths=(32, 64, 128), mom=0.9):
    """The previous cnnbench `custom`: 2 conv per stage, pool after, GAP head."""
    i = keras.Input(input_shape)
    x = layers.Rescaling(1 / 255)(i)
    for f in widths:
        x = _cbr(x, f, mom=mom)
        x = _cbr(x, f, mom=mom)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    return keras.Model(i, layers.Dense(n, activation="softmax", dtype="float32")(x), name="cur")


def ab(
    input_shape=(32, 32, 3),
    n=10,
    stem=24,
    widths=(64, 128, 256),
    mom=0.9,
    act="relu",
    scale=1.0,
    pool_first=False,
):
    """airbench-like: 3x3 stem conv (few channels), then per stage
    conv -> maxpool -> BN -> act -> conv -> BN -> act.

    pool_first: pool BEFORE the first conv of each stage (4x fewer FLOPs for that conv).
    """
    i = keras.Input(input_shape)
    x = layers.Rescaling(1 / 255)(i)
    x = _cbr(x, stem, mom=mom, act=act)
    for f in widths:
        if pool_first:
            x = layers.MaxPooling2D()(x)
            x = _cbr(x, f, mom=mom, act=act)
        else:
            x = layers.Conv2D(f, 3, padding="same", use_bias=False)(x)
            x = layers.MaxPooling2D()(x)
            x = layers.BatchNormalization(momentum=mom)(x)
            x = layers.Activation(act)(x)
        x = _cbr(x, f, mom=mom, act=act)
    x = layers.GlobalMaxPooling2D()(x)
    x = layers.Dense(n, use_bias=False)(x)
    if scale != 1.0:
        x = layers.Rescaling(scale)(x)
    o = layers.Activation("softmax", dtype="float32")(x)
    return keras.Model(i, o, name="ab")


def res(input_shape=(32, 32, 3), n=10, stem=32, widths=(64, 128, 256), mom=0.9):
    """ResNet-9-ish lite: stem conv, stage = conv->pool->BN->relu, plus a residual block
    (2 convs) at the end of the first and last stages."""
    i = keras.Input(input_shape)
    x = layers.Rescaling(1 / 255)(i)
    x = _cbr(x, stem, mom=mom)
    for j, f in enumerate(widths):
        x = layers.Conv2D(f, 3, padding="same", use_bias=False)(x)
        x = layers.MaxPooling2D()(x)
        x = layers.BatchNormalization(momentum=mom)(x)
        x = layers.Activation("relu")(x)
        if j != 1:
            r = _cbr(x, f, mom=mom)
            r = _cbr(r, f, mom=mom)
            x = layers.Add()([x, r])
    x = layers.GlobalMaxPooling2D()(x)
    o = layers.Dense(n, activation="softmax", dtype="float32")(x)
    return keras.Model(i, o, name="res")


ARCHS = {
    "custom_v2": custom_v2,
    "cur32": cur,
    "ab24_64_128_256": lambda **k: ab(**k),
    "ab16_32_64_128": lambda **k: ab(stem=16, widths=(32, 64, 128), **k),
    "ab24_48_96_192": lambda **k: ab(stem=24, widths=(48, 96, 192), **k),
    "ab16_32_64_128_pf": lambda **k: ab(stem=16, widths=(32, 64, 128), pool_first=True, **k),
    "ab24_64_128_256_pf": lambda **k: ab(stem=24, widths=(64, 128, 256), pool_first=True, **k),
    "ab32_64_128_256_pf": lambda **k: ab(stem=32, widths=(64, 128, 256), pool_first=True, **k),
    "ab24_48_96_192_pf": lambda **k: ab(stem=24, widths=(48, 96, 192), pool_first=True, **k),
    "ab16_64_128_256_pf": lambda **k: ab(stem=16, widths=(64, 128, 256), pool_first=True, **k),
    "res32_64_128_256": lambda **k: res(**k),
}


def flops(model):
    """Forward MACs x 2 per image for the conv and dense layers."""
    tot = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            oh, ow, oc = layer.output.shape[1:]
            kh, kw = layer.kernel_size
            ic = layer.input.shape[-1]
            tot += 2 * oh * ow * oc * kh * kw * ic
        elif isinstance(layer, layers.Dense):
            tot += 2 * layer.input.shape[-1] * layer.units
    return tot
