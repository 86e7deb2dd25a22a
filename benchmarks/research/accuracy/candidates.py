"""Residual candidates for a new ``custom`` (<= ~1M parameters), and their cost per epoch.

Each builder is ``(input_shape, num_classes, **options) -> keras.Model`` (uncompiled): raw
``[0, 255]`` pixels in through ``Rescaling(1/255)``, a float32 softmax out, 28x28x1 and 32x32x3
inputs alike. BatchNorm momentum is 0.9 as in ``custom`` (short runs).

* ``res_pf``: ``custom``'s pool-first layout made residual (ResNet-9 pattern): a full-resolution
  3x3 stem, then per stage MaxPool 2x2 -> conv-BN-ReLU (the stage's width) and, on the stages
  marked in ``residual``, a residual block (two conv-BN-ReLU added to their input). Stem 32,
  widths 48-96-192, residual on stages 1 and 3: 0.93M parameters.
* ``resnet9``: the DAWNBench ResNet-9 (Page 2018) with widths scaled down, conv *then* pool
  (so every stage's first conv runs at the higher resolution): prep conv 24, then
  conv(48)-pool + residual(48), conv(96)-pool, conv(192)-pool + residual(192): 0.92M.
* ``airbench_s``: airbench94 (Jordan 2024) scaled down, no residuals: a 2x2 valid conv stem
  (24 filters), then per block conv -> MaxPool -> BN -> GELU -> conv -> BN -> GELU, widths
  64-128-192, global max pool, logits scaled by 1/9 before the softmax: 0.83M.

``bn_scale=False`` builds BatchNorm without its scale (airbench: only a shift), and
``bias_boost=k`` re-parametrises that shift as ``k * b`` so plain SGD moves it with ``k**2``
times the learning rate (airbench raises the BatchNorm learning rate); the variable is named
``bias``, so ``train()`` leaves it out of weight decay.

Run (from the repository root; prints parameters, MFLOPs and seconds per epoch measured on
the 25% CIFAR-10 sample, batch 256, crop_flip_cutout, 2 epochs each, the second one timed)::

    CNNBENCH_DATA_DIR=../shared/data nice -n 19 python benchmarks/research/accuracy/candidates.py
"""

from __future__ import annotations

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="cnnbench_research")
class BoostedBias(keras.layers.Layer):
    """Adds a learnt per-channel shift ``boost * bias`` (SGD then moves it ``boost**2`` faster)."""

    def __init__(self, boost=1.0, **kwargs):
        super().__init__(**kwargs)
        self.boost = float(boost)

    def build(self, input_shape):
        self.bias = self.add_weight(name="bias", shape=(input_shape[-1],), initializer="zeros")

    def call(self, x):
        return x + self.boost * keras.ops.cast(self.bias, x.dtype)

    def get_config(self):
        return {**super().get_config(), "boost": self.boost}


def _bn(x, name, bn_scale, bias_boost, momentum=0.9):
    if bn_scale and bias_boost == 1.0:
        return layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    x = layers.BatchNormalization(
        momentum=momentum, scale=bn_scale, center=bias_boost == 1.0, name=f"{name}_bn"
    )(x)
    if bias_boost != 1.0:
        x = BoostedBias(bias_boost, name=f"{name}_shift")(x)
    return x


def _cbr(x, filters, name, bn_scale=True, bias_boost=1.0, act="relu"):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = _bn(x, name, bn_scale, bias_boost)
    return layers.Activation(act, name=f"{name}_{act}")(x)


def _residual(x, filters, name, **kw):
    y = _cbr(x, filters, f"{name}a", **kw)
    y = _cbr(y, filters, f"{name}b", **kw)
    return layers.Add(name=f"{name}_add")([x, y])


def _head(x, num_classes, dropout=0.0, logit_scale=None):
    """Global max pool, then a softmax Dense, or (``logit_scale``) bias-free logits scaled."""
    x = layers.GlobalMaxPooling2D(name="global_max_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    if logit_scale is None:
        return layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(
            x
        )
    x = layers.Dense(num_classes, use_bias=False, name="logits")(x)
    x = layers.Rescaling(logit_scale, name="logit_scale")(x)
    return layers.Activation("softmax", dtype="float32", name="predictions")(x)


def pool_first(input_shape, num_classes, *, stem=16, widths=(32, 64, 128), name="pool_first"):
    """The package's ``custom`` before this study replaced it (the baseline of section 11):
    a full-resolution 3x3 conv-BN-ReLU stem, then per stage MaxPool 2x2 and two conv-BN-ReLU,
    global max pool, softmax. Defaults: 294k parameters, 22 MFLOPs; ``stem=24, widths=(48, 96,
    192)`` is section 7's ``wide_cfc`` net (659k)."""
    inputs = keras.Input(shape=tuple(input_shape))
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    x = _cbr(x, stem, "stem")
    for i, filters in enumerate(widths, start=1):
        x = layers.MaxPooling2D(name=f"stage{i}_pool")(x)
        x = _cbr(_cbr(x, filters, f"stage{i}a"), filters, f"stage{i}b")
    return keras.Model(inputs, _head(x, num_classes), name=name)


def res_pf(
    input_shape,
    num_classes,
    *,
    stem=32,
    widths=(48, 96, 192),
    residual=(True, False, True),
    bn_scale=True,
    bias_boost=1.0,
    dropout=0.0,
    name="res_pf",
):
    """Pool-first residual net (``custom``'s layout + ResNet-9's residual blocks)."""
    kw = {"bn_scale": bn_scale, "bias_boost": bias_boost}
    inputs = keras.Input(shape=tuple(input_shape))
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    x = _cbr(x, stem, "stem", **kw)
    for i, (filters, res) in enumerate(zip(widths, residual, strict=True), start=1):
        x = layers.MaxPooling2D(name=f"stage{i}_pool")(x)
        x = _cbr(x, filters, f"stage{i}", **kw)
        if res:
            x = _residual(x, filters, f"stage{i}_res", **kw)
    return keras.Model(inputs, _head(x, num_classes, dropout), name=name)


def resnet9(
    input_shape,
    num_classes,
    *,
    prep=24,
    widths=(48, 96, 192),
    residual=(True, False, True),
    bn_scale=True,
    bias_boost=1.0,
    name="resnet9",
):
    """ResNet-9 (conv, then pool) with scaled-down widths."""
    kw = {"bn_scale": bn_scale, "bias_boost": bias_boost}
    inputs = keras.Input(shape=tuple(input_shape))
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    x = _cbr(x, prep, "prep", **kw)
    for i, (filters, res) in enumerate(zip(widths, residual, strict=True), start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"layer{i}_conv")(x)
        x = layers.MaxPooling2D(name=f"layer{i}_pool")(x)
        x = _bn(x, f"layer{i}", bn_scale, bias_boost)
        x = layers.Activation("relu", name=f"layer{i}_relu")(x)
        if res:
            x = _residual(x, filters, f"layer{i}_res", **kw)
    return keras.Model(inputs, _head(x, num_classes), name=name)


def airbench_s(
    input_shape,
    num_classes,
    *,
    stem=24,
    widths=(64, 128, 192),
    bn_scale=True,
    bias_boost=1.0,
    logit_scale=1 / 9,
    residual_blocks=(),
    name="airbench_s",
):
    """airbench94's layout, narrower: 2x2 stem, blocks conv-pool-BN-GELU-conv-BN-GELU.

    ``residual_blocks`` (1-based) get airbench96's third conv-BN-GELU, its output added to the
    block's pooled activation (depth at the block's low resolution: block 2's adds 148k parameters
    and 12% more FLOPs an image).
    """
    inputs = keras.Input(shape=tuple(input_shape))
    x = layers.Rescaling(1.0 / 255, name="rescaling")(inputs)
    x = layers.Conv2D(stem, 2, padding="valid", name="stem_conv")(x)
    x = layers.Activation("gelu", name="stem_gelu")(x)
    for i, filters in enumerate(widths, start=1):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"block{i}a_conv")(x)
        x = layers.MaxPooling2D(name=f"block{i}_pool")(x)
        x = _bn(x, f"block{i}a", bn_scale, bias_boost)
        x = layers.Activation("gelu", name=f"block{i}a_gelu")(x)
        y = _cbr(x, filters, f"block{i}b", bn_scale, bias_boost, act="gelu")
        if i in residual_blocks:
            y = _cbr(y, filters, f"block{i}c", bn_scale, bias_boost, act="gelu")
            y = layers.Add(name=f"block{i}_add")([x, y])
        x = y
    return keras.Model(inputs, _head(x, num_classes, logit_scale=logit_scale), name=name)


CANDIDATES = {"res_pf": res_pf, "resnet9": resnet9, "airbench_s": airbench_s}
# airbench_s is the package's ``custom`` now (the same layers, weights and outputs for a seed);
# it stays here so the probes' configs keep their names.


def conv_mflops(model) -> float:
    """Multiply-adds x 2 of the Conv2D and Dense layers for one image, in millions."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Conv2D):
            h, w, c_out = layer.output.shape[1:]
            kh, kw_ = layer.kernel_size
            total += h * w * c_out * kh * kw_ * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            total += layer.units * layer.input.shape[-1]
    return 2 * total / 1e6


def main():
    import json

    import numpy as np

    from cnnbench import load_dataset, set_seed, train

    ds = load_dataset("cifar10", sample_fraction=0.25, seed=42)
    builders = {"pool_first": pool_first}
    builders["pool_first_wide"] = lambda s, n: pool_first(s, n, stem=24, widths=(48, 96, 192))
    builders.update(CANDIDATES)
    for name, build in builders.items():
        mnist = build((28, 28, 1), 10)  # the MNIST shape builds too
        set_seed(0)
        model = build(ds.input_shape, ds.num_classes)
        run = train(
            model,
            ds,
            epochs=2,
            batch_size=256,
            augment=True,
            augment_policy="crop_flip_cutout",
            seed=0,
            verbose=0,
        )
        row = {
            "model": name,
            "params": int(model.count_params()),
            "params_mnist": int(mnist.count_params()),
            "mflops": round(conv_mflops(model), 1),
            "sec_per_epoch": round(float(np.median(run.epoch_times_s[1:])), 2),
            "val_after_2": round(run.history["val_accuracy"][-1], 4),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
