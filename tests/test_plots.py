"""Figures of cnnbench.plots, both backends, headless: structure, values, saving and errors."""

import math
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from matplotlib.figure import Figure
from sklearn.metrics import classification_report

from cnnbench import plots
from cnnbench.data import from_arrays
from cnnbench.errors import ConfigError
from cnnbench.training import TrainResult

BACKENDS = ("plotly", "matplotlib")
CLASSES = ("dark", "mid", "bright")


# --- fixtures: a real tiny model, a real History, real tiny datasets ---------------------------


def _images(n_per_class, shape, rng):
    y = np.repeat(np.arange(len(CLASSES)), n_per_class)
    x = rng.integers(0, 64, size=(len(y), *shape)) + 80 * y.reshape(-1, *[1] * len(shape))
    return x.astype(np.uint8), y


@pytest.fixture(scope="module")
def rgb_ds():
    rng = np.random.default_rng(0)
    return from_arrays(
        *_images(12, (16, 16, 3), rng), *_images(8, (16, 16, 3), rng), class_names=CLASSES
    )


@pytest.fixture(scope="module")
def gray_ds():
    rng = np.random.default_rng(1)
    return from_arrays(*_images(6, (12, 12), rng), *_images(2, (12, 12), rng), class_names=CLASSES)


@pytest.fixture(scope="module")
def fitted():
    """A functional model with a nested Sequential block, fitted 2 epochs: (model, History)."""
    import keras

    keras.utils.set_random_seed(0)
    features = keras.Sequential(
        [keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.MaxPooling2D()],
        name="features",
    )
    inputs = keras.Input((16, 16, 3))
    x = features(keras.layers.Rescaling(1 / 255)(inputs))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(x))
    model = keras.Model(inputs, outputs, name="tiny")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, size=(80, 16, 16, 3)).astype(np.uint8)
    y = rng.integers(0, 3, size=80)
    history = model.fit(
        x[:64], y[:64], validation_data=(x[64:], y[64:]), epochs=2, batch_size=16, verbose=0
    )
    return model, history


# --- backend-neutral readers of figure structure -----------------------------------------------


def lines(fig, panel=0):
    """``{label: (x, y)}`` of the curves of one panel."""
    if isinstance(fig, go.Figure):
        axis = "x" if panel == 0 else f"x{panel + 1}"
        return {t.name: (list(t.x), list(t.y)) for t in fig.data if (t.xaxis or "x") == axis}
    return {
        line.get_label(): (list(line.get_xdata()), list(line.get_ydata()))
        for line in fig.axes[panel].get_lines()
    }


def axis_titles(fig, panel=0):
    """The axis titles, without Matplotlib's note that a value axis does not start at 0
    (tested on its own below)."""
    if isinstance(fig, go.Figure):
        suffix = "" if panel == 0 else str(panel + 1)
        return fig.layout[f"xaxis{suffix}"].title.text, fig.layout[f"yaxis{suffix}"].title.text
    ylabel = re.sub(r"\n\(axis from [^)]*, not 0\)$", "", fig.axes[panel].get_ylabel())
    return fig.axes[panel].get_xlabel(), ylabel


def bars(fig):
    """``{series label: {category: height}}``."""
    if isinstance(fig, go.Figure):
        return {t.name: dict(zip(t.x, map(float, t.y), strict=True)) for t in fig.data}
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    return {
        c.get_label(): dict(zip(ticks, map(float, c.datavalues), strict=True))
        for c in ax.containers
    }


def image_count(fig):
    if isinstance(fig, go.Figure):
        return sum(t.type == "image" for t in fig.data)
    return sum(len(ax.images) for ax in fig.axes)


def figure_type(backend):
    return go.Figure if backend == "plotly" else Figure


# --- plot_history / compare_histories ----------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_plot_history_real_run(fitted, backend):
    _, history = fitted
    fig = plots.plot_history(history, title="tiny", backend=backend)
    assert isinstance(fig, figure_type(backend))
    best = int(np.argmax(history.history["val_accuracy"])) + 1
    for panel, metric in enumerate(("accuracy", "loss")):
        curves = lines(fig, panel)
        assert set(curves) == {"train", "validation", f"best epoch ({best})"}
        assert curves["train"] == ([1, 2], pytest.approx(history.history[metric]))
        assert curves["validation"][1] == pytest.approx(history.history[f"val_{metric}"])
        marker_x, marker_y = curves[f"best epoch ({best})"]
        assert marker_x == [best]
        assert marker_y == pytest.approx([history.history[f"val_{metric}"][best - 1]])
        assert axis_titles(fig, panel) == ("Epoch", metric.capitalize())


@pytest.mark.parametrize("backend", BACKENDS)
def test_plot_history_best_epoch_from_dict_and_train_result(backend):
    hist = {
        "loss": [1.0, 0.8, 0.6, 0.5],
        "accuracy": [0.5, 0.6, 0.7, 0.8],
        "val_loss": [1.1, 0.9, 0.8, 0.95],
        "val_accuracy": [0.4, 0.55, 0.7, 0.65],
    }
    assert lines(plots.plot_history(hist, backend=backend))["best epoch (3)"][0] == [3]
    run = TrainResult(
        history=hist,
        train_time_s=1.0,
        epoch_times_s=[0.25] * 4,
        train_phase_s=[0.2] * 4,
        images_per_second=100.0,
        best_epoch=2,
        epochs_run=4,
        seed=0,
    )
    fig = plots.plot_history(run, backend=backend)
    assert lines(fig, 1)["best epoch (2)"] == ([2], [0.9])


@pytest.mark.parametrize("backend", BACKENDS)
def test_plot_history_train_only(backend):
    fig = plots.plot_history({"loss": [0.9, 0.7], "accuracy": [0.6, 0.7]}, backend=backend)
    assert set(lines(fig, 0)) == set(lines(fig, 1)) == {"train"}


def test_plot_history_rejects_bad_input():
    with pytest.raises(ConfigError, match="non-empty dict"):
        plots.plot_history([0.1, 0.2])
    with pytest.raises(ConfigError, match="'accuracy' and/or 'loss'"):
        plots.plot_history({"val_auc": [0.5]})


@pytest.mark.parametrize("backend", BACKENDS)
def test_plot_history_of_a_dataframe(backend):
    """Study.history() gives a DataFrame, one column per metric."""
    hist = {"accuracy": [0.5, 0.7], "val_accuracy": [0.6, 0.55], "loss": [1.0, 0.8]}
    fig = plots.plot_history(pd.DataFrame(hist), backend=backend)
    assert lines(fig, 0) == {
        "train": ([1, 2], [0.5, 0.7]),
        "validation": ([1, 2], [0.6, 0.55]),
        "best epoch (1)": ([1], [0.6]),
    }
    assert lines(fig, 1) == {"train": ([1, 2], [1.0, 0.8])}


@pytest.mark.parametrize("backend", BACKENDS)
def test_compare_histories_real_run(fitted, backend):
    _, history = fitted
    other = {"val_accuracy": [0.2, 0.4, 0.6]}
    fig = plots.compare_histories({"tiny": {"tiny": history, "other": other}}, backend=backend)
    curves = lines(fig)
    assert list(curves) == ["tiny", "other"]
    assert curves["tiny"] == ([1, 2], pytest.approx(history.history["val_accuracy"]))
    assert curves["other"] == ([1, 2, 3], [0.2, 0.4, 0.6])
    assert axis_titles(fig) == ("Epoch", "Validation accuracy")


def epoch_axis(fig, panel=0):
    """``(x range, whole-epoch ticks shown)`` of one panel."""
    if isinstance(fig, go.Figure):
        axis = fig.layout["xaxis" if panel == 0 else f"xaxis{panel + 1}"]
        low, high = axis.range
        ticks = np.arange(math.ceil(low / axis.dtick) * axis.dtick, high, axis.dtick)
        return (low, high), list(ticks)
    ax = fig.axes[panel]
    low, high = ax.get_xlim()
    return (low, high), [t for t in ax.get_xticks() if low <= t <= high]


ONE_EPOCH = {"loss": [0.9], "accuracy": [0.6], "val_loss": [1.0], "val_accuracy": [0.55]}


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_epoch_history_has_one_whole_epoch_tick(backend):
    fig = plots.plot_history(ONE_EPOCH, backend=backend)
    for panel in (0, 1):
        assert epoch_axis(fig, panel) == ((0.5, 1.5), [1])
        assert lines(fig, panel)["validation"][0] == [1]
    compared = plots.compare_histories({"MNIST": {"a": ONE_EPOCH, "b": ONE_EPOCH}}, backend=backend)
    assert epoch_axis(compared) == ((0.5, 1.5), [1])
    if backend == "plotly":  # a single point is only seen through its marker
        assert all("markers" in trace.mode for trace in [*fig.data, *compared.data])
        assert fig.layout.xaxis.dtick == 1
    else:
        assert all(line.get_marker() not in ("", "None", None) for line in compared.axes[0].lines)


@pytest.mark.parametrize("backend", BACKENDS)
def test_long_history_ticks_stay_whole(backend):
    hist = {"accuracy": list(np.linspace(0.1, 0.9, 25))}
    (low, high), ticks = epoch_axis(plots.plot_history(hist, backend=backend))
    assert (low, high) == (0.5, 25.5)
    assert ticks == [3, 6, 9, 12, 15, 18, 21, 24]


def panel_titles(fig):
    if isinstance(fig, go.Figure):
        return [a.text for a in fig.layout.annotations]
    return [ax.get_title() for ax in fig.axes]


def line_colours(fig, panel):
    if isinstance(fig, go.Figure):
        axis = "x" if panel == 0 else f"x{panel + 1}"
        return {t.name: t.line.color for t in fig.data if (t.xaxis or "x") == axis}
    return {line.get_label(): line.get_color() for line in fig.axes[panel].get_lines()}


def line_dashes(fig, panel):
    if isinstance(fig, go.Figure):
        axis = "x" if panel == 0 else f"x{panel + 1}"
        return {t.name: t.line.dash for t in fig.data if (t.xaxis or "x") == axis}
    return {line.get_label(): line.get_linestyle() for line in fig.axes[panel].get_lines()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_compare_histories_one_panel_per_dataset(backend):
    histories = {
        "MNIST": {"custom": {"val_accuracy": [0.97, 0.98]}, "alexnet": {"val_accuracy": [0.9]}},
        "CIFAR-10": {
            "alexnet": {"val_accuracy": [0.3, 0.4, 0.5]},
            "custom": {"val_accuracy": [0.5, 0.6, 0.65]},
            "custom + aug": {"val_accuracy": [0.45, 0.55, 0.6]},
        },
    }
    fig = plots.compare_histories(histories, title="Validation accuracy", backend=backend)
    assert panel_titles(fig) == ["MNIST", "CIFAR-10"]
    assert lines(fig, 0) == {"custom": ([1, 2], [0.97, 0.98]), "alexnet": ([1], [0.9])}
    assert list(lines(fig, 1)) == ["alexnet", "custom", "custom + aug"]
    assert epoch_axis(fig, 0)[0] == (0.5, 2.5) and epoch_axis(fig, 1)[0] == (0.5, 3.5)
    mnist, cifar = line_colours(fig, 0), line_colours(fig, 1)
    assert mnist["custom"] == cifar["custom"] and mnist["alexnet"] == cifar["alexnet"]
    # a model's conditions are one colour, told apart by the line's dash
    assert cifar["custom + aug"] == cifar["custom"] != cifar["alexnet"]
    dashes = line_dashes(fig, 1)
    assert dashes["custom"] == dashes["alexnet"] != dashes["custom + aug"]
    if backend == "plotly":
        assert [t.name for t in fig.data if t.showlegend is not False] == [
            "custom",
            "alexnet",
            "custom + aug",
        ]
        assert fig.layout.title.text == "Validation accuracy"
    else:
        assert [t.get_text() for t in fig.legends[0].get_texts()] == [
            "custom",
            "alexnet",
            "custom + aug",
        ]


def test_compare_histories_styles_stay_distinct_past_the_palette():
    runs = {f"m{i}": {"val_accuracy": [0.5]} for i in range(len(plots.PALETTE) + 1)}
    fig = plots.compare_histories({"MNIST": runs})
    styles = {(t.line.color, t.line.dash) for t in fig.data}
    assert len(styles) == len(runs)


def test_compare_histories_rejects_bad_input():
    with pytest.raises(ConfigError, match=r"non-empty mapping \{dataset"):
        plots.compare_histories([{"val_accuracy": [0.5]}])
    with pytest.raises(ConfigError, match=r"histories\['MNIST'\] must be a non-empty mapping"):
        plots.compare_histories({"MNIST": {}})
    with pytest.raises(ConfigError, match="'val_auc' is not in the history of 'custom'"):
        plots.compare_histories({"MNIST": {"custom": ONE_EPOCH}}, metric="val_auc")


# --- plot_confusion_matrix ---------------------------------------------------------------------

CM = np.array([[8, 2, 0], [1, 6, 3], [0, 0, 0]])


def heatmap_values(fig):
    if isinstance(fig, go.Figure):
        return np.array(fig.data[0].z, dtype=float)
    return np.asarray(fig.axes[0].collections[0].get_array(), dtype=float).reshape(CM.shape)


@pytest.mark.parametrize("backend", BACKENDS)
def test_confusion_matrix_normalized(backend):
    fig = plots.plot_confusion_matrix(CM, CLASSES, backend=backend)
    expected = np.array([[0.8, 0.2, 0.0], [0.1, 0.6, 0.3], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(heatmap_values(fig), expected)
    assert axis_titles(fig) == ("Predicted label", "True label")
    if backend == "plotly":
        assert fig.data[0].type == "heatmap"
        assert list(fig.data[0].x) == list(fig.data[0].y) == list(CLASSES)
        assert fig.data[0].text[1][2] == "30.0%<br>3"
    else:
        texts = [t.get_text() for t in fig.axes[0].texts]
        assert "30.0%\n3" in texts and len(texts) == CM.size


@pytest.mark.parametrize("backend", BACKENDS)
def test_confusion_matrix_counts(backend):
    fig = plots.plot_confusion_matrix(CM, CLASSES, normalize=False, backend=backend)
    np.testing.assert_array_equal(heatmap_values(fig), CM)


def colorbar_title(fig):
    if isinstance(fig, go.Figure):
        return fig.data[0].colorbar.title.text
    return fig.axes[1].get_ylabel()  # seaborn's colour bar axes


def cell_texts(fig):
    if isinstance(fig, go.Figure):
        return [cell.replace("<br>", "\n") for row in fig.data[0].text for cell in row]
    return [t.get_text() for t in fig.axes[0].texts]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("normalize", "label", "cell"),
    [(True, "share of true class", "77.7%\n2,331"), (False, "count", "2,331")],
)
def test_confusion_matrix_colorbar_label_and_thousands(normalize, label, cell, backend):
    cm = np.array([[2331, 669], [12, 1988]])
    title = "MNIST, custom (test)"
    fig = plots.plot_confusion_matrix(
        cm, ("a", "b"), normalize=normalize, title=title, backend=backend
    )
    assert colorbar_title(fig) == label
    assert cell_texts(fig)[0] == cell
    if backend == "plotly":
        assert "%{text}" in fig.data[0].hovertemplate  # hover shows the separated counts too
        assert fig.layout.title.text == title
    else:
        assert fig.axes[0].get_title() == title


def test_confusion_matrix_fractional_counts():
    fig = plots.plot_confusion_matrix([[1000.5, 2], [0, 3]], ("a", "b"), normalize=False)
    assert cell_texts(fig)[:2] == ["1,000.5", "2.0"]


@pytest.mark.parametrize(
    ("cm", "names", "match"),
    [
        (np.ones((2, 3)), ("a", "b"), "square"),
        (CM, ("a", "b"), "one row per class name"),
        (-CM, CLASSES, "non-negative"),
    ],
)
def test_confusion_matrix_rejects_bad_input(cm, names, match):
    with pytest.raises(ConfigError, match=match):
        plots.plot_confusion_matrix(cm, names)


# --- per_class_bar -----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("scores", "class_names"),
    [
        ({"dark": 0.9, "mid": 0.5, "bright": 0.75}, None),
        ([0.9, 0.5, 0.75], CLASSES),
        (np.array([0.9, 0.5, 0.75]), CLASSES),
        (pd.Series([0.9, 0.5, 0.75], index=list(CLASSES)), None),
    ],
    ids=["mapping", "list", "array", "series"],
)
def test_per_class_bar_single(scores, class_names, backend):
    fig = plots.per_class_bar(scores, class_names=class_names, metric="accuracy", backend=backend)
    assert bars(fig) == {"Accuracy": {"dark": 0.9, "mid": 0.5, "bright": 0.75}}
    assert axis_titles(fig) == ("Class", "Accuracy")


@pytest.mark.parametrize("backend", BACKENDS)
def test_per_class_bar_classification_report(backend):
    y_true, y_pred = [0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0]
    report = classification_report(y_true, y_pred, target_names=CLASSES, output_dict=True)
    fig = plots.per_class_bar(report, backend=backend)
    expected = {name: pytest.approx(report[name]["f1-score"]) for name in CLASSES}
    assert bars(fig) == {"F1-score": expected}
    recall = plots.per_class_bar(report, metric="recall", backend=backend)
    assert bars(recall)["Recall"] == {"dark": 0.5, "mid": 1.0, "bright": 0.5}
    # a report without target_names has keys "0", "1", ...: class_names relabels them
    numeric = classification_report(y_true, y_pred, output_dict=True)
    relabelled = plots.per_class_bar(numeric, class_names=CLASSES, backend=backend)
    assert list(bars(relabelled)["F1-score"]) == list(CLASSES)


@pytest.mark.parametrize("backend", BACKENDS)
def test_per_class_bar_grouped(backend):
    scores = {"baseline": [0.7, 0.5, 0.6], "augmented": {"0": 0.8, "1": 0.55, "2": 0.9}}
    fig = plots.per_class_bar(scores, class_names=CLASSES, metric="recall", backend=backend)
    assert bars(fig) == {
        "baseline": {"dark": 0.7, "mid": 0.5, "bright": 0.6},
        "augmented": {"dark": 0.8, "mid": 0.55, "bright": 0.9},
    }


def value_range(fig):
    if isinstance(fig, go.Figure):
        value_axis = fig.layout.yaxis.range
        return None if value_axis is None else tuple(value_axis)
    return fig.axes[0].get_ylim()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0.97, 0.985, 0.999], (0.96, 1.0)),  # MNIST: a bit below the lowest, rounded
        ([1.0, 1.0, 1.0], (0.99, 1.0)),
        ([0.6, 0.8, 0.9], (0.52, 1.0)),
    ],
)
def test_per_class_bar_zooms_high_scores(values, expected, backend):
    fig = plots.per_class_bar(values, class_names=CLASSES, backend=backend)
    assert value_range(fig) == pytest.approx(expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_per_class_bar_zooms_to_the_lowest_of_every_run(backend):
    scores = {"before": [0.99, 0.975, 1.0], "after": [0.97, 0.99, 0.995]}
    fig = plots.per_class_bar(scores, class_names=CLASSES, backend=backend)
    assert value_range(fig) == pytest.approx((0.96, 1.0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_per_class_bar_keeps_zero_for_low_scores_and_counts(backend):
    low = plots.per_class_bar([0.3, 0.9, 0.95], backend=backend)
    support = plots.per_class_bar([980, 1135, 1032], metric="support", backend=backend)
    for fig in (low, support):
        if backend == "plotly":
            assert value_range(fig) is None  # autorange, from 0 for bars
        else:
            assert value_range(fig)[0] == 0


def test_per_class_bar_rejects_bad_input():
    report = classification_report([0, 1], [0, 1], output_dict=True)
    with pytest.raises(ConfigError, match="metric must be one of"):
        plots.per_class_bar(report, metric="auc")
    with pytest.raises(ConfigError, match="same classes"):
        plots.per_class_bar({"a": {"x": 1.0}, "b": {"y": 1.0}})
    with pytest.raises(ConfigError, match="2 class_names for 3 scores"):
        plots.per_class_bar([0.1, 0.2, 0.3], class_names=["a", "b"])
    with pytest.raises(ConfigError, match="1-D sequence"):
        plots.per_class_bar(np.ones((2, 2)))
    with pytest.raises(ConfigError, match="no classes"):
        plots.per_class_bar({})


# --- parameter_breakdown / plot_parameter_breakdown --------------------------------------------


@pytest.fixture(scope="module")
def small_model():
    """Known counts: Conv2D(4, 3) on 1 channel 40, BatchNorm(4) 16 (in a nested Sequential),
    Dense(10) on 2x2x4 = 16 inputs 170."""
    import keras

    block = keras.Sequential(
        [keras.layers.Conv2D(4, 3), keras.layers.BatchNormalization()], name="block"
    )
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Flatten()(keras.layers.MaxPooling2D(3)(block(inputs)))
    return keras.Model(inputs, keras.layers.Dense(10)(x), name="small")


@pytest.fixture(scope="module")
def dense_model():
    import keras

    return keras.Sequential([keras.Input((16,)), keras.layers.Dense(10)], name="mlp")


def test_parameter_breakdown_counts_nested_layers(small_model, dense_model):
    breakdown = plots.parameter_breakdown(small_model)
    assert breakdown == {
        "conv": 40,
        "dense": 170,
        "other": 16,
        "total": 226,
        "dense share": pytest.approx(170 / 226),
    }
    assert breakdown["total"] == small_model.count_params()
    assert plots.parameter_breakdown(dense_model)["dense share"] == 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_plot_parameter_breakdown(small_model, dense_model, backend):
    fig = plots.plot_parameter_breakdown(
        {"small": small_model, "mlp": dense_model},
        title="Where the parameters are",
        backend=backend,
    )
    conv, dense, other = plots.PARAM_GROUPS.values()
    assert bars(fig) == {
        conv: {"small": 40, "mlp": 0},
        dense: {"small": 170, "mlp": 170},
        other: {"small": 16, "mlp": 0},
    }
    labels = ["18%", "", "75%", "100%", "7%", ""]  # share of each model's total, per group
    if backend == "plotly":
        assert [text for trace in fig.data for text in trace.text] == labels
        assert list(fig.data[1].customdata) == pytest.approx([170 / 226, 1.0])
        assert "%{customdata:.1%}" in fig.data[1].hovertemplate
        assert fig.layout.barmode == "stack"
        assert fig.layout.title.text == "Where the parameters are"
    else:
        assert [t.get_text() for t in fig.axes[0].texts] == labels
    by_list = plots.plot_parameter_breakdown([small_model], backend=backend)
    assert list(bars(by_list)[dense]) == ["small"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_plot_parameter_breakdown_thousands_separators(small_model, backend):
    fig = plots.plot_parameter_breakdown([small_model], backend=backend)
    if backend == "plotly":
        assert fig.layout.yaxis.tickformat == ","
        assert all("%{y:,}" in trace.hovertemplate for trace in fig.data)
    else:
        assert fig.axes[0].yaxis.get_major_formatter()(2_175_626) == "2,175,626"


def test_plot_parameter_breakdown_rejects_bad_input(small_model):
    import keras

    with pytest.raises(ConfigError, match="only with a sequence"):
        plots.plot_parameter_breakdown({"a": small_model}, names=["b"])
    with pytest.raises(ConfigError, match="2 names for 1 models"):
        plots.plot_parameter_breakdown([small_model], names=["a", "b"])
    with pytest.raises(ConfigError, match="unique"):
        plots.plot_parameter_breakdown([small_model, small_model])
    with pytest.raises(ConfigError, match="empty"):
        plots.plot_parameter_breakdown([])
    with pytest.raises(ConfigError, match="built Keras model"):
        plots.parameter_breakdown(keras.Sequential([keras.layers.Dense(2)]))


# --- plot_tradeoff ----------------------------------------------------------------------------

EXPERIMENTS = {  # dataset -> (experiment, model, params)
    "CIFAR-10": [
        ("cifar10/custom", "custom", 545_098),
        ("cifar10/alexnet", "alexnet", 2_175_626),
        ("cifar10/custom+aug", "custom", 545_098),
    ],
    "MNIST": [
        ("mnist/custom", "custom", 421_642),
        ("mnist/custom+aug+loss_weight", "custom", 421_642),
    ],
}
LABELS = {
    "CIFAR-10": ["custom", "alexnet", "custom + aug"],
    "MNIST": ["custom", "custom + aug + loss weight"],
}


def fake_runs():
    """A runs_frame(study) of 3 seeds per experiment, with random accuracies and times."""
    rng = np.random.default_rng(3)
    rows = [
        {
            "experiment": experiment,
            "seed": seed,
            "dataset": dataset,
            "model": model,
            "augmented": "+aug" in experiment,
            "val acc (%)": rng.uniform(50, 99),
            "test acc (%)": rng.uniform(50, 99),
            "params": params,
            "train time (s)": rng.uniform(10, 60),
            "latency (ms)": rng.uniform(0.4, 0.9),
            "MFLOPs/image": params / 5e4,
        }
        for dataset, experiments in EXPERIMENTS.items()
        for experiment, model, params in experiments
        for seed in (42, 43, 44)
    ]
    return pd.DataFrame(rows)


def seed_stats(runs, column, dataset):
    """Mean and std (ddof=1) over the seeds of each experiment of ``dataset``, in frame order."""
    grouped = runs[runs["dataset"] == dataset].groupby("experiment", sort=False)[column]
    return list(grouped.mean()), list(grouped.std(ddof=1))


def half_lengths(collection, axis):
    """Half the length of each error bar of a Matplotlib LineCollection along axis 0 (x) or 1."""
    return [(seg[1][axis] - seg[0][axis]) / 2 for seg in collection.get_segments()]


def points(fig, panel):
    """``(labels, x, y, x errors, y errors)`` of a trade-off panel (errors 0 where none)."""
    if isinstance(fig, go.Figure):
        (trace,) = [
            t for t in fig.data if (t.xaxis or "x") == ("x" if panel == 0 else f"x{panel + 1}")
        ]
        errors = [
            list(e.array) if e.visible else [0.0] * len(trace.x)
            for e in (trace.error_x, trace.error_y)
        ]
        return list(trace.text), list(trace.x), list(trace.y), *errors
    from matplotlib.collections import PathCollection

    ax = fig.axes[panel]
    (scatter,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    x, y = scatter.get_offsets().T
    (errorbar,) = ax.containers
    collections = iter(errorbar.lines[2])
    zeros = [0.0] * len(x)
    x_err = half_lengths(next(collections), 0) if errorbar.has_xerr else zeros
    y_err = half_lengths(next(collections), 1) if errorbar.has_yerr else zeros
    return [t.get_text() for t in ax.texts], list(x), list(y), x_err, y_err


def x_scale(fig, panel):
    if isinstance(fig, go.Figure):
        return fig.layout["xaxis" if panel == 0 else f"xaxis{panel + 1}"].type
    return fig.axes[panel].get_xscale()


@pytest.mark.parametrize("backend", BACKENDS)
def test_plot_tradeoff_params(backend):
    runs = fake_runs()
    fig = plots.plot_tradeoff(runs, backend=backend)
    assert panel_titles(fig)[:2] == ["CIFAR-10", "MNIST"]
    for panel, dataset in enumerate(EXPERIMENTS):
        labels, x, y, x_err, y_err = points(fig, panel)
        assert labels == LABELS[dataset]
        assert x == pytest.approx(seed_stats(runs, "params", dataset)[0])
        mean, std = seed_stats(runs, "test acc (%)", dataset)
        assert y == pytest.approx(mean)
        assert y_err == pytest.approx(std)
        assert x_err == [0.0] * len(x)  # the same parameters every seed: no x error bar
        assert x_scale(fig, panel) == "log"
        assert axis_titles(fig, panel) == ("Parameters", "Test acc (%)")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("x", ["train time (s)", "latency (ms)", "MFLOPs/image"])
def test_plot_tradeoff_costs_varying_over_seeds(x, backend):
    runs = fake_runs()
    fig = plots.plot_tradeoff(runs, x=x, y="val acc (%)", backend=backend)
    labels, xs, ys, x_err, y_err = points(fig, 1)
    assert labels == LABELS["MNIST"]
    mean, std = seed_stats(runs, x, "MNIST")
    assert xs == pytest.approx(mean)
    assert x_err == pytest.approx(std)
    assert ys == pytest.approx(seed_stats(runs, "val acc (%)", "MNIST")[0])
    assert x_scale(fig, 1) == ("log" if x == "MFLOPs/image" else "linear")
    assert axis_titles(fig, 1) == (plots.TRADEOFF_X[x], "Val acc (%)")


def test_plot_tradeoff_leaves_out_unmeasured_runs_and_single_seeds():
    runs = fake_runs()
    runs.loc[runs["experiment"] == "cifar10/alexnet", "latency (ms)"] = np.nan
    labels, *_ = points(plots.plot_tradeoff(runs, x="latency (ms)"), 0)
    assert labels == ["custom", "custom + aug"]
    one_seed = runs[runs["seed"] == 42]
    *_, y_err = points(plots.plot_tradeoff(one_seed), 0)
    assert y_err == [0.0, 0.0, 0.0]


def test_plot_tradeoff_rejects_bad_input():
    runs = fake_runs()
    with pytest.raises(ConfigError, match="x must be one of"):
        plots.plot_tradeoff(runs, x="epochs")
    with pytest.raises(ConfigError, match=r"runs_frame\(study\); got list"):
        plots.plot_tradeoff(runs.to_dict("records"))
    with pytest.raises(ConfigError, match=r"lacks columns \['experiment'\]"):
        plots.plot_tradeoff(runs.drop(columns="experiment"))
    with pytest.raises(ConfigError, match="'test acc \\(%\\)' of runs must hold numbers"):
        plots.plot_tradeoff(runs.assign(**{"test acc (%)": "high"}))
    with pytest.raises(ConfigError, match="no run with"):
        plots.plot_tradeoff(runs.assign(**{"latency (ms)": np.nan}), x="latency (ms)")


# --- show_samples / show_misclassified ---------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("ds_name", ["rgb_ds", "gray_ds"])
def test_show_samples(request, ds_name, backend):
    ds = request.getfixturevalue(ds_name)
    fig = plots.show_samples(ds, n_per_class=2, backend=backend)
    assert image_count(fig) == 2 * len(CLASSES)
    if backend == "plotly":
        first = fig.data[0].z
        assert np.asarray(first).shape == (*ds.input_shape[:2], 3)
        titles = [a.text for a in fig.layout.annotations]
    else:
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == list(CLASSES)  # one column per class, named once, in the first row


@pytest.mark.parametrize("backend", BACKENDS)
def test_show_samples_wraps_many_classes_into_blocks(backend):
    """A 100-class dataset must not make a 100-column figure: blocks of SAMPLE_COLUMNS."""
    names = tuple(f"c{i}" for i in range(23))
    y_train, y_test = np.repeat(np.arange(len(names)), 10), np.repeat(np.arange(len(names)), 2)
    x_train, x_test = (np.zeros((len(y), 8, 8, 3), np.uint8) for y in (y_train, y_test))
    ds = from_arrays(x_train, y_train, x_test, y_test, class_names=names)
    fig = plots.show_samples(ds, n_per_class=2, split="test", backend=backend)
    assert image_count(fig) == 2 * len(names)
    if backend == "plotly":
        titles = [a.text for a in fig.layout.annotations if a.text]
        rows, cols = fig._get_subplot_rows_columns()
        assert (len(rows), len(cols)) == (3 * 2, plots.SAMPLE_COLUMNS)
    else:
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        assert len(fig.axes) == 3 * 2 * plots.SAMPLE_COLUMNS
    assert titles == list(names)


@pytest.mark.parametrize("backend", BACKENDS)
def test_show_samples_leaves_missing_cells_empty(gray_ds, backend):
    fig = plots.show_samples(gray_ds, n_per_class=4, split="test", backend=backend)
    assert image_count(fig) == 2 * len(CLASSES)  # two test images per class


def test_show_samples_rejects_bad_input(rgb_ds):
    with pytest.raises(ConfigError, match="split must be one of"):
        plots.show_samples(rgb_ds, split="validation")
    with pytest.raises(ConfigError, match="n_per_class must be a positive integer"):
        plots.show_samples(rgb_ds, n_per_class=0)
    with pytest.raises(ConfigError, match="cnnbench Dataset"):
        plots.show_samples(object())


@pytest.mark.parametrize("backend", BACKENDS)
def test_show_augmentations_rows_are_original_then_augmented(rgb_ds, backend):
    fig = plots.show_augmentations(rgb_ds, n_images=3, n_variants=2, seed=0, backend=backend)
    assert image_count(fig) == 3 * 3
    if backend == "plotly":
        originals = [np.asarray(trace.z) for trace in fig.data[:3]]
        augmented = [np.asarray(trace.z) for trace in fig.data[3:6]]
        assert all(np.array_equal(o, x) for o, x in zip(originals, rgb_ds.x_train[:3], strict=True))
        assert not all(np.array_equal(a, o) for a, o in zip(augmented, originals, strict=True))
        labels = [fig.get_subplot(row, 1).yaxis.title.text for row in (1, 2, 3)]
    else:
        labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels == ["original", "augmented 1", "augmented 2"]


def cell_titles(fig):
    if isinstance(fig, go.Figure):
        return [a.text.replace("<br>", "\n") for a in fig.layout.annotations]
    return [ax.get_title() for ax in fig.axes if ax.images]


@pytest.mark.parametrize("backend", BACKENDS)
def test_show_misclassified_with_model(fitted, rgb_ds, backend):
    model, _ = fitted
    pred = model.predict(rgb_ds.x_test, verbose=0).argmax(axis=1)
    wrong = int((pred != rgb_ds.y_test).sum())
    fig = plots.show_misclassified(model, rgb_ds, n=5, backend=backend)
    assert image_count(fig) == min(5, wrong)


@pytest.mark.parametrize("backend", BACKENDS)
def test_show_misclassified_with_predictions(rgb_ds, backend):
    y = rgb_ds.y_test
    probs = np.eye(3)[y] * 0.9 + 0.05
    probs[0] = [0.2, 0.7, 0.1]  # true dark, predicted mid at 70%
    probs[-1] = [0.95, 0.03, 0.02]  # true bright, predicted dark at 95%: shown first
    result = type("EvalLike", (), {"probabilities": probs})()
    for predictions in (probs, result):
        fig = plots.show_misclassified(None, rgb_ds, predictions=predictions, backend=backend)
        assert image_count(fig) == 2
        assert cell_titles(fig) == [
            "true: bright\npred: dark (95%)",
            "true: dark\npred: mid (70%)",
        ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_show_misclassified_none_wrong(rgb_ds, backend):
    probs = np.eye(3)[rgb_ds.y_test]
    fig = plots.show_misclassified(None, rgb_ds, predictions=probs, backend=backend)
    assert image_count(fig) == 0


def test_show_misclassified_rejects_bad_input(rgb_ds):
    with pytest.raises(ConfigError, match="shape"):
        plots.show_misclassified(None, rgb_ds, predictions=np.ones((3, 3)))
    with pytest.raises(ConfigError, match="give a model or predictions"):
        plots.show_misclassified(None, rgb_ds)
    with pytest.raises(ConfigError, match="n must be a positive integer"):
        plots.show_misclassified(None, rgb_ds, n=-1)


# --- every function: backend validation and saving ---------------------------------------------


@pytest.fixture(scope="module")
def calls(fitted, rgb_ds):
    """One call per public function, taking backend/save_path keywords."""
    model, history = fitted
    probs = np.eye(3)[::-1][rgb_ds.y_test]
    return {
        "plot_history": lambda **kw: plots.plot_history(history, **kw),
        "compare_histories": lambda **kw: plots.compare_histories({"tiny": {"a": history}}, **kw),
        "plot_confusion_matrix": lambda **kw: plots.plot_confusion_matrix(CM, CLASSES, **kw),
        "per_class_bar": lambda **kw: plots.per_class_bar([0.5, 0.6], **kw),
        "plot_parameter_breakdown": lambda **kw: plots.plot_parameter_breakdown([model], **kw),
        "plot_tradeoff": lambda **kw: plots.plot_tradeoff(fake_runs(), **kw),
        "show_samples": lambda **kw: plots.show_samples(rgb_ds, n_per_class=1, **kw),
        "show_misclassified": lambda **kw: plots.show_misclassified(
            None, rgb_ds, n=2, predictions=probs, **kw
        ),
    }


FUNCTIONS = [
    "plot_history",
    "compare_histories",
    "plot_confusion_matrix",
    "per_class_bar",
    "plot_parameter_breakdown",
    "plot_tradeoff",
    "show_samples",
    "show_misclassified",
]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_saves_html_and_png(calls, name, tmp_path):
    html = tmp_path / "out" / f"{name}.html"
    assert isinstance(calls[name](save_path=html), go.Figure)
    assert html.stat().st_size > 1_000_000  # plotly.js embedded: opens offline
    png = tmp_path / "static" / f"{name}.png"
    fig = calls[name](backend="matplotlib", save_path=png)
    assert isinstance(fig, Figure)
    assert fig.number not in plt.get_fignums()  # closed in pyplot, so not shown twice
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_rejects_bad_backend_and_suffix(calls, name, tmp_path):
    with pytest.raises(ConfigError, match="backend must be one of"):
        calls[name](backend="bokeh")
    with pytest.raises(ConfigError, match=r"\.html"):
        calls[name](save_path=tmp_path / "fig.jpeg")
    with pytest.raises(ConfigError, match="must end in one of"):
        calls[name](backend="matplotlib", save_path=tmp_path / "fig.html")


def test_plotly_png_works_or_explains(calls, tmp_path):
    """kaleido needs Chrome: PNG export either works or says to use HTML or matplotlib."""
    png = tmp_path / "fig.png"
    try:
        calls["plot_confusion_matrix"](save_path=png)
    except RuntimeError as exc:
        assert ".html" in str(exc) and "backend='matplotlib'" in str(exc)
        assert not png.exists()
    else:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plotly_png_failure_message(calls, tmp_path, monkeypatch):
    def no_chrome(self, *args, **kwargs):
        raise RuntimeError("\nKaleido requires Google Chrome to be installed.\n")

    monkeypatch.setattr(go.Figure, "write_image", no_chrome)
    with pytest.raises(RuntimeError, match="Chrome to be installed.*Save it as .html") as info:
        calls["per_class_bar"](save_path=tmp_path / "bars.png")
    assert isinstance(info.value.__cause__, RuntimeError)


def test_import_does_not_need_tensorflow():
    """plots.py itself imports no TensorFlow/Keras (the package __init__ may)."""
    import ast
    import inspect

    modules = set()
    for node in ast.parse(inspect.getsource(plots)).body:
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module)
    top_level = {name.split(".")[0] for name in modules}
    assert not top_level & {"tensorflow", "keras", "matplotlib", "seaborn", "pandas"}


# --- tick labels, sample predictions, figure width --------------------------------------------


def test_log_axis_of_the_tradeoff_is_labelled_in_short_numbers():
    fig = plots.plot_tradeoff(fake_runs(), x="params", backend="matplotlib")
    fig.canvas.draw()
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert labels and all(label[-1] in "kMG0123456789" for label in labels)
    assert "e" not in "".join(labels) and "^" not in "".join(labels)
    assert plots._short_number(300_000) == "300k" and plots._short_number(2e6) == "2M"


@pytest.mark.parametrize("backend", BACKENDS)
def test_show_predictions_has_a_row_of_right_and_a_row_of_wrong(rgb_ds, backend):
    y = rgb_ds.y_test
    probs = np.eye(3)[y] * 0.9 + 0.05  # right at 95%
    probs[0] = [0.2, 0.7, 0.1]  # true dark, predicted mid at 70%
    fig = plots.show_predictions(None, rgb_ds, n=3, predictions=probs, backend=backend)
    titles = cell_titles(fig)
    assert image_count(fig) == 3 + 1  # three right, one wrong (the others left empty)
    assert sum(t.endswith(" 95%") for t in titles) == 3
    assert "mid 70%\n(true: dark)" in titles


def test_figures_fit_colabs_width(rgb_ds):
    scores = {f"run {i}": {f"class {c}": 0.5 for c in range(15)} for i in range(8)}
    fig = plots.per_class_bar(scores, backend="matplotlib")
    assert fig.get_size_inches()[0] <= plots.MAX_WIDTH_IN


def test_matplotlib_value_axes_that_do_not_start_at_zero_say_so():
    history = {"accuracy": [0.93, 0.99], "val_accuracy": [0.94, 0.98], "loss": [0.6, 0.5]}
    fig = plots.plot_history(history, backend="matplotlib")
    accuracy, loss = fig.axes[0], fig.axes[1]
    assert accuracy.get_ylim()[0] > 0 and "not 0)" in accuracy.get_ylabel()
    assert "not 0)" in loss.get_ylabel()
    from_zero = plots.plot_history({"accuracy": [0.0, 0.5]}, backend="matplotlib").axes[0]
    if from_zero.get_ylim()[0] <= 0:
        assert "not 0" not in from_zero.get_ylabel()


def test_confusion_matrix_labels_are_horizontal_and_breakdown_names_rotate():
    names = ["airplane", "automobile", "bird"]
    fig = plots.plot_confusion_matrix(
        [[5, 1, 0], [0, 6, 0], [1, 0, 4]], names, normalize=False, backend="matplotlib"
    )
    assert all(t.get_rotation() == 0 for t in fig.axes[0].get_yticklabels())
    import keras

    def tiny(name):
        inputs = keras.Input((8, 8, 1))
        return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)), name=name)

    models = {f"model_{i}": tiny(f"model_{i}") for i in range(5)}
    bars = plots.plot_parameter_breakdown(models, backend="matplotlib").axes[0]
    assert all(t.get_rotation() == 30 for t in bars.get_xticklabels())
