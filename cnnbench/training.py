"""Training: ``train()`` compiles a model with a recipe, fits it, and times every epoch.

Model selection and early stopping use the dataset's validation split only; the test split is
never looked at here.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass, field

import keras
import numpy as np
import tensorflow as tf

from cnnbench.augment import build_augmenter, check_crop_cutout
from cnnbench.checks import check_model_fits, check_positive_int
from cnnbench.config import (
    AUGMENT_POLICIES,
    AUTO_RECIPES,
    AUTO_SIZING,
    BN_WINDOW_SHARE,
    CROP_POLICIES,
    Recipe,
    get_recipe,
)
from cnnbench.errors import ConfigError, TrainingWarning
from cnnbench.pipeline import eval_dataset, train_dataset
from cnnbench.targeted import ClassBoost

PLACEMENTS = ("auto", "pipeline", "model")
SCALING_WORDS = {"linear": "in proportion to the batch", "sqrt": "with the batch's square root"}
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")


@dataclass
class TrainResult:
    """What one training run did and how long it took."""

    history: dict[str, list[float]]  # per epoch: loss, accuracy, val_loss, val_accuracy
    train_time_s: float  # wall-clock of the whole fit, compilation included
    epoch_times_s: list[float]  # wall-clock of each epoch, validation included
    train_phase_s: list[float]  # of each epoch, its training phase (before validation)
    images_per_second: float  # training images / median training-phase time of an epoch
    best_epoch: int  # 1-based epoch with the highest validation accuracy
    epochs_run: int  # may be fewer than asked for with early stopping
    seed: int
    config: dict = field(default_factory=dict)  # recipe, placement, strategy, precision, ...
    warning: str | None = None  # set when the run learnt nothing (see chance_warning)

    @property
    def best_val_accuracy(self) -> float:
        return self.history["val_accuracy"][self.best_epoch - 1]

    def to_dict(self) -> dict:
        return asdict(self)


def chance_warning(val_accuracy: float, y_val, num_classes: int, *, plain: bool, steps: int):
    """A sentence saying the run learnt nothing, or ``None``.

    A run learnt nothing when its best validation accuracy is within two binomial standard
    errors of always predicting the most common validation class: on 100 balanced images of 10
    classes that is up to 16%. ``plain`` (a network without BatchNorm) and ``steps`` (optimizer
    steps the run had) shape the advice: such networks sat at chance after a few dozen steps on
    small data under every recipe tried (docs/performance.md, section 6).
    """
    counts = np.bincount(np.asarray(y_val), minlength=num_classes)
    n = int(counts.sum())
    base = counts.max() / n
    if val_accuracy > base + 2 * math.sqrt(base * (1 - base) / n):
        return None
    advice = (
        " A network without BatchNorm, like this one, needs many more steps than one with it"
        " (e.g. 'custom')."
        if plain
        else ""
    )
    return (
        f"the model learnt nothing: its best validation accuracy, {val_accuracy:.1%}, is no "
        f"better than always predicting the most common class ({base:.1%} of "
        f"{n:,} validation images). It had {steps:,} optimizer "
        f"step{'s' if steps != 1 else ''}; train for more "
        f"epochs or on more images.{advice}"
    )


class EpochTimer(keras.callbacks.Callback):
    """Times each epoch, and separately its training phase (before validation starts)."""

    def __init__(self):
        super().__init__()
        self.epoch_times, self.train_phase_times = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._train_end = time.perf_counter(), None

    def on_test_begin(self, logs=None):
        if self._train_end is None:
            self._train_end = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        end = time.perf_counter()
        self.epoch_times.append(end - self._start)
        self.train_phase_times.append((self._train_end or end) - self._start)


class DropoutRamp(keras.callbacks.Callback):
    """Curriculum dropout (after Morerio et al., "Curriculum Dropout", ICCV 2017).

    Every Dropout layer's rate rises linearly from 0 in the first epoch to the layer's own rate
    in the last, so a short run first learns and only then is regularised. A traced train step
    holds the rate it was traced with, so the step is rebuilt at each epoch; the layers get their
    own rates back when training ends (:meth:`restore`), leaving the model as it was built.
    """

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs, self.targets = epochs, []

    def on_train_begin(self, logs=None):
        self.targets = [(layer, layer.rate) for layer in _dropout_layers(self.model)]

    def on_epoch_begin(self, epoch, logs=None):
        share = epoch / max(self.epochs - 1, 1)
        for layer, rate in self.targets:
            layer.rate = rate * share
        self.model.make_train_function(force=True)

    def on_train_end(self, logs=None):
        self.restore()

    def restore(self):
        for layer, rate in self.targets:
            layer.rate = rate


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow; call before building a model for repeatable weights."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    keras.utils.set_random_seed(int(seed))


def configure_precision(policy: str = "auto") -> str:
    """Set Keras' global dtype policy; call before building models. Returns the policy used.

    ``"auto"`` picks ``mixed_float16`` on GPUs with tensor cores (compute capability >= 7, e.g.
    the T4) and ``float32`` elsewhere: on CPUs mixed bfloat16 measured slower here
    (docs/performance.md).
    """
    if policy not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, got {policy!r}")
    if policy == "auto":
        from cnnbench.hardware import accelerators

        caps = [d.get("compute_capability") or (0, 0) for d in accelerators() if d["type"] == "GPU"]
        policy = "mixed_float16" if caps and min(caps) >= (7, 0) else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def resolve_strategy(strategy=None) -> tf.distribute.Strategy:
    """``None``/``"auto"``: TPU if one is attached, all GPUs if more than one, else the default.

    A ``tf.distribute.Strategy`` instance is used as given.
    """
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy not in (None, "auto"):
        raise ConfigError(
            f"strategy must be None, 'auto' or a tf.distribute.Strategy, got {strategy!r}"
        )
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, RuntimeError, tf.errors.NotFoundError):
        pass
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


@keras.saving.register_keras_serializable(package="cnnbench")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up from 0 to ``peak`` over ``warmup_steps``, then linear decay to
    ``final * peak`` at ``total_steps`` (measured better than constant or step schedules for
    runs of a few epochs, docs/performance.md)."""

    def __init__(self, peak, total_steps, warmup_steps, final=0.0):
        self.peak, self.total_steps = float(peak), int(total_steps)
        self.warmup_steps, self.final = max(1, int(warmup_steps)), float(final)

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        up = step / self.warmup_steps
        down = (self.total_steps - step) / max(1, self.total_steps - self.warmup_steps)
        fraction = keras.ops.where(step < self.warmup_steps, up, down)
        fraction = keras.ops.maximum(fraction, 0.0)
        if self.final:
            fraction = keras.ops.where(
                step < self.warmup_steps, fraction, self.final + (1 - self.final) * fraction
            )
        return self.peak * fraction

    def get_config(self):
        return {
            "peak": self.peak,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "final": self.final,
        }


def _learning_rate(recipe: Recipe, total_steps: int):
    if recipe.schedule == "constant":
        return recipe.learning_rate
    return OneCycle(
        recipe.learning_rate,
        total_steps,
        recipe.warmup_fraction * total_steps,
        recipe.final_lr_fraction,
    )


def _optimizer(recipe: Recipe, total_steps: int) -> keras.optimizers.Optimizer:
    lr = _learning_rate(recipe, total_steps)
    wd = recipe.weight_decay or None
    if recipe.optimizer == "sgd":
        opt = keras.optimizers.SGD(lr, momentum=recipe.momentum, nesterov=True, weight_decay=wd)
    elif recipe.optimizer == "adamw":
        opt = keras.optimizers.AdamW(lr, weight_decay=recipe.weight_decay)
    else:
        opt = keras.optimizers.Adam(lr, weight_decay=wd)
    if wd:
        # Decay only weights: shrinking BatchNorm scales/shifts and biases does not regularise.
        opt.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    return opt


def _layers(model):
    """Every layer of ``model``, nested models' layers included."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)


def _has_batchnorm(model) -> bool:
    return any(isinstance(layer, keras.layers.BatchNormalization) for layer in _layers(model))


def short_run_bn_momentum(model, steps: int) -> tuple[float, list]:
    """Lower the momentum of ``model``'s BatchNorm layers whose averaging window
    (``1 / (1 - momentum)`` steps) exceeds :data:`~cnnbench.config.BN_WINDOW_SHARE` of a run of
    ``steps`` optimizer steps. Returns the momentum cap and ``[(layer, its own momentum)]`` of
    the layers lowered, to restore."""
    cap = 1.0 - 1.0 / max(1.0, BN_WINDOW_SHARE * steps)
    changed = []
    for layer in _layers(model):
        if isinstance(layer, keras.layers.BatchNormalization) and layer.momentum > cap:
            changed.append((layer, layer.momentum))
            layer.momentum = cap
    return cap, changed


def _dropout_layers(model) -> list:
    """The Dropout layers of ``model`` (nested ones included) that drop anything."""
    return [
        layer
        for layer in _layers(model)
        if isinstance(layer, keras.layers.Dropout) and layer.rate > 0
    ]


@dataclass(frozen=True)
class RecipePlan:
    """The recipe a run will use, with its batch size and epochs filled in, and why."""

    name: str  # "fast", "fast_plain", a RECIPES name, or "given" for a Recipe passed in
    recipe: Recipe  # batch_size, learning_rate and epochs as the run will use them
    reason: str  # one sentence for the training summary

    def to_dict(self) -> dict:
        return {"name": self.name, **self.recipe.to_dict(), "reason": self.reason}


def plan_recipe(
    recipe: str | Recipe,
    model: keras.Model,
    train_images: int,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
) -> RecipePlan:
    """Resolve ``recipe`` for ``model`` trained on ``train_images`` images.

    ``"auto"`` starts from ``"fast"`` (one-cycle SGD) for models with BatchNorm layers and
    ``"fast_plain"`` (one-cycle AdamW) for models without, which SGD at that rate leaves at
    chance. Unless ``batch_size`` is given, it then halves the batch until the run has
    :data:`~cnnbench.config.AUTO_SIZING` ``.min_steps`` optimizer steps (not below the family's
    floor), and scales the peak learning rate with the batch (linearly for SGD, by the square
    root for AdamW). Named recipes and :class:`Recipe` objects are used as they are, with
    ``epochs``/``batch_size`` overriding theirs.
    """
    if isinstance(recipe, Recipe):
        name, base = "given", recipe
    elif recipe == "auto":
        name = AUTO_RECIPES[_has_batchnorm(model)]
        base = get_recipe(name)
    else:
        name, base = recipe, get_recipe(recipe)
    epochs = base.epochs if epochs is None else epochs
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size, allow_none=True)
    check_positive_int("train_images", train_images)
    if recipe != "auto" or batch_size is not None:
        batch = base.batch_size if batch_size is None else batch_size
        chosen = base.with_overrides(epochs=epochs, batch_size=batch)
        source = "as given" if batch_size is not None else f"the {name!r} recipe's"
        return RecipePlan(name, chosen, f"{name}: batch {batch} ({source})")

    sizing = AUTO_SIZING
    floor = min(sizing.min_batch[name], base.batch_size)
    batch = base.batch_size
    while batch > floor and math.ceil(train_images / batch) * epochs < sizing.min_steps:
        batch = max(floor, batch // 2)
    ratio = batch / sizing.reference_batch
    scale = ratio if sizing.lr_scaling[name] == "linear" else math.sqrt(ratio)
    steps = math.ceil(train_images / batch) * epochs
    ramp = name in sizing.dropout_ramp and steps < sizing.min_steps and bool(_dropout_layers(model))
    chosen = base.with_overrides(
        epochs=epochs,
        batch_size=batch,
        learning_rate=base.learning_rate * scale,
        dropout_ramp=ramp,
    )
    family = "has BatchNorm" if name == "fast" else "has no BatchNorm"
    if batch == base.batch_size:
        why = f"{train_images:,} images x {epochs} epochs give {steps:,} steps at batch {batch}"
    else:
        why = (
            f"batch {batch} (not {base.batch_size}) so {train_images:,} images x {epochs} epochs "
            f"give {steps:,} steps (wanted {sizing.min_steps}, smallest batch {floor}); peak "
            f"learning rate scaled {SCALING_WORDS[sizing.lr_scaling[name]]}"
        )
    if ramp and epochs == 1:  # the ramp's first epoch is its last: no dropout at all
        why += (
            f"; dropout off for this single epoch (the ramp starts at 0: {steps:,} steps are too "
            f"few to learn with it)"
        )
    elif ramp:
        why += (
            f"; dropout rises from 0 to the model's rate over the epochs ({steps:,} steps are "
            f"too few to learn with it from the start)"
        )
    return RecipePlan(
        name,
        chosen,
        f"auto -> {name} (the model {family}): {base.optimizer} one-cycle, peak "
        f"{chosen.learning_rate:.3g}; {why}",
    )


def _check_train_args(model, ds, augment, policy, placement, early_stopping, verbose, boost):
    check_model_fits(model, ds)
    if boost is not None:
        if not isinstance(boost, ClassBoost):
            raise ConfigError(
                f"class_boost must be None or a cnnbench.targeted.ClassBoost, got {boost!r}"
            )
        boost.check(ds.num_classes)
    if placement not in PLACEMENTS:
        raise ConfigError(f"augment_placement must be one of {PLACEMENTS}, got {placement!r}")
    if not isinstance(augment, bool):
        raise ConfigError(f"augment must be True or False, got {augment!r}")
    if not isinstance(policy, str) or policy not in AUGMENT_POLICIES:
        raise ConfigError(f"augment_policy must be one of {list(AUGMENT_POLICIES)}, got {policy!r}")
    if augment and policy in CROP_POLICIES:  # the crop and square must fit the images
        check_crop_cutout(
            **CROP_POLICIES[policy], height=ds.input_shape[0], width=ds.input_shape[1]
        )
    check_positive_int("early_stopping (a patience in epochs)", early_stopping, allow_none=True)
    if verbose not in (0, 1, 2, "auto"):
        raise ConfigError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    if len(ds.x_val) == 0:
        raise ConfigError("the dataset has no validation images; training needs a validation split")


def train(
    model: keras.Model,
    ds,
    *,
    epochs: int | None = None,
    batch_size: int | None = None,
    augment: bool = False,
    augment_policy: str = "original",
    seed: int = 42,
    recipe: str | Recipe = "auto",
    early_stopping: int | None = None,
    augment_placement: str = "auto",
    class_boost: ClassBoost | None = None,
    strategy=None,
    verbose=1,
    callbacks=(),
) -> TrainResult:
    """Compile ``model`` with ``recipe`` and train it on ``ds.x_train``, validating on ``ds.x_val``.

    Args:
        model: an (uncompiled or compiled) Keras model taking raw ``[0, 255]`` pixels and
            returning softmax probabilities, e.g. from :func:`cnnbench.build_model`.
        ds: a :class:`cnnbench.data.Dataset`.
        epochs, batch_size: default to the recipe's (``"auto"`` picks the batch size).
        augment: apply the dataset's label-preserving augmentations on the fly.
        augment_policy: which augmentations, one of :data:`cnnbench.config.AUGMENT_POLICIES`:
            ``"original"`` (the original study's rotation, shift, zoom and flip),
            ``"crop_flip_cutout"`` (random crop of the reflect-padded image, flip, Cutout;
            :class:`cnnbench.augment.RandomCropCutout`) or ``"flip_translate"`` (airbench94's:
            flip and a shift of up to 2 pixels, no Cutout). Flips only where the dataset's
            labels survive them. Recorded as ``config["augment_policy"]`` (``None`` without
            ``augment``).
        seed: seeds shuffling, augmentation and dropout.
        recipe: ``"auto"`` (``"fast"`` for models with BatchNorm, ``"fast_plain"`` without,
            sized to the data by :func:`plan_recipe`), a name from
            :data:`cnnbench.config.RECIPES` or a :class:`Recipe`.
        early_stopping: patience in epochs on validation accuracy, restoring the best weights;
            ``None`` trains all epochs and keeps the final weights.
        augment_placement: ``"pipeline"`` (in ``tf.data``, on the host CPU), ``"model"`` (a
            layer block in front of the model, so it runs on the accelerator), or ``"auto"``
            (``"model"`` when a GPU/TPU is present, else ``"pipeline"``).
        class_boost: a :class:`cnnbench.targeted.ClassBoost` giving some classes (e.g. the
            weakest on validation) more weight, by oversampling them (with ``augment``, each
            repeat differently augmented) or by weighting their loss, at the same number of
            steps an epoch; recorded as ``config["class_boost"]``.
        strategy: a ``tf.distribute.Strategy``, or ``None``/``"auto"`` to pick one. A model
            built outside the strategy's scope is cloned into it and its trained weights copied
            back, so ``model`` always ends up trained.
        verbose: Keras' progress display (0 silent, 1 progress bar, 2 one line per epoch).
        callbacks: extra Keras callbacks.
    """
    _check_train_args(
        model, ds, augment, augment_policy, augment_placement, early_stopping, verbose, class_boost
    )
    plan = plan_recipe(recipe, model, len(ds.x_train), epochs=epochs, batch_size=batch_size)
    recipe, epochs, batch_size = plan.recipe, plan.recipe.epochs, plan.recipe.batch_size
    if early_stopping is not None and recipe.schedule == "onecycle":
        raise ConfigError(
            f"early_stopping={early_stopping} would stop the one-cycle schedule of recipe "
            f"{plan.name!r} before it anneals (its weights are best at the end); drop "
            "early_stopping, or train with a constant-rate recipe such as 'original'"
        )
    strategy = resolve_strategy(strategy)
    if augment_placement == "auto":
        on_accelerator = bool(tf.config.list_logical_devices("GPU")) or isinstance(
            strategy, tf.distribute.TPUStrategy
        )
        augment_placement = "model" if on_accelerator else "pipeline"

    set_seed(seed)
    steps_per_epoch = math.ceil(len(ds.x_train) / batch_size)
    weights = None if class_boost is None else class_boost.class_weights(ds.y_train, ds.num_classes)
    oversample = class_boost is not None and class_boost.method == "oversample"
    augmenter = None
    if augment:
        augmenter = build_augmenter(ds.augmentations, policy=augment_policy, seed=seed)
    train_data = train_dataset(
        ds.x_train,
        ds.y_train,
        ds.num_classes,
        batch_size=batch_size,
        seed=seed,
        augmenter=augmenter if augment_placement == "pipeline" else None,
        class_weights=weights if oversample else None,
    )
    val_data = eval_dataset(ds.x_val, ds.y_val, ds.num_classes, batch_size=max(batch_size, 256))

    same_scope = getattr(model, "distribute_strategy", None) is strategy
    with strategy.scope():
        trained = model if same_scope else keras.models.clone_model(model)
        if not same_scope:
            trained.set_weights(model.get_weights())
        fit_model = trained
        if augmenter is not None and augment_placement == "model":
            inputs = keras.Input(shape=trained.input_shape[1:])
            fit_model = keras.Model(inputs, trained(augmenter(inputs)), name=f"{model.name}_aug")
        fit_model.compile(
            optimizer=_optimizer(recipe, steps_per_epoch * epochs),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing),
            metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
            jit_compile=recipe.jit_compile,
        )

    total_steps = steps_per_epoch * epochs
    bn_cap, bn_restore = short_run_bn_momentum(trained, total_steps)  # before fit() traces
    timer = EpochTimer()
    all_callbacks = [timer, *callbacks]
    ramp = DropoutRamp(epochs) if recipe.dropout_ramp else None
    if ramp is not None:
        all_callbacks.append(ramp)
    if early_stopping is not None:
        all_callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_accuracy",
                mode="max",
                patience=early_stopping,
                restore_best_weights=True,
            )
        )
    start = time.perf_counter()
    try:
        keras_history = fit_model.fit(
            train_data,
            validation_data=val_data,
            epochs=epochs,
            shuffle=False,  # the pipeline reshuffles every epoch itself
            callbacks=all_callbacks,
            verbose=verbose,
            class_weight=None if weights is None or oversample else dict(enumerate(weights)),
        )
    finally:  # an interrupted run leaves the model's dropout and BatchNorm as they were built
        if ramp is not None:
            ramp.restore()
        for layer, momentum in bn_restore:
            layer.momentum = momentum
    train_time = time.perf_counter() - start
    if trained is not model:
        model.set_weights(trained.get_weights())

    history = {k: [float(v) for v in vals] for k, vals in keras_history.history.items()}
    history = {k: history[k] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
    best_epoch = int(np.argmax(history["val_accuracy"])) + 1
    warning = chance_warning(
        history["val_accuracy"][best_epoch - 1],
        ds.y_val,
        ds.num_classes,
        plain=not _has_batchnorm(model),
        steps=steps_per_epoch * len(history["loss"]),
    )
    if warning:
        warnings.warn(f"{model.name} on {ds.name}: {warning}", TrainingWarning, stacklevel=2)
    return TrainResult(
        history=history,
        train_time_s=train_time,
        epoch_times_s=timer.epoch_times,
        train_phase_s=timer.train_phase_times,
        images_per_second=len(ds.x_train) / float(np.median(timer.train_phase_times)),
        best_epoch=best_epoch,
        epochs_run=len(history["loss"]),
        seed=seed,
        config={
            "model": model.name,
            "params": int(model.count_params()),
            "dataset": ds.name,
            "train_images": len(ds.x_train),
            "val_images": len(ds.x_val),
            "epochs": epochs,
            "batch_size": batch_size,
            "augment": augment,
            "augmentations": list(ds.augmentations) if augment else [],
            "augment_policy": augment_policy if augment else None,
            "augment_placement": augment_placement if augment else None,
            "early_stopping_patience": early_stopping,
            # the BatchNorm momentum this short run trained with (None: the model's own)
            "bn_momentum": round(bn_cap, 4) if bn_restore else None,
            "class_boost": None if class_boost is None else class_boost.to_dict(),
            "recipe": plan.to_dict(),
            "strategy": type(strategy).__name__,
            "replicas": strategy.num_replicas_in_sync,
            "precision": keras.mixed_precision.global_policy().name,
        },
        warning=warning,
    )
