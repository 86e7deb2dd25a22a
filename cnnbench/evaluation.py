"""Evaluation: accuracy, loss, confusion matrix, per-class report, size and speed of a model."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.metrics import classification_report, confusion_matrix, log_loss

from cnnbench.checks import check_model_fits, check_positive_int, check_tta, check_tta_mode
from cnnbench.errors import ConfigError

SPLITS = ("train", "val", "test")


@dataclass
class EvalResult:
    """Metrics of one model on one split of a dataset."""

    split: str
    accuracy: float
    loss: float  # mean cross-entropy (no label smoothing)
    y_true: np.ndarray
    y_pred: np.ndarray
    probabilities: np.ndarray
    confusion_matrix: np.ndarray  # rows: true class, columns: predicted class
    report: dict  # sklearn classification_report(output_dict=True)
    per_class_accuracy: np.ndarray  # share of each true class predicted correctly
    class_names: list[str]
    params: int
    flops: int  # per image, forward pass; a multiply-add counts as 2
    latency_ms: float | None = None  # one image at a time (batch 1), median
    throughput_ips: float | None = None  # images per second at a large batch
    extra: dict = field(default_factory=dict)

    def report_frame(self) -> pd.DataFrame:
        """Per-class precision, recall, F1, support and accuracy as a DataFrame."""
        rows = {name: self.report[name] for name in self.class_names}
        frame = pd.DataFrame(rows).T[["precision", "recall", "f1-score", "support"]]
        frame["accuracy"] = self.per_class_accuracy
        frame["support"] = frame["support"].astype(int)
        return frame

    def to_dict(self, include_predictions: bool = False) -> dict:
        """JSON-serialisable summary; predictions only on request (they are large)."""
        out = {
            "split": self.split,
            "accuracy": self.accuracy,
            "loss": self.loss,
            "confusion_matrix": self.confusion_matrix.tolist(),
            "report": self.report,
            "per_class_accuracy": self.per_class_accuracy.tolist(),
            "class_names": list(self.class_names),
            "params": self.params,
            "flops": self.flops,
            "latency_ms": self.latency_ms,
            "throughput_ips": self.throughput_ips,
            **self.extra,
        }
        if include_predictions:
            out["y_true"] = self.y_true.tolist()
            out["y_pred"] = self.y_pred.tolist()
        return out


def count_flops(model: keras.Model) -> int:
    """Forward-pass FLOPs per image of the convolution and dense layers (multiply-add = 2).

    Counted from each layer's kernel and output shape, recursing into nested models; pooling,
    normalisation and activations are cheap by comparison and not counted.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += count_flops(layer)
            continue
        # MACs per output position are the kernel's size: kh*kw*cin*cout for a convolution,
        # kh*kw*cin*multiplier for a depthwise one (separable: both kernels), in*out for Dense.
        kernels = [
            getattr(layer, n, None) for n in ("kernel", "depthwise_kernel", "pointwise_kernel")
        ]
        macs = sum(int(np.prod(k.shape)) for k in kernels if k is not None)
        if macs:
            out_shape = layer.output.shape
            spatial = int(np.prod(out_shape[1:-1])) if len(out_shape) > 2 else 1
            total += 2 * spatial * macs
    return int(total)


def _timed_speed(model: keras.Model, x: np.ndarray, batch: int = 256) -> tuple[float, float]:
    """(median ms per image at batch 1, images/s at ``batch``), after warm-up runs."""
    forward = tf.function(lambda images: model(images, training=False), reduce_retracing=True)
    single = tf.constant(x[:1], tf.float32)
    for _ in range(3):
        forward(single)
    times = []
    for i in range(30):
        image = tf.constant(x[i % len(x) : i % len(x) + 1], tf.float32)
        start = time.perf_counter()
        forward(image).numpy()
        times.append(time.perf_counter() - start)
    latency_ms = float(np.median(times) * 1000)

    big = tf.constant(np.resize(x, (batch, *x.shape[1:])), tf.float32)
    forward(big).numpy()
    runs, start = 0, time.perf_counter()
    while runs < 3 or time.perf_counter() - start < 1.0:
        forward(big).numpy()
        runs += 1
    throughput = runs * batch / (time.perf_counter() - start)
    return latency_ms, float(throughput)


def predict_proba(
    model: keras.Model, x: np.ndarray, batch_size: int = 256, tta: bool | str = False
) -> np.ndarray:
    """Class probabilities for uint8 images, in input order.

    ``tta`` (test-time augmentation; a :data:`~cnnbench.checks.TTA_MODES` name, True = "flip"):
    ``"flip"`` averages each image's probabilities with its mirror image's (+1.3 points on
    CIFAR-10 at 50 epochs, docs/performance.md); ``"translate"`` averages them, half and half,
    with the mean over the image shifted one pixel up-left and one down-right (edges reflected);
    ``"flip_translate"`` does both: airbench94's TTA, 6 views. The caller checks that the
    views keep its labels true (:func:`~cnnbench.checks.check_tta`, as :func:`evaluate` does).
    """
    mode = check_tta_mode(tta)

    def predict(images):
        data = tf.data.Dataset.from_tensor_slices(images).batch(batch_size)
        data = data.map(lambda batch: tf.cast(batch, tf.float32))
        return np.asarray(model.predict(data, verbose=0), dtype=np.float64)

    def flipped(images):
        proba = predict(images)
        if mode in ("flip", "flip_translate"):
            proba = (proba + predict(images[:, :, ::-1])) / 2
        return proba

    proba = flipped(x)
    if mode in ("translate", "flip_translate"):
        height, width = x.shape[1:3]
        padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
        shifted = (padded[:, :height, :width], padded[:, 2:, 2:])
        proba = proba / 2 + sum(flipped(s) for s in shifted) / 4
    return proba


def evaluate(
    model: keras.Model,
    ds,
    *,
    split: str = "test",
    batch_size: int = 256,
    timing: bool = True,
    tta: bool | str = False,
) -> EvalResult:
    """Evaluate ``model`` on one split of ``ds`` (the test split by default).

    ``timing=False`` skips the latency/throughput measurement (a few seconds). ``tta``
    averages predictions over augmented views of each image (:func:`predict_proba`): True or
    ``"flip"`` (each image and its mirror), ``"translate"``, ``"flip_translate"``; only views
    that keep ``ds``'s labels true (``ds.augmentations``), checked before any prediction.
    """
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")
    check_positive_int("batch_size", batch_size)
    tta = check_tta(ds, tta)
    x, y = getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}")
    if len(x) == 0:
        raise ConfigError(f"the {split} split of {ds.name!r} is empty")
    check_model_fits(model, ds)

    labels = list(range(ds.num_classes))
    proba = predict_proba(model, x, batch_size, tta=tta)
    y_pred = proba.argmax(axis=1)
    cm = confusion_matrix(y, y_pred, labels=labels)
    support = cm.sum(axis=1)
    per_class = np.divide(cm.diagonal(), support, out=np.zeros(len(labels)), where=support > 0)
    report = classification_report(
        y,
        y_pred,
        labels=labels,
        target_names=list(ds.class_names),
        output_dict=True,
        zero_division=0,
    )
    latency_ms = throughput = None
    if timing:
        latency_ms, throughput = _timed_speed(model, x)
    return EvalResult(
        split=split,
        accuracy=float((y_pred == y).mean()),
        loss=float(log_loss(y, proba / proba.sum(axis=1, keepdims=True), labels=labels)),
        y_true=np.asarray(y),
        y_pred=y_pred,
        probabilities=proba,
        confusion_matrix=cm,
        report=report,
        per_class_accuracy=per_class,
        class_names=list(ds.class_names),
        params=int(model.count_params()),
        flops=count_flops(model),
        latency_ms=latency_ms,
        throughput_ips=throughput,
        extra={"tta": tta},
    )
