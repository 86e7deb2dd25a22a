"""Figures for the study: interactive Plotly (default) or static Matplotlib with Seaborn styling.

Every public function takes ``backend="plotly"`` or ``"matplotlib"``, returns the figure
(``plotly.graph_objects.Figure`` or ``matplotlib.figure.Figure``; make it a notebook cell's last
expression to display it) and takes ``save_path``: Plotly saves ``.html`` (self-contained, works
offline) or, through kaleido and Google Chrome, ``.png``/``.svg``/``.pdf``; Matplotlib saves
``.png``/``.svg``/``.pdf``. Parent folders are created. Bad arguments raise
:class:`~cnnbench.errors.ConfigError` naming what is allowed.

The study's trade-off chart (:func:`plot_tradeoff`: accuracy against parameters, training
time, latency or FLOPs) takes its per-seed table, ``runs_frame(study)``, and draws one panel per
dataset with the mean over the seeds and error bars of one standard deviation.

Each figure function validates its arguments and prepares the figure's data once (curves,
colours, labels, images); the backend's drawing function (``_<figure>_plotly`` or
``_<figure>_mpl``) only lays that data out, so both backends show the same numbers.

Matplotlib, Seaborn, pandas and Keras are imported only when a function needs them.
"""

import math
import numbers
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnbench.checks import check_positive_int
from cnnbench.errors import ConfigError
from cnnbench.plan import label as experiment_label

BACKENDS = ("plotly", "matplotlib")
SPLITS = ("train", "val", "test")
SAVE_FORMATS = {"plotly": (".html", ".png", ".svg", ".pdf"), "matplotlib": (".png", ".svg", ".pdf")}
HISTORY_METRICS = ("accuracy", "loss")
REPORT_SUMMARY_KEYS = ("accuracy", "macro avg", "weighted avg", "micro avg")
SAMPLE_COLUMNS = 10  # classes side by side in show_samples: ten fill a ~1,000-px output
PALETTE = (  # seaborn "deep": ten distinct hues, the same in both backends
    "#4C72B0",
    "#DD8452",
    "#55A868",
    "#C44E52",
    "#8172B3",
    "#937860",
    "#DA8BC3",
    "#8C8C8C",
    "#CCB974",
    "#64B5CD",
)
COLORS = {"train": PALETTE[0], "validation": PALETTE[1], "best epoch": PALETTE[3]}
# Past len(PALETTE) curves, colours repeat with the next dash style, so curves stay distinct.
PLOTLY_DASHES = ("solid", "dash", "dot", "dashdot")
MPL_DASHES = ("-", "--", ":", "-.")
PLOTLY_TEMPLATE = "plotly_white"
# Half an epoch either side of the curves: a 1-epoch run is one centred point on a whole-epoch
# tick instead of a dot on an axis of fractional epochs (0.95-1.05).
EPOCH_PAD = 0.5
# Scores (F1, precision, ...) all above this get a value axis zoomed to them: MNIST's F1 of
# 0.97-1.0 per class would otherwise be bars of equal height. The lower end is a margin below
# the lowest score, rounded down to SCORE_STEP.
SCORE_ZOOM_ABOVE = 0.5
SCORE_MARGIN = 0.2  # of the distance from the lowest score to 1
SCORE_STEP = 0.01
COLORBAR_TITLES = {True: "share of true class", False: "count"}  # by normalize
# Columns of runs_frame(study) plot_tradeoff accepts as x, with their axis titles.
TRADEOFF_X = {
    "params": "Parameters",
    "train time (s)": "Training time (s)",
    "latency (ms)": "Latency, one image (ms)",
    "MFLOPs/image": "MFLOPs per image",
}
LOG_X = ("params", "MFLOPs/image")  # span orders of magnitude from the small nets to AlexNet
RUN_KEYS = ("experiment", "dataset", "model")  # columns naming a run's experiment in runs_frame()
PARAM_GROUPS = {  # parameter_breakdown's groups -> legend names
    "conv": "convolutional layers",
    "dense": "dense layers",
    "other": "other layers (normalization, ...)",
}
PARAM_COLORS = {"conv": PALETTE[0], "dense": PALETTE[1], "other": PALETTE[7]}
SHARE_LABEL_MIN = 0.05  # parts of a stacked bar thinner than this share get no label


# --- public API ------------------------------------------------------------------------------


def plot_history(history, title=None, *, backend="plotly", save_path=None):
    """Accuracy and loss per epoch (one panel each), train and validation, best epoch starred.

    Args:
        history: ``{"loss": [...], "accuracy": [...], "val_loss": [...], "val_accuracy": [...]}``,
            a ``keras.callbacks.History`` or any object with a ``.history`` dict (``TrainResult``).
            Panels are drawn for whichever of accuracy/loss it holds; without ``val_*`` keys
            only the train curves.
        title: figure title (default ``"Training history"``).

    The best epoch is the run's own ``best_epoch`` attribute when it has one (``TrainResult``),
    else the epoch of highest ``val_accuracy`` (lowest ``val_loss`` without it).
    """
    _check_output(backend, save_path)
    hist = _history_dict(history)
    panels = [m for m in HISTORY_METRICS if m in hist]
    if not panels:
        raise ConfigError(f"history needs 'accuracy' and/or 'loss'; it has {sorted(hist)}")
    best = _best_epoch(history, hist)
    curves = {metric: _history_curves(hist, metric, best) for metric in panels}
    epochs = {
        metric: max(len(c.x) for c in panel if not c.is_marker) for metric, panel in curves.items()
    }
    title = title or "Training history"
    return _render(backend, save_path, _history_plotly, _history_mpl, curves, epochs, title)


def compare_histories(
    histories, metric="val_accuracy", title=None, *, backend="plotly", save_path=None
):
    """One panel per dataset, one curve per model of ``metric`` per epoch.

    Args:
        histories: ``{dataset name: {model label: history}}`` (histories as accepted by
            plot_history), e.g. ``{"MNIST": {"custom": h1, "alexnet": h2}, "CIFAR-10": {...}}``.
            A label keeps its colour on every panel.
        title: figure title (default ``"<metric> per epoch"``); each panel is titled with its
            dataset.
    """
    _check_output(backend, save_path)
    if not isinstance(histories, Mapping) or not histories:
        raise ConfigError(
            "histories must be a non-empty mapping {dataset: {label: history}}; "
            f"got {type(histories).__name__}"
        )
    panels = {}
    for dataset, runs in histories.items():
        if not isinstance(runs, Mapping) or not runs:
            raise ConfigError(
                f"histories[{dataset!r}] must be a non-empty mapping {{label: history}}; "
                f"got {type(runs).__name__}"
            )
        panels[str(dataset)] = _metric_series(runs, metric)
    styles = _paired_styles(label for series in panels.values() for label in series)
    epochs = {dataset: max(map(len, series.values())) for dataset, series in panels.items()}
    title = title or f"{_label(metric)} per epoch"
    return _render(
        backend, save_path, _lines_plotly, _lines_mpl, panels, styles, epochs, metric, title
    )


def plot_confusion_matrix(
    cm, class_names, normalize=True, title=None, *, backend="plotly", save_path=None
):
    """Heatmap of a confusion matrix (rows: true, columns: predicted), every cell annotated.

    With ``normalize=True`` colours are the fraction of each true class (row) and cells show the
    percentage and the count; otherwise colours and annotations are the counts.
    """
    _check_output(backend, save_path)
    cm = np.asarray(cm)
    names = [str(n) for n in class_names]
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] != len(names):
        raise ConfigError(
            f"cm must be a square matrix with one row per class name; got shape {cm.shape} "
            f"and {len(names)} class names"
        )
    if not np.issubdtype(cm.dtype, np.number) or (cm < 0).any():
        raise ConfigError("cm must hold non-negative counts")
    z, text = _confusion_cells(cm, normalize)
    title = title or (
        "Confusion matrix (normalized by true class)" if normalize else "Confusion matrix"
    )
    return _render(
        backend, save_path, _heatmap_plotly, _heatmap_mpl, z, text, names, normalize, title
    )


def per_class_bar(
    scores, title=None, class_names=None, metric="f1-score", *, backend="plotly", save_path=None
):
    """Bar chart of one score per class; grouped bars to compare several runs.

    Args:
        scores: one of
            - a mapping ``{class: value}`` or a pandas Series indexed by class;
            - a sequence/array of values in class order (labels from ``class_names``,
              else ``"0"``, ``"1"``, …);
            - a ``classification_report(..., output_dict=True)`` dict: ``metric`` of each class
              (the accuracy/avg rows are left out);
            - a mapping ``{run label: any of the above}`` for grouped bars, e.g.
              ``{"baseline": report_a, "augmented": report_b}``; every run must have the same
              classes.
        title: figure title (default ``"Per-class <metric>"``).
        class_names: one label per class, replacing the labels of ``scores`` in order.
        metric: the report column to plot (``"precision"``, ``"recall"``, ``"f1-score"``,
            ``"support"``) and the y-axis label.

    When every value is a score above 0.5 (at most 1), the value axis spans from a little below
    the lowest to 1, so that differences between classes scoring 0.97-1.0 show.
    """
    _check_output(backend, save_path)
    groups = _score_groups(scores, class_names, metric)
    value_range = _score_range(groups)
    groups = {label or _label(metric): values for label, values in groups.items()}  # legend
    title = title or f"Per-class {_label(metric).lower()}"
    return _render(backend, save_path, _bars_plotly, _bars_mpl, groups, metric, title, value_range)


def plot_tradeoff(
    runs, x="params", y="test acc (%)", title=None, *, backend="plotly", save_path=None
):
    """Accuracy against cost: one panel per dataset, one point per experiment.

    Args:
        runs: the study's per-seed table, ``cnnbench.tables.runs_frame(study)`` (with
            columns ``experiment``, ``dataset``, ``model`` and the ones plotted). Runs missing
            ``x`` or ``y`` (e.g. no latency measured) are left out.
        x: the cost: one of ``"params"``, ``"train time (s)"``, ``"latency (ms)"``,
            ``"MFLOPs/image"`` (params and MFLOPs on a log axis).
        y: a numeric column, by default ``"test acc (%)"``.
        title: figure title (default ``"<y> vs <x>"``); panels are titled with their dataset.

    Each point is the mean over the experiment's seeds, with error bars of one standard
    deviation (ddof=1) on y, and on x where it varies over the seeds (times, not parameters).
    Points are labelled as everywhere else (:func:`cnnbench.plan.label`: ``custom + aug``).
    """
    _check_output(backend, save_path)
    if x not in TRADEOFF_X:
        raise ConfigError(f"x must be one of {list(TRADEOFF_X)}; got {x!r}")
    panels = _seed_stats(runs, (x, y))
    colours = _stat_colours(panels)
    sides = {dataset: _label_sides(stats) for dataset, stats in panels.items()}
    title = title or f"{_label(y)} vs {TRADEOFF_X[x].lower()} (mean ± std over seeds)"
    return _render(
        backend, save_path, _tradeoff_plotly, _tradeoff_mpl, panels, colours, sides, x, y, title
    )


def parameter_breakdown(model):
    """Parameters of a built Keras model by layer kind.

    Returns ``{"conv": ..., "dense": ..., "other": ..., "total": ..., "dense share": ...}``:
    counts in convolutional layers (any ``Conv`` class), dense layers and the rest (batch
    normalization, ...), their sum, and the dense layers' fraction of it (0-1). Nested models
    are counted by their layers; a layer used twice is counted once.
    """
    _check_built(model)
    counts = dict.fromkeys(PARAM_GROUPS, 0)
    for layer in {id(layer): layer for layer in _leaf_layers(model)}.values():
        counts[_param_group(layer)] += layer.count_params()
    total = sum(counts.values())
    return {**counts, "total": total, "dense share": counts["dense"] / total if total else 0.0}


def plot_parameter_breakdown(models, names=None, title=None, *, backend="plotly", save_path=None):
    """Stacked bars of each model's parameters in convolutional, dense and other layers
    (:func:`parameter_breakdown`), each part labelled with its share of the model's total.

    ``models``: ``{name: keras.Model}``, or a sequence of models named by ``names`` (default:
    each model's ``name``).
    """
    _check_output(backend, save_path)
    named = _named_models(models, names)
    breakdowns = {name: parameter_breakdown(model) for name, model in named.items()}
    parts = {group: _breakdown_part(breakdowns, group) for group in PARAM_GROUPS}
    title = title or "Parameters by layer kind"
    return _render(
        backend, save_path, _breakdown_plotly, _breakdown_mpl, list(breakdowns), parts, title
    )


def show_samples(ds, n_per_class=5, split="train", *, backend="plotly", save_path=None):
    """Grid of the first ``n_per_class`` images of each class of a Dataset: one column per
    class, titled with its name (at most ``SAMPLE_COLUMNS`` classes side by side; more classes
    continue in blocks below), so ten classes fit a notebook's width."""
    _check_output(backend, save_path)
    check_positive_int("n_per_class", n_per_class)
    x, y, names = _split_arrays(ds, split)
    ncols = min(len(names), SAMPLE_COLUMNS)
    images, titles = [], []
    for start in range(0, len(names), ncols):
        block = range(start, min(start + ncols, len(names)))
        picked = {c: list(np.flatnonzero(y == c)[:n_per_class]) for c in block}
        for row in range(n_per_class):
            for c in range(start, start + ncols):
                idx = picked.get(c, [])
                images.append(x[idx[row]] if row < len(idx) else None)
                titles.append(names[c] if row == 0 and c in picked else "")
    grid = _Grid(images, titles, ncols, None, f"Samples per class ({split} split)")
    return _render(backend, save_path, _grid_plotly, _grid_mpl, grid)


def show_augmentations(ds, n_images=6, n_variants=3, seed=42, *, backend="plotly", save_path=None):
    """The first ``n_images`` training images (top row) and ``n_variants`` random augmentations
    of each (rows below), drawn with the dataset's label-preserving augmentations."""
    from cnnbench.augment import build_augmenter

    _check_output(backend, save_path)
    check_positive_int("n_images", n_images)
    check_positive_int("n_variants", n_variants)
    originals = np.asarray(ds.x_train[:n_images], dtype=np.float32)
    augmenter = build_augmenter(ds.augmentations, seed=seed)
    rows = [originals] + [
        np.asarray(augmenter(originals, training=True)) for _ in range(n_variants)
    ]
    images = [image for row in rows for image in row]
    labels = ["original"] + [f"augmented {i + 1}" for i in range(n_variants)]
    title = f"Augmentation: {', '.join(a.replace('_', ' ') for a in ds.augmentations)}"
    grid = _Grid(images, [""] * len(images), len(originals), labels, title)
    return _render(backend, save_path, _grid_plotly, _grid_mpl, grid)


def show_misclassified(
    model, ds, n=16, split="test", predictions=None, *, backend="plotly", save_path=None
):
    """Grid of up to ``n`` misclassified images, most confident mistakes first.

    Each image is titled with its true and predicted class and the predicted probability.
    ``predictions`` (class probabilities of the split, an array or an object with
    ``.probabilities`` such as ``EvalResult``) skips ``model.predict``; ``model`` may then be
    ``None``.
    """
    _check_output(backend, save_path)
    check_positive_int("n", n)
    x, y, names = _split_arrays(ds, split)
    probs = _probabilities(model, x, predictions)
    if probs.shape != (len(x), len(names)):
        raise ConfigError(
            f"predictions must have shape (images, classes) = {(len(x), len(names))} for the "
            f"{split!r} split; got {probs.shape}"
        )
    pred, conf = probs.argmax(axis=1), probs.max(axis=1)
    wrong = np.flatnonzero(pred != y)
    shown = wrong[np.argsort(-conf[wrong], kind="stable")][:n]
    titles = [f"true: {names[y[i]]}\npred: {names[pred[i]]} ({conf[i]:.0%})" for i in shown]
    title = f"{len(wrong)} of {len(y)} {split} images misclassified"
    if len(shown):
        title += f" (showing {len(shown)}, most confident first)"
    ncols = max(1, math.ceil(math.sqrt(len(shown))))
    grid = _Grid([x[i] for i in shown], titles, ncols, None, title)
    return _render(backend, save_path, _grid_plotly, _grid_mpl, grid)


def show_predictions(
    model,
    ds,
    n=6,
    split="test",
    predictions=None,
    seed=0,
    title=None,
    *,
    backend="plotly",
    save_path=None,
):
    """Sample predictions: a row of ``n`` correctly and a row of ``n`` wrongly classified
    images, drawn at random with ``seed``, each titled with the predicted class and its
    probability (and, when wrong, the true class). ``predictions`` as in
    :func:`show_misclassified`."""
    _check_output(backend, save_path)
    check_positive_int("n", n)
    x, y, names = _split_arrays(ds, split)
    probs = _probabilities(model, x, predictions)
    pred, conf = probs.argmax(axis=1), probs.max(axis=1)
    rng = np.random.default_rng(seed)
    right = rng.permutation(np.flatnonzero(pred == y))[:n]
    wrong = rng.permutation(np.flatnonzero(pred != y))[:n]
    images, titles = [], []
    for picked, wrong_row in ((right, False), (wrong, True)):
        for i in picked:
            images.append(x[i])
            text = f"{names[pred[i]]} {conf[i]:.0%}"
            titles.append(f"{text}\n(true: {names[y[i]]})" if wrong_row else text)
        images += [None] * (n - len(picked))
        titles += [""] * (n - len(picked))
    accuracy = float((pred == y).mean())
    title = title or f"Sample {split} predictions ({accuracy:.1%} correct)"
    grid = _Grid(images, titles, n, ["correct", "wrong"], title)
    return _render(backend, save_path, _grid_plotly, _grid_mpl, grid)


# --- validation and data preparation ---------------------------------------------------------


def _check_output(backend, save_path):
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS}; got {backend!r}")
    if save_path is not None and Path(save_path).suffix.lower() not in SAVE_FORMATS[backend]:
        raise ConfigError(
            f"save_path for backend={backend!r} must end in one of {SAVE_FORMATS[backend]}; "
            f"got {str(save_path)!r}"
        )


def _check_built(model):
    if not getattr(model, "built", False):
        raise ConfigError(
            "model must be a built Keras model (give it an Input, call it once, or model.build())"
        )


def _label(metric):
    """``"val_accuracy"`` -> ``"Validation accuracy"``."""
    text = metric.replace("val_", "validation ", 1) if metric.startswith("val_") else metric
    text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def _history_dict(history):
    hist = getattr(history, "history", history)
    if type(hist).__name__ == "DataFrame":  # e.g. Study.history(): one column per metric
        hist = hist.to_dict("list")
    if not isinstance(hist, Mapping) or not hist:
        raise ConfigError(
            "history must be a non-empty dict of per-epoch metrics, a keras History or an object "
            f"with a .history dict (e.g. TrainResult); got {type(history).__name__}"
        )
    return {str(k): [float(v) for v in values] for k, values in hist.items()}


def _best_epoch(history, hist):
    """1-based best epoch, or None without validation metrics."""
    best = getattr(history, "best_epoch", None)
    if best is not None:
        return int(best)
    if "val_accuracy" in hist:
        return int(np.argmax(hist["val_accuracy"])) + 1
    if "val_loss" in hist:
        return int(np.argmin(hist["val_loss"])) + 1
    return None


class _Curve(NamedTuple):
    """One curve of a history panel: ``kind`` (a key of COLORS), its legend label, the points."""

    kind: str
    label: str
    x: list
    y: list
    is_marker: bool


def _history_curves(hist, metric, best):
    """``[_Curve]`` for one panel: train, validation, and the best epoch's marker."""
    curves = []
    for kind, key in (("train", metric), ("validation", f"val_{metric}")):
        if key in hist:
            curves.append(_Curve(kind, kind, list(range(1, len(hist[key]) + 1)), hist[key], False))
    val = hist.get(f"val_{metric}")
    if best is not None and val and 1 <= best <= len(val):
        curves.append(_Curve("best epoch", f"best epoch ({best})", [best], [val[best - 1]], True))
    return curves


def _metric_series(runs, metric):
    """``{label: values of metric per epoch}`` from ``{label: history}``."""
    series = {}
    for label, history in runs.items():
        hist = _history_dict(history)
        if metric not in hist:
            raise ConfigError(
                f"metric {metric!r} is not in the history of {label!r}: {sorted(hist)}"
            )
        series[str(label)] = hist[metric]
    return series


def _confusion_cells(cm, normalize):
    """Colour values and per-cell annotations (lines separated by ``\\n``); counts with
    thousands separators, fractional ones (e.g. means over seeds) to one decimal."""
    integral = bool(np.all(np.mod(cm, 1) == 0))
    counts = [[f"{int(c):,}" if integral else f"{c:,.1f}" for c in row] for row in cm]
    if not normalize:
        return cm, counts
    totals = cm.sum(axis=1, keepdims=True)
    z = np.divide(cm, totals, out=np.zeros(cm.shape), where=totals > 0)
    text = [
        [f"{p:.1%}\n{c}" for p, c in zip(zr, cr, strict=True)]
        for zr, cr in zip(z, counts, strict=True)
    ]
    return z, text


def _score_groups(scores, class_names, metric):
    """``{run label or None: {class: value}}``; grouped only for a mapping of runs."""
    is_single = (
        not isinstance(scores, Mapping)
        or _is_report(scores)
        or all(isinstance(v, numbers.Real) for v in scores.values())
    )
    if is_single:
        return {None: _class_scores(scores, class_names, metric)}
    groups = {str(k): _class_scores(v, class_names, metric) for k, v in scores.items()}
    first, *rest = groups.items()
    for label, values in rest:
        if list(values) != list(first[1]):
            raise ConfigError(
                f"every run needs the same classes: {first[0]!r} has {list(first[1])}, "
                f"{label!r} has {list(values)}"
            )
    return groups


def _score_range(groups):
    """``(low, 1.0)`` for the value axis when every value is a score above SCORE_ZOOM_ABOVE,
    else ``None`` (the axis starts at 0)."""
    values = [v for scores in groups.values() for v in scores.values()]
    lowest = min(values)
    if lowest <= SCORE_ZOOM_ABOVE or max(values) > 1:
        return None
    margin = max(SCORE_MARGIN * (1 - lowest), SCORE_STEP)
    # round() first: 0.99 / 0.01 is 98.999..., which would floor a whole step too low.
    steps = math.floor(round((lowest - margin) / SCORE_STEP, 9))
    return round(steps * SCORE_STEP, 9), 1.0


def _is_report(scores):
    return isinstance(scores, Mapping) and any(
        isinstance(v, Mapping) and "support" in v for v in scores.values()
    )


def _class_scores(scores, class_names, metric):
    """``{class: value}`` from any single-run form accepted by per_class_bar."""
    import pandas as pd

    if isinstance(scores, pd.Series):
        scores = scores.to_dict()
    if _is_report(scores):
        rows = {k: v for k, v in scores.items() if k not in REPORT_SUMMARY_KEYS}
        allowed = sorted({key for row in rows.values() for key in row})
        if metric not in allowed:
            raise ConfigError(f"metric must be one of {allowed} for a report; got {metric!r}")
        labels, values = list(rows), [row[metric] for row in rows.values()]
    elif isinstance(scores, Mapping):
        labels, values = list(scores), list(scores.values())
    else:
        values = np.asarray(scores)
        if values.ndim != 1 or not np.issubdtype(values.dtype, np.number):
            raise ConfigError(
                "scores must be a mapping, pandas Series, classification report or 1-D sequence "
                f"of numbers (or a mapping of those per run); got {type(scores).__name__}"
            )
        labels = [str(i) for i in range(len(values))]
    if len(values) == 0:
        raise ConfigError("scores holds no classes")
    if class_names is not None:
        if len(class_names) != len(values):
            raise ConfigError(f"got {len(class_names)} class_names for {len(values)} scores")
        labels = class_names
    try:
        return {str(k): float(v) for k, v in zip(labels, values, strict=True)}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"per-class scores must be numbers: {exc}") from exc


def _leaf_layers(model):
    """The layers of ``model`` that are not models themselves, nested models' included."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
        else:
            yield layer


def _param_group(layer):
    """Key of PARAM_GROUPS, by class name along the class hierarchy (subclasses included)."""
    kinds = [cls.__name__ for cls in type(layer).__mro__]
    if any("Conv" in kind for kind in kinds):
        return "conv"
    if any(kind.endswith("Dense") for kind in kinds):  # Dense, EinsumDense
        return "dense"
    return "other"


def _named_models(models, names):
    """``{name: model}`` from a mapping or from a sequence of models and optional names."""
    if isinstance(models, Mapping):
        if names is not None:
            raise ConfigError("give names only with a sequence of models, not with a mapping")
        named = {str(k): v for k, v in models.items()}
    else:
        models = list(models)
        names = [getattr(m, "name", None) for m in models] if names is None else list(names)
        if len(names) != len(models):
            raise ConfigError(f"got {len(names)} names for {len(models)} models")
        named = dict(zip(map(str, names), models, strict=True))
        if len(named) != len(models):
            raise ConfigError(f"model names must be unique; got {names}")
    if not named:
        raise ConfigError("models is empty")
    return named


class _Part(NamedTuple):
    """One layer kind's part of every model's stacked bar: counts, shares of each model's
    total (0 for a model without parameters) and the labels drawn on the bars."""

    counts: list
    shares: list
    labels: list


def _breakdown_part(breakdowns, group):
    """``_Part`` of ``group`` (a key of PARAM_GROUPS) from ``{model: parameter_breakdown}``."""
    counts = [b[group] for b in breakdowns.values()]
    shares = [b[group] / b["total"] if b["total"] else 0.0 for b in breakdowns.values()]
    labels = [f"{share:.0%}" if share >= SHARE_LABEL_MIN else "" for share in shares]
    return _Part(counts, shares, labels)


class _Stat(NamedTuple):
    """One experiment on one dataset: label, seed count, and per column mean and std."""

    label: str
    seeds: int
    means: tuple
    stds: tuple


def _seed_stats(runs, columns):
    """``{dataset: [_Stat per experiment]}`` of ``columns`` of a runs frame, in frame order;
    std is over the seeds (ddof=1), 0 for a single seed."""
    import pandas as pd

    if not isinstance(runs, pd.DataFrame):
        raise ConfigError(
            f"runs must be the study's per-seed table, runs_frame(study); got {type(runs).__name__}"
        )
    missing = [c for c in (*RUN_KEYS, *columns) if c not in runs.columns]
    if missing:
        raise ConfigError(
            f"runs lacks columns {missing} (expected runs_frame(study); it has "
            f"{list(runs.columns)})"
        )
    for column in columns:
        if not pd.api.types.is_numeric_dtype(runs[column]):
            raise ConfigError(f"column {column!r} of runs must hold numbers")
    measured = runs.dropna(subset=list(columns))
    if measured.empty:
        raise ConfigError(f"runs has no run with {list(columns)} measured")
    panels = {}
    for (dataset, experiment), group in measured.groupby(["dataset", "experiment"], sort=False):
        stat = _Stat(
            experiment_label(str(experiment)),
            len(group),
            tuple(float(group[c].mean()) for c in columns),
            tuple(float(group[c].std()) if len(group) > 1 else 0.0 for c in columns),
        )
        panels.setdefault(str(dataset), []).append(stat)
    return panels


def _split_arrays(ds, split):
    if split not in SPLITS:
        raise ConfigError(f"split must be one of {SPLITS}; got {split!r}")
    try:
        x, y, names = getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}"), ds.class_names
    except AttributeError as exc:
        raise ConfigError(
            f"ds must be a cnnbench Dataset (with x_{split}, y_{split}, class_names): {exc}"
        ) from exc
    if len(x) == 0:
        raise ConfigError(f"the {split!r} split of the dataset has no images")
    return np.asarray(x), np.asarray(y).astype(int), [str(n) for n in names]


def _probabilities(model, x, predictions):
    if predictions is None:
        if model is None:
            raise ConfigError("give a model or predictions")
        return np.asarray(model.predict(x, batch_size=256, verbose=0))
    return np.asarray(getattr(predictions, "probabilities", predictions))


def _rgb(image):
    """uint8 ``(H, W, 3)`` for display; grayscale is repeated over three channels."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    return np.clip(image, 0, 255).astype(np.uint8)


class _Grid:
    """Images (``None`` = empty cell) in rows of ``ncols``, with cell titles and row labels;
    the images are converted for display (:func:`_rgb`) once, for either backend."""

    def __init__(self, images, titles, ncols, row_labels, title):
        images = [None if image is None else _rgb(image) for image in images]
        self.images, self.titles, self.ncols = images or [None], titles or [""], ncols
        self.nrows = math.ceil(len(self.images) / ncols)
        self.row_labels, self.title = row_labels, title

    def cells(self):
        """``(row, col, image, title)`` with 0-based row/col."""
        for i, (image, title) in enumerate(zip(self.images, self.titles, strict=True)):
            yield i // self.ncols, i % self.ncols, image, title


# --- rendering -------------------------------------------------------------------------------


def _render(backend, save_path, draw_plotly, draw_mpl, *args):
    """Draw with the backend's function (Matplotlib under Seaborn style), save if asked."""
    if backend == "plotly":
        fig = draw_plotly(*args)
        fig.update_layout(template=PLOTLY_TEMPLATE)
    else:
        import matplotlib.pyplot as plt

        with _seaborn_style():
            fig = draw_mpl(*args)
        plt.close(fig)  # returned for display/saving, not left open in pyplot's registry
    if save_path is not None:
        _save(fig, Path(save_path))
    return fig


@contextmanager
def _seaborn_style():
    import seaborn as sns

    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"), sns.color_palette("deep"):
        yield


# Colab shows about 1,000 pixels of an output's width: at 100 dpi, 10 inches. A wider figure is
# scaled down to fit, and its text with it, so figures are made at most this wide, less a margin
# for what the inline backend adds around them (the text keeps its point size; the panels get
# narrower).
MAX_WIDTH_IN = 9.5


def _subplots(nrows=1, ncols=1, **kwargs):
    import matplotlib.pyplot as plt

    if "figsize" in kwargs:
        width, height = kwargs["figsize"]
        kwargs["figsize"] = (min(width, MAX_WIDTH_IN), height)
    return plt.subplots(nrows, ncols, squeeze=False, layout="constrained", **kwargs)


def _save(fig, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    if not isinstance(fig, go.Figure):
        fig.savefig(path, dpi=150)
    elif path.suffix.lower() == ".html":
        fig.write_html(path, include_plotlyjs=True)
    else:
        try:
            fig.write_image(path)
        except Exception as exc:  # kaleido/Chrome fail in many ways (missing, sandbox, timeout)
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RuntimeError(
                f"Could not export the Plotly figure to {path.suffix} (needs kaleido and Google "
                f"Chrome: {reason}). Save it as .html instead, or use backend='matplotlib' for a "
                "static image."
            ) from exc


def _epoch_step(n_epochs):
    """Tick spacing keeping epoch ticks whole (about ten ticks at most)."""
    return max(1, math.ceil(n_epochs / 10))


def _epoch_range(n_epochs):
    return [1 - EPOCH_PAD, n_epochs + EPOCH_PAD]


def _epoch_axis_plotly(fig, n_epochs, col):
    fig.update_xaxes(
        title_text="Epoch",
        range=_epoch_range(n_epochs),
        dtick=_epoch_step(n_epochs),
        row=1,
        col=col,
    )


def _epoch_axis_mpl(ax, n_epochs):
    from matplotlib.ticker import MultipleLocator

    ax.set_xlim(_epoch_range(n_epochs))
    ax.xaxis.set_major_locator(MultipleLocator(_epoch_step(n_epochs)))
    ax.set_xlabel("Epoch")


def _label_styles(labels):
    """``{label: (colour, dash index)}``, in first-seen order: a label keeps its style on every
    panel, and no two labels share one."""
    unique = list(dict.fromkeys(labels))
    return {
        label: (PALETTE[i % len(PALETTE)], i // len(PALETTE) % len(MPL_DASHES))
        for i, label in enumerate(unique)
    }


def _paired_styles(labels):
    """``{label: (colour, dash index)}`` where a model's cells are one colour: ``"custom"`` solid,
    ``"custom + aug"`` dashed, ``"custom + aug + oversample"`` dotted (the conditions, after the
    first ``" + "``, in first-seen order), so a model's plain and augmented curves read as a
    pair; more models than colours fall back to one style per label."""
    unique = list(dict.fromkeys(labels))
    models = list(dict.fromkeys(label.split(" + ")[0] for label in unique))
    conditions = list(dict.fromkeys(label.partition(" + ")[2] for label in unique))
    if len(models) > len(PALETTE) or len(conditions) > len(MPL_DASHES):
        return _label_styles(unique)
    return {
        label: (
            PALETTE[models.index(label.split(" + ")[0])],
            conditions.index(label.partition(" + ")[2]),
        )
        for label in unique
    }


def _history_plotly(curves, epochs, title):
    fig = make_subplots(rows=1, cols=len(curves), subplot_titles=[_label(m) for m in curves])
    for col, (metric, panel) in enumerate(curves.items(), start=1):
        for curve in panel:
            trace = go.Scatter(
                x=curve.x,
                y=curve.y,
                name=curve.label,
                legendgroup=curve.kind,
                showlegend=col == 1,
                mode="markers" if curve.is_marker else "lines+markers",
                marker={
                    "color": COLORS[curve.kind],
                    "size": 16 if curve.is_marker else 6,
                    "symbol": "star" if curve.is_marker else "circle",
                },
            )
            fig.add_trace(trace, row=1, col=col)
        _epoch_axis_plotly(fig, epochs[metric], col)
        fig.update_yaxes(title_text=_label(metric), row=1, col=col)
    fig.update_layout(title=title, hovermode="x unified")
    return fig


def _history_mpl(curves, epochs, title):
    fig, axes = _subplots(1, len(curves), figsize=(5.5 * len(curves), 4))
    for ax, (metric, panel) in zip(axes[0], curves.items(), strict=True):
        for curve in panel:
            style = (
                {"marker": "*", "markersize": 16, "ls": ""} if curve.is_marker else {"marker": "o"}
            )
            ax.plot(curve.x, curve.y, label=curve.label, color=COLORS[curve.kind], **style)
        ax.set(title=_label(metric), ylabel=_label(metric))
        _epoch_axis_mpl(ax, epochs[metric])
        _mark_zoomed_y(ax)
        ax.legend()
    fig.suptitle(title)
    return fig


def _lines_plotly(panels, styles, epochs, metric, title):
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=list(panels))
    shown = set()
    for col, (dataset, series) in enumerate(panels.items(), start=1):
        for label, values in series.items():
            colour, dash = styles[label]
            trace = go.Scatter(
                x=list(range(1, len(values) + 1)),
                y=values,
                name=label,
                legendgroup=label,
                showlegend=label not in shown,  # one legend entry per label, for every panel
                mode="lines+markers",
                line={"color": colour, "dash": PLOTLY_DASHES[dash]},
            )
            fig.add_trace(trace, row=1, col=col)
            shown.add(label)
        _epoch_axis_plotly(fig, epochs[dataset], col)
        fig.update_yaxes(title_text=_label(metric), row=1, col=col)
    fig.update_layout(title=title)
    return fig


def _lines_mpl(panels, styles, epochs, metric, title):
    fig, axes = _subplots(1, len(panels), figsize=(5 * len(panels), 4.5))
    for ax, (dataset, series) in zip(axes[0], panels.items(), strict=True):
        for label, values in series.items():
            colour, dash = styles[label]
            x = range(1, len(values) + 1)
            ax.plot(x, values, marker="o", color=colour, ls=MPL_DASHES[dash], label=label)
        ax.set(title=dataset, ylabel=_label(metric))
        _epoch_axis_mpl(ax, epochs[dataset])
        _mark_zoomed_y(ax)
    handles = {line.get_label(): line for ax in axes[0] for line in ax.get_lines()}
    # Below the panels, a model's conditions side by side: the panels keep the figure's width.
    ncol = min(len(handles), max(len({label.split(" + ")[0] for label in handles}), 1), 5)
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncol=ncol)
    fig.suptitle(title)
    return fig


def _heatmap_plotly(z, text, names, normalize, title):
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=names,
            y=names,
            text=[[cell.replace("\n", "<br>") for cell in row] for row in text],
            texttemplate="%{text}",
            hovertemplate="true: %{y}<br>predicted: %{x}<br>%{text}<extra></extra>",
            colorscale="Blues",
            zmin=0,
            zmax=1 if normalize else None,
            colorbar={
                "title": {"text": COLORBAR_TITLES[normalize]},
                "tickformat": ".0%" if normalize else ",",
            },
        )
    )
    fig.update_xaxes(title_text="Predicted label", type="category")
    fig.update_yaxes(title_text="True label", type="category", autorange="reversed")
    size = 200 + 45 * len(names)
    fig.update_layout(title=title, width=size + 100, height=size)
    return fig


def _heatmap_mpl(z, text, names, normalize, title):
    import seaborn as sns
    from matplotlib.ticker import PercentFormatter, StrMethodFormatter

    size = 2.5 + 0.6 * len(names)
    fig, axes = _subplots(figsize=(size + 1, size))
    ax = axes[0, 0]
    sns.heatmap(
        z,
        annot=np.array(text),
        fmt="",
        cmap="Blues",
        vmin=0,
        vmax=1 if normalize else None,
        xticklabels=names,
        yticklabels=names,
        annot_kws={"fontsize": 9},
        square=True,
        cbar_kws={
            "label": COLORBAR_TITLES[normalize],
            "format": PercentFormatter(1.0, decimals=0)
            if normalize
            else StrMethodFormatter("{x:,.0f}"),
        },
        ax=ax,
    )
    ax.set(title=title, xlabel="Predicted label", ylabel="True label")
    ax.tick_params(axis="y", labelrotation=0)  # seaborn's vertical labels overlap when long
    if max(len(n) for n in names) > 4:  # long class names would run into each other
        ax.tick_params(axis="x", labelrotation=45)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    return fig


def _bars_plotly(groups, metric, title, value_range):
    fig = go.Figure()
    for label, values in groups.items():
        fig.add_trace(
            go.Bar(
                x=list(values),
                y=list(values.values()),
                name=label,
                text=[f"{v:.3g}" for v in values.values()],
            )
        )
    fig.update_layout(
        title=title,
        barmode="group",
        showlegend=len(groups) > 1,
        xaxis={"title": "Class", "type": "category"},
        yaxis={"title": _label(metric), "range": value_range},
    )
    return fig


def _bars_mpl(groups, metric, title, value_range):
    classes = list(next(iter(groups.values())))
    fig, axes = _subplots(figsize=(max(6, 0.6 * len(classes) * len(groups)), 4))
    ax = axes[0, 0]
    width = 0.8 / len(groups)
    positions = np.arange(len(classes))
    for i, (label, values) in enumerate(groups.items()):
        offset = (i - (len(groups) - 1) / 2) * width
        bars = ax.bar(positions + offset, list(values.values()), width, label=label)
        if len(groups) * len(classes) <= 20:  # more value labels would run into each other
            ax.bar_label(bars, fmt="%.3g", fontsize=8)
    ax.set_xticks(positions, classes, rotation=45 if len(classes) > 10 else 0)
    ax.set(title=title, xlabel="Class", ylabel=_label(metric))
    if value_range:
        ax.set_ylim(value_range)
    if len(groups) > 1:  # below the plot, so no bar hides behind it
        fig.legend(loc="outside lower center", ncol=min(len(groups), 4), frameon=False)
    return fig


def _stat_colours(panels):
    """``{experiment label: colour}``, the same on every panel."""
    styles = _label_styles(stat.label for stats in panels.values() for stat in stats)
    return {label: colour for label, (colour, _) in styles.items()}


def _plotly_errors(stds):
    """Plotly error bars of these standard deviations, hidden where none varies."""
    return {"type": "data", "array": list(stds), "visible": any(sd > 0 for sd in stds)}


def _number(value):
    """Thousands separated from 1,000 on (parameter counts), else three significant digits."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _stat_hover(stat, columns):
    lines = [f"<b>{stat.label}</b>"]
    for column, mean, sd in zip(columns, stat.means, stat.stds, strict=True):
        lines.append(f"{column}: {_number(mean)}" + (f" ± {_number(sd)}" if sd else ""))
    lines.append(f"{stat.seeds} seed{'s' if stat.seeds > 1 else ''}")
    return "<br>".join(lines)


def _label_sides(stats):
    """``"right"`` or ``"left"`` per point, for its label: points at the same x (one model and
    its retrains, at equal parameters) alternate sides up the y axis, so labels overlap less."""
    seen, sides = {}, {}
    for i in sorted(range(len(stats)), key=lambda i: stats[i].means[1]):
        x = stats[i].means[0]
        sides[i] = "left" if seen.get(x, 0) % 2 else "right"
        seen[x] = seen.get(x, 0) + 1
    return [sides[i] for i in range(len(stats))]


def _tradeoff_plotly(panels, colours, sides, x, y, title):
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=list(panels))
    for col, (dataset, stats) in enumerate(panels.items(), start=1):
        trace = go.Scatter(
            x=[s.means[0] for s in stats],
            y=[s.means[1] for s in stats],
            error_x=_plotly_errors([s.stds[0] for s in stats]),
            error_y=_plotly_errors([s.stds[1] for s in stats]),
            mode="markers+text",
            text=[s.label for s in stats],
            textposition=[f"middle {side}" for side in sides[dataset]],
            cliponaxis=False,  # labels of the outermost points may reach past the axes
            marker={"color": [colours[s.label] for s in stats], "size": 10},
            customdata=[_stat_hover(s, (x, y)) for s in stats],
            hovertemplate="%{customdata}<extra></extra>",
            showlegend=False,
        )
        fig.add_trace(trace, row=1, col=col)
        axis_type = "log" if x in LOG_X else "linear"
        fig.update_xaxes(title_text=TRADEOFF_X[x], type=axis_type, row=1, col=col)
        fig.update_yaxes(title_text=_label(y), row=1, col=col)
    fig.update_layout(title=title)
    return fig


def _tradeoff_mpl(panels, colours, sides, x, y, title):
    fig, axes = _subplots(1, len(panels), figsize=(6 * len(panels), 4.5))
    for ax, (dataset, stats) in zip(axes[0], panels.items(), strict=True):
        xs, ys = [s.means[0] for s in stats], [s.means[1] for s in stats]
        xerr, yerr = [s.stds[0] for s in stats], [s.stds[1] for s in stats]
        ax.errorbar(
            xs,
            ys,
            xerr=xerr if any(xerr) else None,
            yerr=yerr if any(yerr) else None,
            fmt="none",
            ecolor="0.6",
            capsize=3,
            zorder=1,
        )
        ax.scatter(xs, ys, c=[colours[s.label] for s in stats], s=50, zorder=2)
        for stat, side in zip(stats, sides[dataset], strict=True):
            ax.annotate(
                stat.label,
                stat.means,
                xytext=(6 if side == "right" else -6, 0),
                textcoords="offset points",
                ha="left" if side == "right" else "right",
                va="center",
                fontsize=8,
            )
        ax.set(title=dataset, xlabel=TRADEOFF_X[x], ylabel=_label(y))
        if x in LOG_X:
            from matplotlib.ticker import FuncFormatter, LogLocator

            # a span of less than a decade would otherwise label every minor tick in
            # scientific notation, on top of each other: 1-2-3-5 ticks, written 300k, 2M
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _short_number(v)))
            ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.margins(x=0.3)  # room for the labels of the outermost points
        _mark_zoomed_y(ax)
    fig.suptitle(title)
    return fig


def _mark_zoomed_y(ax):
    """Say so in the y label when the value axis does not start at 0 (a zoomed axis magnifies
    small differences)."""
    low = ax.get_ylim()[0]
    if low > 0:
        ax.set_ylabel(f"{ax.get_ylabel()}\n(axis from {low:.3g}, not 0)")


def _short_number(value):
    """``300000`` -> ``"300k"``, ``2000000`` -> ``"2M"``, ``20`` -> ``"20"``."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def _breakdown_plotly(models, parts, title):
    fig = go.Figure()
    for group, part in parts.items():
        legend = PARAM_GROUPS[group]
        bar = go.Bar(
            x=models,
            y=part.counts,
            name=legend,
            marker_color=PARAM_COLORS[group],
            text=part.labels,
            textposition="inside",
            customdata=part.shares,
            hovertemplate=f"%{{x}}: %{{y:,}} parameters in {legend} "
            "(%{customdata:.1%})<extra></extra>",
        )
        fig.add_trace(bar)
    fig.update_layout(
        title=title,
        barmode="stack",
        xaxis={"title": "Model", "type": "category"},
        yaxis={"title": "Parameters", "tickformat": ","},
    )
    return fig


def _breakdown_mpl(models, parts, title):
    from matplotlib.ticker import StrMethodFormatter

    fig, axes = _subplots(figsize=(max(6, 1.4 * len(models)), 4))
    ax = axes[0, 0]
    positions = np.arange(len(models))
    bottom = np.zeros(len(models))
    for group, part in parts.items():
        counts = np.array(part.counts, dtype=float)
        color, legend = PARAM_COLORS[group], PARAM_GROUPS[group]
        bars = ax.bar(positions, counts, bottom=bottom, color=color, label=legend)
        ax.bar_label(bars, labels=part.labels, label_type="center", fontsize=8)
        bottom += counts
    ax.set_xticks(positions, models)
    if len(models) > 4:  # names like custom_v1 run into each other at the capped width
        ax.tick_params(axis="x", labelrotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    ax.set(title=title, xlabel="Model", ylabel="Parameters")
    ax.set_ylim(0, 1.08 * bottom.max())  # headroom: the tallest bar's top stays in view
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.legend(loc="best")
    return fig


def _grid_plotly(grid):
    cell_px = min(150 if grid.row_labels else 170, (100 * MAX_WIDTH_IN - 120) // grid.ncols)
    height = 90 + cell_px * grid.nrows
    fig = make_subplots(
        rows=grid.nrows,
        cols=grid.ncols,
        subplot_titles=[t.replace("\n", "<br>") for t in grid.titles],
        horizontal_spacing=0.02,
        vertical_spacing=(40 if any(grid.titles) else 10) / height,
    )
    for row, col, image, _ in grid.cells():
        if image is not None:
            fig.add_trace(go.Image(z=image, hoverinfo="skip"), row=row + 1, col=col + 1)
    fig.update_xaxes(showticklabels=False, showgrid=False)
    fig.update_yaxes(showticklabels=False, showgrid=False)
    for row, label in enumerate(grid.row_labels or []):
        fig.update_yaxes(title_text=label, row=row + 1, col=1)
    fig.update_annotations(font_size=11)
    fig.update_layout(title=grid.title, height=height, width=120 + cell_px * grid.ncols)
    return fig


def _grid_mpl(grid):
    # Cells shrink to fit the capped width, and rows with them (no gaps between the rows);
    # a row of two-line titles needs about 0.35 in above its images.
    cell = min(1.6, (MAX_WIDTH_IN - 1) / grid.ncols)
    lines = max((t.count("\n") + 1 for t in grid.titles if t), default=0)
    fig, axes = _subplots(
        grid.nrows,
        grid.ncols,
        figsize=(cell * grid.ncols + 1, (cell + 0.05 + 0.17 * lines) * grid.nrows + 0.6),
    )
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
        ax.set_frame_on(False)
    for row, col, image, title in grid.cells():
        if image is not None:
            # The real pixels of a 28-32 px image rather than a blur of them (and a third of
            # the PNG's bytes: the notebook keeps every figure).
            axes[row, col].imshow(image, interpolation="nearest")
            axes[row, col].set_title(title, fontsize=8)
    for row, label in enumerate(grid.row_labels or []):
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    fig.suptitle(grid.title)
    return fig
