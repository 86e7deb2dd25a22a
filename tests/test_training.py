"""train(), the tf.data pipeline, augmentation, recipes, precision and distribution."""

import math
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from cnnbench import build_model, from_arrays, get_recipe, set_seed, train
from cnnbench.augment import build_augmenter
from cnnbench.config import AUTO_SIZING, Recipe
from cnnbench.errors import ConfigError, TrainingWarning
from cnnbench.pipeline import train_dataset
from cnnbench.training import (
    DropoutRamp,
    _learning_rate,
    chance_warning,
    configure_precision,
    plan_recipe,
)


def _separable(n, shape=(16, 16, 3), classes=3, seed=0):
    """Images whose brightness gives away the class, so a few epochs learn something."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    noise = rng.integers(0, 60, (n, *shape))
    return (noise + y[:, None, None, None] * 80).astype(np.uint8), y


@pytest.fixture(scope="module")
def small_ds():
    x, y = _separable(240)
    xt, yt = _separable(60, seed=1)
    return from_arrays(x, y, xt, yt, class_names=["dark", "mid", "bright"], name="toy")


def _model(ds, seed=0, name="custom_v1"):
    set_seed(seed)
    return build_model(name, ds.input_shape, ds.num_classes)


def test_train_returns_a_complete_timed_record(small_ds):
    run = train(_model(small_ds), small_ds, epochs=3, batch_size=32, verbose=0)
    assert set(run.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in run.history.values())
    assert run.epochs_run == 3 and len(run.epoch_times_s) == 3
    assert run.train_time_s >= sum(run.epoch_times_s) * 0.99
    assert run.images_per_second > 0
    assert run.best_epoch == int(np.argmax(run.history["val_accuracy"])) + 1
    assert run.config["train_images"] == len(small_ds.x_train)
    assert run.config["recipe"]["name"] == "fast_plain"  # custom_v1 has no BatchNorm
    assert run.config["recipe"]["optimizer"] == get_recipe("fast_plain").optimizer
    assert run.history["accuracy"][-1] > 0.5  # learnt the brightness rule


def test_a_short_run_averages_batchnorm_over_a_share_of_its_steps(small_ds):
    from cnnbench.config import BN_WINDOW_SHARE
    from cnnbench.training import short_run_bn_momentum

    model = _model(small_ds, name="custom")
    bns = [layer for layer in model.get_layer("features").layers if "bn" in layer.name]
    cap, changed = short_run_bn_momentum(model, steps=21)  # a 10-step window would be half
    assert cap == pytest.approx(1 - 1 / (BN_WINDOW_SHARE * 21))
    assert {layer.name for layer, _ in changed} == {layer.name for layer in bns}
    assert all(layer.momentum == pytest.approx(cap) for layer in bns)
    for layer, momentum in changed:
        layer.momentum = momentum
    assert short_run_bn_momentum(model, steps=1_000)[1] == []  # long runs keep 0.9
    assert all(layer.momentum == 0.9 for layer in bns)

    run = train(model, small_ds, epochs=3, verbose=0)  # 21 steps at the auto batch of 32
    assert run.config["bn_momentum"] == pytest.approx(cap, abs=1e-4)
    assert all(layer.momentum == 0.9 for layer in bns)  # the model keeps its own afterwards


def test_a_run_that_learns_says_nothing_about_chance(small_ds):
    run = train(_model(small_ds, name="custom"), small_ds, epochs=3, verbose=0)
    assert run.best_val_accuracy > 0.9 and run.warning is None


def test_a_run_on_random_labels_warns_that_it_learnt_nothing():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (600, 16, 16, 3), dtype=np.uint8)
    y = rng.permutation(np.arange(600) % 3)  # labels unrelated to the images
    noise = from_arrays(x, y, x[:30], y[:30], name="noise", val_fraction=0.5)
    with pytest.warns(TrainingWarning, match=r"custom_v1 on noise: the model learnt nothing"):
        run = train(_model(noise), noise, epochs=1, verbose=0)
    assert run.warning.startswith("the model learnt nothing: its best validation accuracy")
    assert "33.3% of 300 validation images" in run.warning
    assert "without BatchNorm" in run.warning  # custom_v1 is a plain network
    assert run.to_dict()["warning"] == run.warning


def test_chance_warning_threshold_and_advice():
    balanced = np.arange(100) % 10  # 10% a class: chance is 10%, two standard errors 6 points
    assert chance_warning(0.17, balanced, 10, plain=False, steps=30) is None
    message = chance_warning(0.15, balanced, 10, plain=False, steps=30)
    assert "15.0%" in message and "(10.0% of 100 validation images)" in message
    assert "30 optimizer steps" in message and "BatchNorm" not in message
    assert "without BatchNorm" in chance_warning(0.1, balanced, 10, plain=True, steps=30)
    assert "It had 1 optimizer step;" in chance_warning(0.1, balanced, 10, plain=True, steps=1)
    skewed = np.array([0] * 90 + [1] * 10)  # always answering class 0 scores 90%
    assert chance_warning(0.92, skewed, 2, plain=False, steps=5) is not None
    assert chance_warning(0.97, skewed, 2, plain=False, steps=5) is None


def test_training_changes_the_callers_model(small_ds):
    model = _model(small_ds)
    before = [w.copy() for w in model.get_weights()]
    train(model, small_ds, epochs=1, batch_size=32, verbose=0)
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_every_epoch_sees_every_training_image_once():
    n = 203  # not a multiple of the batch size: the last partial batch must be kept
    x = np.zeros((n, 8, 8, 1), np.uint8)
    ids = np.arange(n)  # labels double as image ids
    for augmenter in (None, build_augmenter(("rotation", "zoom"), seed=1)):
        data = train_dataset(x, ids, n, batch_size=16, seed=0, augmenter=augmenter)
        for _ in range(2):  # two epochs, reshuffled
            seen = np.concatenate([labels.numpy().argmax(1) for _, labels in data])
            assert sorted(seen.tolist()) == list(range(n))


def test_fit_runs_all_steps_of_every_epoch(small_ds):
    class Count(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps = []

        def on_epoch_begin(self, epoch, logs=None):
            self.steps.append(0)

        def on_train_batch_end(self, batch, logs=None):
            self.steps[-1] += 1

    counter = Count()
    train(
        _model(small_ds),
        small_ds,
        epochs=2,
        batch_size=50,
        augment=True,
        verbose=0,
        callbacks=[counter],
    )
    assert counter.steps == [int(np.ceil(len(small_ds.x_train) / 50))] * 2


def test_same_seed_same_first_epoch_loss(small_ds):
    losses = [
        train(
            _model(small_ds, 3), small_ds, epochs=1, batch_size=32, augment=True, seed=7, verbose=0
        ).history["loss"][0]
        for _ in range(2)
    ]
    other = train(
        _model(small_ds, 3), small_ds, epochs=1, batch_size=32, augment=True, seed=8, verbose=0
    ).history["loss"][0]
    assert losses[0] == losses[1]
    assert other != losses[0]


@pytest.mark.parametrize("placement", ["pipeline", "model"])
def test_augmentation_placements_both_train(small_ds, placement):
    model = _model(small_ds)
    run = train(
        model,
        small_ds,
        epochs=1,
        batch_size=32,
        augment=True,
        augment_placement=placement,
        verbose=0,
    )
    assert run.config["augment_placement"] == placement
    assert run.config["augmentations"] == list(small_ds.augmentations)
    assert model.input_shape[1:] == small_ds.input_shape  # the caller's model is unwrapped


def test_early_stopping_stops_and_restores(small_ds):
    frozen = get_recipe("fast", learning_rate=1e-12, schedule="constant")
    run = train(
        _model(small_ds),
        small_ds,
        epochs=10,
        batch_size=32,
        recipe=frozen,
        early_stopping=1,
        verbose=0,
    )
    assert run.epochs_run == 2  # no improvement after epoch 1, patience 1
    assert run.config["early_stopping_patience"] == 1


def test_auto_recipe_follows_batchnorm(small_ds):
    assert plan_recipe("auto", _model(small_ds, name="custom"), 50_000).name == "fast"
    assert plan_recipe("auto", _model(small_ds, name="alexnet"), 50_000).name == "fast_plain"
    assert plan_recipe("original", _model(small_ds), 500).recipe == get_recipe("original")


@pytest.mark.parametrize(
    "images, epochs, batch",
    [
        (45_000, 6, 256),  # 1,056 steps at 256: the tuned recipe unchanged
        (12_500, 8, 128),  # 392 steps at 256, 784 at 128
        (8_000, 3, 32),  # 96 steps at 256 ... 375 at 64, 750 at 32
        (500, 3, 32),  # far too few steps at any batch: the floor
    ],
)
def test_auto_recipe_halves_the_batch_until_enough_steps(small_ds, images, epochs, batch):
    plan = plan_recipe("auto", _model(small_ds, name="custom"), images, epochs=epochs)
    b = plan.recipe.batch_size
    assert b == batch
    # the halving stopped at the first batch with enough steps, or at the floor
    assert (
        b == AUTO_SIZING.min_batch["fast"]
        or b == 256
        or (
            math.ceil(images / b) * epochs >= AUTO_SIZING.min_steps
            and math.ceil(images / (2 * b)) * epochs < AUTO_SIZING.min_steps
        )
    )
    assert plan.recipe.epochs == epochs
    base = get_recipe("fast")
    assert plan.recipe.learning_rate == pytest.approx(base.learning_rate * b / 256)  # linear
    assert f"{images:,} images x {epochs} epochs" in plan.reason


def test_auto_recipe_scales_adamw_by_the_square_root(small_ds):
    plan = plan_recipe("auto", _model(small_ds, name="alexnet"), 500, epochs=3)
    floor = AUTO_SIZING.min_batch["fast_plain"]
    assert plan.recipe.batch_size == floor
    base = get_recipe("fast_plain")
    assert plan.recipe.learning_rate == pytest.approx(base.learning_rate * math.sqrt(floor / 256))
    assert "square root" in plan.reason


def test_a_given_batch_size_is_kept(small_ds):
    plan = plan_recipe("auto", _model(small_ds, name="custom"), 500, epochs=3, batch_size=100)
    assert plan.recipe.batch_size == 100
    assert plan.recipe.learning_rate == get_recipe("fast").learning_rate
    assert "as given" in plan.reason


@pytest.mark.parametrize(
    "name, images, epochs, ramp",
    [
        ("alexnet", 500, 3, True),  # 24 steps at the plain floor (64)
        ("alexnet", 12_500, 3, True),  # 588 steps: still short of min_steps
        ("alexnet", 12_500, 10, False),  # 1,960 steps: dropout from the start
        ("custom_v1", 500, 3, True),  # the original's plain variants have dropout too
        ("custom", 500, 3, False),  # BatchNorm family: its dropout (none by default) as built
    ],
)
def test_auto_recipe_ramps_dropout_only_in_short_plain_runs(small_ds, name, images, epochs, ramp):
    plan = plan_recipe("auto", _model(small_ds, name=name), images, epochs=epochs)
    assert plan.recipe.dropout_ramp is ramp
    assert ("dropout rises from 0" in plan.reason) is ramp


def test_a_one_epoch_ramp_says_it_trains_without_dropout(small_ds):
    plan = plan_recipe("auto", _model(small_ds, name="alexnet"), 500, epochs=1)
    assert plan.recipe.dropout_ramp
    assert "dropout off for this single epoch" in plan.reason
    assert "rises" not in plan.reason


def test_auto_recipe_does_not_ramp_a_plain_model_without_dropout(small_ds):
    model = build_model("alexnet", small_ds.input_shape, small_ds.num_classes, dropout=0.0)
    assert not plan_recipe("auto", model, 500, epochs=3).recipe.dropout_ramp


def test_named_recipes_keep_dropout_as_built(small_ds):
    plan = plan_recipe("fast_plain", _model(small_ds, name="alexnet"), 500, epochs=3)
    assert not plan.recipe.dropout_ramp


def _dropout_rates(model):
    return [layer.rate for layer in model.get_layer("classifier").layers if "dropout" in layer.name]


def test_dropout_ramp_trains_each_epoch_at_its_rate_then_restores_the_model(small_ds):
    model = _model(small_ds, name="alexnet")
    seen = []  # the rates the layers hold, and the step's dropout, while each epoch trains

    class Spy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                seen.append(_dropout_rates(self.model))

    recipe = get_recipe("fast_plain", batch_size=32, dropout_ramp=True)
    run = train(model, small_ds, epochs=3, recipe=recipe, verbose=0, callbacks=[Spy()])
    assert seen == [[0.0, 0.0], [0.25, 0.25], [0.5, 0.5]]
    assert _dropout_rates(model) == [0.5, 0.5]  # as built, so saving/cloning keeps 0.5
    assert run.config["recipe"]["dropout_ramp"] is True


def test_dropout_ramp_reaches_the_traced_train_step():
    """A traced step keeps the rate it was traced with; the ramp rebuilds it every epoch.

    With a zero learning rate the weights never move, so repeated steps on one batch give the
    same loss exactly when the step applies no dropout.
    """
    inputs = keras.Input((64,))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Dropout(0.5)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="categorical_crossentropy")
    x, y = np.random.default_rng(0).normal(size=(16, 64)), np.eye(2)[np.arange(16) % 2]
    ramp = DropoutRamp(epochs=3)
    ramp.set_model(model)
    ramp.on_train_begin()

    def two_losses():
        return [float(model.train_on_batch(x, y)) for _ in range(2)]

    ramp.on_epoch_begin(0)  # rate 0
    first, second = two_losses()
    assert first == second
    ramp.on_epoch_begin(2)  # rate 0.5
    first, second = two_losses()
    assert first != second
    ramp.on_train_end()
    assert model.layers[1].rate == 0.5


def test_recipe_rejects_a_non_boolean_dropout_ramp():
    with pytest.raises(ConfigError, match="dropout_ramp must be True or False"):
        get_recipe("fast_plain", dropout_ramp="yes")


def test_train_records_the_planned_recipe_and_why(small_ds):
    run = train(_model(small_ds, name="custom"), small_ds, epochs=2, verbose=0)
    plan = plan_recipe("auto", _model(small_ds, name="custom"), len(small_ds.x_train), epochs=2)
    assert run.config["batch_size"] == plan.recipe.batch_size
    assert run.config["recipe"] == plan.to_dict()
    assert run.config["recipe"]["reason"].startswith("auto -> fast")


def test_original_recipe_is_adam_batch_64(small_ds):
    run = train(_model(small_ds), small_ds, epochs=1, recipe="original", verbose=0)
    assert run.config["batch_size"] == 64
    assert run.config["recipe"]["optimizer"] == "adam"


def test_plain_long_is_the_recipe_measured_at_50_epochs():
    # docs/performance.md, section 21: with these values the package repeats section 19's
    # alexnet run to the digit; a change to fast_plain must not move them unnoticed
    long = get_recipe("plain_long")
    assert (long.optimizer, long.schedule, long.warmup_fraction, long.label_smoothing) == (
        "adamw",
        "onecycle",
        0.2,
        0.1,
    )
    assert (long.learning_rate, long.batch_size, long.epochs, long.weight_decay) == (
        1e-3,
        64,
        50,
        0.1,
    )


def test_plain_long_with_flip_translate_trains_alexnet_on_real_digits(sample_mnist):
    set_seed(0)
    model = build_model("alexnet", sample_mnist.input_shape, sample_mnist.num_classes)
    run = train(
        model,
        sample_mnist,
        epochs=2,
        augment=True,
        augment_policy="flip_translate",
        recipe="plain_long",
        verbose=0,
    )
    assert run.config["batch_size"] == 64 and run.config["augment_policy"] == "flip_translate"
    assert run.config["recipe"]["weight_decay"] == 0.1
    assert run.config["recipe"]["reason"].startswith("plain_long: batch 64")
    assert run.history["val_accuracy"][-1] > 0.9  # 5,400 digits, 170 steps


def test_onecycle_schedule_shape():
    recipe = get_recipe("fast", learning_rate=0.1, warmup_fraction=0.2, final_lr_fraction=0.0)
    schedule = _learning_rate(recipe, total_steps=100)
    lr = [float(schedule(step)) for step in (0, 10, 20, 60, 100, 120)]
    assert lr == pytest.approx([0.0, 0.05, 0.1, 0.05, 0.0, 0.0], abs=1e-7)
    floor = _learning_rate(get_recipe("fast", learning_rate=0.1, final_lr_fraction=0.1), 100)
    assert float(floor(100)) == pytest.approx(0.01)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"augment": "yes"}, "augment"),
        ({"augment_placement": "gpu"}, "augment_placement"),
        ({"early_stopping": 0}, "early_stopping"),
        ({"recipe": "turbo"}, "unknown recipe"),
        ({"strategy": "mirrored"}, "strategy"),
        ({"verbose": 5}, "verbose"),
    ],
)
def test_bad_arguments_fail_before_training(small_ds, kwargs, message):
    model = _model(small_ds)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ConfigError, match=message):
        train(model, small_ds, **{"epochs": 1, **kwargs})
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


@pytest.mark.parametrize(
    "shape, classes, message",
    [((28, 28, 1), 3, "takes inputs of shape"), ((16, 16, 3), 10, "predicts 10 classes")],
)
def test_a_model_that_does_not_fit_the_data_fails_before_training(
    small_ds, shape, classes, message
):
    model = build_model("custom_v1", shape, classes)
    with pytest.raises(ConfigError, match=message):
        train(model, small_ds, epochs=1, verbose=0)


def test_recipe_validation():
    with pytest.raises(ConfigError, match="optimizer"):
        Recipe(optimizer="lbfgs", learning_rate=0.1, batch_size=8, epochs=1)
    with pytest.raises(ConfigError, match="label_smoothing"):
        get_recipe("fast", label_smoothing=1.5)
    with pytest.raises(ConfigError, match="unknown recipe fields"):
        get_recipe("fast", lr=0.1)


def test_configure_precision():
    try:
        assert configure_precision("auto") == "float32"  # no GPU here
        assert configure_precision("mixed_bfloat16") == "mixed_bfloat16"
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        with pytest.raises(ConfigError, match="precision"):
            configure_precision("fp8")
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_augmenter_validation_and_passthrough():
    with pytest.raises(ConfigError, match="unknown augmentations"):
        build_augmenter(("vertical_flip",))
    with pytest.raises(ConfigError, match="rotation"):
        build_augmenter(rotation=400)
    x = np.random.default_rng(0).integers(0, 255, (4, 12, 12, 1)).astype("float32")
    for fused in (True, False):
        aug = build_augmenter(("rotation", "translation", "zoom"), seed=0, fused=fused)
        assert np.array_equal(np.asarray(aug(x, training=False)), x)
        out = np.asarray(aug(x, training=True))
        assert out.shape == x.shape and out.dtype == np.float32 and not np.array_equal(out, x)
    stack = build_augmenter(("rotation", "translation", "zoom"), fused=False)
    assert [layer.__class__.__name__ for layer in stack.layers] == [
        "RandomRotation",
        "RandomTranslation",
        "RandomZoom",
    ]


def test_fused_flip_mirrors_exactly_and_digits_never_flip():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (64, 10, 10, 3)).astype("float32")
    out = np.asarray(build_augmenter(("horizontal_flip",), seed=1)(x, training=True))
    mirrored = [np.allclose(o, i[:, ::-1], atol=1e-3) for o, i in zip(out, x, strict=True)]
    kept = [np.allclose(o, i, atol=1e-3) for o, i in zip(out, x, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert 16 < sum(mirrored) < 48  # about half
    digits = from_arrays(
        x[:40].astype("uint8")[..., :1],
        np.arange(40) % 2,
        x[:10].astype("uint8")[..., :1],
        np.arange(10) % 2,
        name="digits",
    )
    assert "horizontal_flip" not in digits.augmentations
    no_flip = build_augmenter(digits.augmentations, rotation=0, translation=0, zoom=0)
    assert not no_flip.horizontal_flip


def test_fused_transform_is_centred():
    """With every range at zero the affine transform is exactly the identity."""
    x = np.random.default_rng(0).integers(0, 255, (8, 9, 9, 1)).astype("float32")
    identity = build_augmenter(("rotation", "zoom"), rotation=0.0, zoom=0.0, seed=0)
    assert np.allclose(np.asarray(identity(x, training=True)), x, atol=1e-3)


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    """A real MirroredStrategy run; in a subprocess because devices are fixed at TF start."""
    script = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from cnnbench import build_model, from_arrays, set_seed, train
        rng = np.random.default_rng(0)
        y = np.arange(96) % 2
        x = (rng.integers(0, 100, (96, 12, 12, 1)) + 100 * y[:, None, None, None]).astype("uint8")
        ds = from_arrays(x, y, x[:20], y[:20], name="toy")
        set_seed(0)
        model = build_model("custom_v1", ds.input_shape, 2)
        before = model.get_weights()
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        run = train(model, ds, epochs=1, batch_size=16, strategy=strategy, verbose=0)
        assert run.config["strategy"] == "MirroredStrategy", run.config
        assert run.config["replicas"] == 2, run.config
        assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
        print("OK")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("OK")
