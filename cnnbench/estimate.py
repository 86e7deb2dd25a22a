"""How long training will take on this machine, measured before it starts.

:func:`measure_pace` trains a fresh copy of a model for two short epochs on a slice of the real
data, with the batch size, recipe and augmentation the real run will use: the first epoch pays
for tracing (and XLA compilation on a GPU), the second gives the steady seconds per step. A
:class:`Pace` then prices a whole run of any length (:meth:`Pace.run_seconds`). The study runner
prices every seed run it still has to train this way before it starts (the plan and the estimate
it prints), and its progress bar's ETA scales what is left by how far the runs trained so far
have come from their estimates.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict, dataclass, replace

import keras
import numpy as np
import tensorflow as tf

from cnnbench.checks import check_positive_int
from cnnbench.errors import TrainingWarning
from cnnbench.evaluation import _timed_speed, predict_proba
from cnnbench.training import plan_recipe, set_seed, train

# Optimizer steps timed in each of the two calibration epochs: enough for a steady median on a
# CPU, few enough that pricing a dozen models stays under a minute or two.
CALIBRATION_STEPS = 8
CALIBRATION_VAL_IMAGES = 512  # images predicted per calibration, to price validation and tests


@dataclass(frozen=True)
class Pace:
    """Measured speed of one model on one dataset under one recipe and batch size."""

    model: str
    dataset: str
    augment: bool
    batch_size: int
    step_s: float  # seconds per optimizer step, steady state
    predict_image_s: float  # seconds per image predicted (validation, tests)
    startup_s: float  # once per run: tracing/compiling the train and predict steps
    timing_s: float  # once per run: evaluate()'s latency and throughput measurement

    def run_seconds(self, epochs: int, train_images: int, val_images: int, test_images: int):
        """Seconds of one run: ``epochs`` epochs with validation, then the test and validation
        evaluation the study runner does."""
        steps = math.ceil(train_images / self.batch_size) * epochs
        predicted = val_images * epochs + val_images + test_images
        return (
            self.startup_s + steps * self.step_s + predicted * self.predict_image_s + self.timing_s
        )

    def to_dict(self) -> dict:
        return asdict(self)


class StepTimer(keras.callbacks.Callback):
    """Seconds of each training step, per epoch (``steps[epoch]``)."""

    def __init__(self):
        super().__init__()
        self.steps: list[list[float]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.steps.append([])
        self._last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        self.steps[-1].append(now - self._last)
        self._last = now


def measure_pace(
    model: keras.Model,
    ds,
    *,
    epochs: int,
    augment: bool = False,
    augment_policy: str = "original",
    recipe="auto",
    batch_size: int | None = None,
    steps: int = CALIBRATION_STEPS,
    seed: int = 0,
) -> Pace:
    """Time ``model`` (untrained; its weights change) on a slice of ``ds`` as a real run would
    train it: the recipe and batch that ``train(model, ds, epochs=epochs, ...)`` would plan for
    the whole training set, the same augmentation and placement."""
    check_positive_int("epochs", epochs)
    check_positive_int("steps", steps)
    plan = plan_recipe(recipe, model, len(ds.x_train), epochs=epochs, batch_size=batch_size)
    batch = plan.recipe.batch_size
    n = min(len(ds.x_train), steps * batch)
    steps = math.ceil(n / batch)
    m = min(len(ds.x_val), CALIBRATION_VAL_IMAGES)
    part = replace(
        ds, x_train=ds.x_train[:n], y_train=ds.y_train[:n], x_val=ds.x_val[:m], y_val=ds.y_val[:m]
    )
    # The slice keeps the planned recipe (and so the batch) but trains two epochs on it; the
    # dropout ramp only changes rates, not the cost of a step.
    timed = plan.recipe.with_overrides(epochs=2, dropout_ramp=False)
    set_seed(seed)
    # Two tiny epochs learn nothing, which is not news; and timing a dozen fresh models makes
    # TensorFlow warn that their predict functions were traced many times, which is the point.
    tf_logger = tf.get_logger()
    level = tf_logger.level
    tf_logger.setLevel("ERROR")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrainingWarning)
            steps_timer = StepTimer()
            run = train(
                model,
                part,
                epochs=2,
                batch_size=batch,
                augment=augment,
                augment_policy=augment_policy,
                recipe=timed,
                seed=seed,
                verbose=0,
                callbacks=[steps_timer],
            )
        start = time.perf_counter()
        predict_proba(model, part.x_val)
        predict_image_s = (time.perf_counter() - start) / m
        start = time.perf_counter()
        _timed_speed(model, part.x_val)
        timing_s = time.perf_counter() - start
    finally:
        tf_logger.setLevel(level)
    # The median step of the second epoch: a step slowed by another process on a shared machine
    # moves it little; the first epoch's extra time over its steps is tracing (and compiling).
    step_s = float(np.median(steps_timer.steps[1]))
    first = run.train_phase_s[0]
    val_first, val_second = (
        e - t for e, t in zip(run.epoch_times_s, run.train_phase_s, strict=True)
    )
    return Pace(
        model=model.name,
        dataset=ds.name,
        augment=augment,
        batch_size=batch,
        step_s=step_s,
        predict_image_s=predict_image_s,
        startup_s=max(0.0, first - steps * step_s) + max(0.0, val_first - val_second),
        timing_s=timing_s,
    )


def format_seconds(seconds: float) -> str:
    """``"1 h 05 min"``, ``"12 min"``, ``"45 s"``: an estimate's precision, not a stopwatch's."""
    seconds = float(np.round(seconds))
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
