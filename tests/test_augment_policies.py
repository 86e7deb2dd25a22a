"""The crop policies ("crop_flip_cutout", "flip_translate"): RandomCropCutout, build_augmenter,
train(), CLI."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnbench import from_arrays, get_recipe, set_seed, train
from cnnbench.augment import RandomAffine, RandomCropCutout, build_augmenter
from cnnbench.cli import build_parser
from cnnbench.config import AUGMENT_POLICIES, CROP_POLICIES, POLICY_SETTINGS
from cnnbench.data import DATASETS
from cnnbench.errors import ConfigError

PAD, CUTOUT = 2, 3


def _gradient(n, height=9, width=13, channels=3):
    """``n`` copies of an image whose pixels all differ (and are > 0): any output pixel says
    which input pixel it came from. Channel ``c`` adds ``1000 c``."""
    rows = np.arange(height)[:, None, None] * width
    cols = np.arange(width)[None, :, None]
    image = (rows + cols + 1 + 1000 * np.arange(channels)).astype("float32")
    return np.repeat(image[None], n, axis=0)


def _candidates(image, pad):
    """Every crop of the reflect-padded image (Keras' "reflect" repeats the edge pixel, NumPy's
    "symmetric"), unflipped and mirrored, keyed by (dy, dx, flipped)."""
    height, width = image.shape[:2]
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="symmetric")
    out = {}
    for dy in range(-pad, pad + 1):
        for dx in range(-pad, pad + 1):
            crop = padded[pad + dy : pad + dy + height, pad + dx : pad + dx + width]
            out[dy, dx, False], out[dy, dx, True] = crop, crop[:, ::-1]
    return out


def _explain(output, candidates, cutout):
    """The (dy, dx, flipped) whose crop ``output`` is outside one zeroed, border-clipped
    ``cutout`` square, and that square's (top, left, height, width); fails otherwise."""
    zero = output == 0
    assert (zero.all(-1) == zero.any(-1)).all()  # the square spans every channel
    zero = zero[..., 0]
    rows, cols = np.flatnonzero(zero.any(1)), np.flatnonzero(zero.any(0))
    assert len(rows) and len(cols), "no cutout square"
    top, left, h, w = rows[0], cols[0], rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert zero[top : top + h, left : left + w].all() and zero.sum() == h * w  # one rectangle
    height, width = zero.shape
    assert h == cutout or (h < cutout and (top == 0 or top + h == height))
    assert w == cutout or (w < cutout and (left == 0 or left + w == width))
    matches = [
        key for key, crop in candidates.items() if np.array_equal(output[~zero], crop[~zero])
    ]
    assert len(matches) == 1, f"output is no exact reflect-shifted copy: {matches}"
    return matches[0], (top, left, h, w)


def test_outputs_are_exact_shifted_mirrored_copies_with_one_cutout_square():
    n, height, width = 300, 9, 13  # H != W
    images = _gradient(n, height, width)
    layer = RandomCropCutout(pad=PAD, cutout=CUTOUT, horizontal_flip=True, seed=3)
    out = np.asarray(layer(images, training=True))
    assert out.shape == images.shape and out.dtype == np.float32
    candidates = _candidates(images[0], PAD)
    found = [_explain(o, candidates, CUTOUT) for o in out]
    shifts = {(dy, dx) for (dy, dx, _), _ in found}
    assert shifts == {(dy, dx) for dy in range(-PAD, PAD + 1) for dx in range(-PAD, PAD + 1)}
    flips = sum(flipped for (_, _, flipped), _ in found)
    assert 0.4 * n < flips < 0.6 * n  # about half (binomial sd 0.029 n)
    full = [(h, w) == (CUTOUT, CUTOUT) for _, (_, _, h, w) in found]
    assert 0.5 * n < sum(full) < n  # mostly inside, sometimes clipped at a border
    tops = {top for _, (top, _, _, _) in found}
    lefts = {left for _, (_, left, _, _) in found}
    # Centres on every pixel: the square's top is max(centre - cutout // 2, 0), likewise left.
    assert tops == set(range(height - CUTOUT // 2)) and lefts == set(range(width - CUTOUT // 2))


def test_digits_are_never_flipped_and_one_channel_works():
    augmentations = DATASETS["mnist"]["augmentations"]
    assert "horizontal_flip" not in augmentations
    layer = build_augmenter(augmentations, policy="crop_flip_cutout", seed=0)
    assert isinstance(layer, RandomCropCutout) and not layer.horizontal_flip
    assert {"pad": layer.pad, "cutout": layer.cutout} == CROP_POLICIES["crop_flip_cutout"]
    images = _gradient(60, 12, 10, channels=1)
    out = np.asarray(layer(images, training=True))
    candidates = _candidates(images[0], layer.pad)
    assert not any(_explain(o, candidates, layer.cutout)[0][2] for o in out)
    rgb = build_augmenter(DATASETS["cifar10"]["augmentations"], policy="crop_flip_cutout")
    assert rgb.horizontal_flip


def test_zero_pad_and_zero_cutout_disable_each_part():
    images = _gradient(8)
    only_cutout = RandomCropCutout(pad=0, cutout=CUTOUT, seed=1)(images, training=True)
    kept = np.asarray(only_cutout) != 0
    assert np.array_equal(np.asarray(only_cutout)[kept], images[kept])
    assert not kept.all()
    nothing = RandomCropCutout(pad=0, cutout=0, seed=1)(images, training=True)
    assert np.array_equal(np.asarray(nothing), images)


def test_identity_at_inference_and_serialization_round_trip(tmp_path):
    images = _gradient(4, 8, 11)
    layer = build_augmenter(policy="crop_flip_cutout", seed=5)
    assert np.array_equal(np.asarray(layer(images, training=False)), images)
    assert not np.array_equal(np.asarray(layer(images, training=True)), images)
    config = layer.get_config()
    assert {k: config[k] for k in ("pad", "cutout", "horizontal_flip", "seed")} == {
        "pad": 4,
        "cutout": 8,
        "horizontal_flip": True,
        "seed": 5,
    }
    clone = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(clone, RandomCropCutout) and clone.get_config() == config
    # A fresh layer with the same seed draws the same augmentations.
    first = RandomCropCutout.from_config(config)(images, training=True)
    again = RandomCropCutout.from_config(config)(images, training=True)
    assert np.array_equal(np.asarray(first), np.asarray(again))
    # And it survives a saved model.
    inputs = keras.Input((8, 11, 3))
    model = keras.Model(inputs, RandomCropCutout(pad=1, cutout=2, seed=0)(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[-1], RandomCropCutout)
    assert np.array_equal(np.asarray(loaded(images, training=False)), images)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_half_precision_inputs_keep_their_dtype(policy):
    dtype = policy.removeprefix("mixed_")
    images = keras.ops.cast(_gradient(6, 8, 10) % 200 + 1, dtype)  # exact in both formats
    out = RandomCropCutout(pad=2, cutout=3, horizontal_flip=True, seed=0, dtype=policy)(
        images, training=True
    )
    assert keras.backend.standardize_dtype(out.dtype) == dtype
    values = np.asarray(keras.ops.cast(out, "float32"))
    assert set(np.unique(values)) <= {
        0.0,
        *np.unique(np.asarray(keras.ops.cast(images, "float32"))),
    }


def test_layer_compiles_with_xla_inside_a_model():
    images = _gradient(8, 10, 12)
    inputs = keras.Input((10, 12, 3))
    x = RandomCropCutout(pad=2, cutout=4, horizontal_flip=True, seed=0)(inputs)
    x = keras.layers.Rescaling(1 / 4000)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=True)
    loss = model.train_on_batch(images, np.arange(8) % 2)
    assert model.jit_compile is True and np.isfinite(loss)
    step = tf.function(lambda t: model.layers[1](t, training=True), jit_compile=True)
    out = np.asarray(step(images))
    candidates = _candidates(images[0], 2)
    for o in out:
        _explain(o, candidates, 4)


def _tiny_ds(side=12, channels=3, n=60):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    x = (rng.integers(0, 80, (n, side, side, channels)) + 120 * y[:, None, None, None]).astype(
        "uint8"
    )
    return from_arrays(x, y, x[:20], y[:20], class_names=["dark", "bright"], name="toy")


def _tiny_model(ds):
    set_seed(0)
    inputs = keras.Input(ds.input_shape)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(ds.num_classes, activation="softmax")(x))


class _RecordJit(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.jit_compile = self.model.jit_compile


def test_train_with_the_policy_in_the_model_under_xla_records_it():
    ds = _tiny_ds()
    record = _RecordJit()
    run = train(
        _tiny_model(ds),
        ds,
        epochs=1,
        batch_size=16,
        augment=True,
        augment_policy="crop_flip_cutout",
        augment_placement="model",
        recipe=get_recipe("fast", jit_compile=True),
        verbose=0,
        callbacks=[record],
    )
    assert record.jit_compile is True
    assert run.config["augment_policy"] == "crop_flip_cutout"
    assert run.config["augment_placement"] == "model"
    assert np.isfinite(run.history["loss"][0])


def test_train_records_the_policy_in_the_pipeline_and_none_without_augmentation():
    ds = _tiny_ds()
    run = train(_tiny_model(ds), ds, epochs=1, batch_size=32, augment=True, verbose=0)
    assert run.config["augment_policy"] == "original"
    run = train(
        _tiny_model(ds),
        ds,
        epochs=1,
        batch_size=32,
        augment=False,
        augment_policy="crop_flip_cutout",
        verbose=0,
    )
    assert run.config["augment_policy"] is None


def test_bad_policy_or_sizes_fail_before_training():
    ds = _tiny_ds()
    model = _tiny_model(ds)
    with pytest.raises(ConfigError, match="augment_policy must be one of.*crop_flip_cutout"):
        train(model, ds, epochs=1, augment=True, augment_policy="cutmix", verbose=0)
    small = _tiny_ds(side=6)  # the default 8-pixel cutout does not fit
    with pytest.raises(ConfigError, match=r"cutout must be at most.*\(6 pixels\), got 8"):
        train(_tiny_model(small), small, augment=True, augment_policy="crop_flip_cutout")
    assert not model.compiled  # nothing was trained
    # Without augmentation the policy cannot matter, so small images are fine then; the name
    # is still checked.
    with pytest.raises(ConfigError, match="augment_policy"):
        train(model, ds, epochs=1, augment_policy=None, verbose=0)


def test_bad_layer_and_builder_arguments_are_config_errors():
    for kwargs, name in [
        ({"pad": -1}, "pad"),
        ({"pad": 1.5}, "pad"),
        ({"pad": True}, "pad"),
        ({"cutout": -2}, "cutout"),
        ({"cutout": "8"}, "cutout"),
    ]:
        with pytest.raises(ConfigError, match=f"{name} must be an integer >= 0"):
            RandomCropCutout(**kwargs)
    with pytest.raises(ConfigError, match="horizontal_flip must be True or False"):
        RandomCropCutout(horizontal_flip="yes")
    images = _gradient(2, 8, 12)
    with pytest.raises(ConfigError, match=r"pad must be smaller.*\(8 pixels\), got 8"):
        RandomCropCutout(pad=8, cutout=0)(images, training=True)
    with pytest.raises(ConfigError, match=r"cutout must be at most.*\(8 pixels\), got 9"):
        RandomCropCutout(pad=1, cutout=9)(images, training=True)
    RandomCropCutout(pad=7, cutout=8)(images, training=True)  # the limits themselves are fine

    with pytest.raises(ConfigError, match=r"unknown augment policy 'autoaugment'.*crop_flip"):
        build_augmenter(policy="autoaugment")
    with pytest.raises(ConfigError, match="fused=False.*only for augment policy 'original'"):
        build_augmenter(policy="crop_flip_cutout", fused=False)
    with pytest.raises(ConfigError, match=r"does not use \['rotation'\]"):
        build_augmenter(policy="crop_flip_cutout", rotation=5.0)
    with pytest.raises(ConfigError, match=r"does not use \['cutout'\]"):
        build_augmenter(policy="original", cutout=4)
    with pytest.raises(ConfigError, match="unknown augmentations"):
        build_augmenter(("vertical_flip",), policy="crop_flip_cutout")
    assert isinstance(build_augmenter(), RandomAffine)  # the default is unchanged


def test_cli_offers_the_policies():
    assert AUGMENT_POLICIES == ("original", "crop_flip_cutout", "flip_translate")
    assert tuple(POLICY_SETTINGS) == AUGMENT_POLICIES
    parser = build_parser()
    for policy in AUGMENT_POLICIES:
        args = parser.parse_args(["train", "--augment", "--augment-policy", policy])
        assert args.augment_policy == policy
    assert parser.parse_args(["train"]).augment_policy == "original"
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--augment-policy", "cutmix"])


def _matches(output, candidates):
    """The (dy, dx, flipped) keys of the candidate crops ``output`` equals exactly."""
    return [key for key, crop in candidates.items() if np.array_equal(output, crop)]


def test_flip_translate_shifts_and_mirrors_real_images_and_zeroes_nothing(sample_cifar10):
    layer = build_augmenter(sample_cifar10.augmentations, policy="flip_translate", seed=0)
    assert isinstance(layer, RandomCropCutout)
    assert (layer.pad, layer.cutout, layer.horizontal_flip) == (2, 0, True)
    images = sample_cifar10.x_train[:200].astype("float32")
    out = np.asarray(layer(images, training=True))
    found = []
    for image, o in zip(images, out, strict=True):
        matches = _matches(o, _candidates(image, 2))
        assert matches, "output is no exact shifted or mirrored copy (or has a Cutout square)"
        found.append(matches[0])
    assert {(dy, dx) for dy, dx, _ in found} == {
        (dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
    }
    assert 70 < sum(flipped for _, _, flipped in found) < 130  # about half (sd 7)


def test_flip_translate_never_mirrors_digits(sample_mnist):
    layer = build_augmenter(sample_mnist.augmentations, policy="flip_translate", seed=1)
    assert not layer.horizontal_flip
    images = sample_mnist.x_train[:100].astype("float32")
    out = np.asarray(layer(images, training=True))
    for image, o in zip(images, out, strict=True):
        assert any(not flipped for _, _, flipped in _matches(o, _candidates(image, 2)))


def test_flip_translate_settings_can_be_overridden_and_others_cannot():
    layer = build_augmenter(policy="flip_translate", pad=1, seed=0)
    assert (layer.pad, layer.cutout) == (1, 0)
    assert build_augmenter(policy="flip_translate", cutout=4).cutout == 4
    with pytest.raises(ConfigError, match=r"does not use \['zoom'\]"):
        build_augmenter(policy="flip_translate", zoom=0.2)
    with pytest.raises(ConfigError, match=r"does not use \['pad'\]"):
        build_augmenter(policy="original", pad=2)


def test_train_with_flip_translate_on_real_images_records_it(sample_cifar10):
    run = train(
        _tiny_model(sample_cifar10),
        sample_cifar10,
        epochs=1,
        batch_size=64,
        augment=True,
        augment_policy="flip_translate",
        verbose=0,
    )
    assert run.config["augment_policy"] == "flip_translate"
    assert np.isfinite(run.history["loss"][0])


def test_flip_translate_on_images_too_small_to_shift_fails_before_training():
    ds = _tiny_ds(side=2)  # a 2-pixel shift needs images of at least 3 pixels a side
    inputs = keras.Input(ds.input_shape)
    x = keras.layers.Flatten()(keras.layers.Rescaling(1 / 255)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    with pytest.raises(ConfigError, match=r"pad must be smaller.*\(2 pixels\), got 2"):
        train(model, ds, augment=True, augment_policy="flip_translate", verbose=0)
    assert not model.compiled
