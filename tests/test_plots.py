"""Figures of cnnbench.plots, both backends, headless: structure, values, saving and errors."""

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
    if isinstance(fig, go.Figure):
        suffix = "" if panel == 0 else str(panel + 1)
        return fig.layout[f"xaxis{suffix}"].title.text, fig.layout[f"yaxis{suffix}"].title.text
    return fig.axes[panel].get_xlabel(), fig.axes[panel].get_ylabel()


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


# --- plot_history / compare_models -------------------------------------------------------------


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
def test_compare_models(fitted, backend):
    _, history = fitted
    other = {"val_accuracy": [0.2, 0.4, 0.6]}
    fig = plots.compare_models([history, other], ["tiny", "other"], backend=backend)
    curves = lines(fig)
    assert list(curves) == ["tiny", "other"]
    assert curves["tiny"] == ([1, 2], pytest.approx(history.history["val_accuracy"]))
    assert curves["other"] == ([1, 2, 3], [0.2, 0.4, 0.6])
    assert axis_titles(fig) == ("Epoch", "Validation accuracy")


def test_compare_models_rejects_bad_input(fitted):
    _, history = fitted
    with pytest.raises(ConfigError, match="equal length"):
        plots.compare_models([history], ["a", "b"])
    with pytest.raises(ConfigError, match="'val_auc' is not in the history of 'a'"):
        plots.compare_models([history], ["a"], metric="val_auc")


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


# --- visualize_architecture / plot_parameter_comparison ----------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_visualize_architecture_nested(fitted, backend):
    model, _ = fitted
    fig = plots.visualize_architecture(model, backend=backend)
    features = model.get_layer("features")
    top = [layer.name for layer in model.layers]
    nested_at = top.index("features") + 1
    expected = top[:nested_at] + [layer.name for layer in features.layers] + top[nested_at:]
    if backend == "plotly":
        table = fig.data[0]
        assert table.type == "table"
        assert list(table.header.values) == ["Layer", "Type", "Output shape", "Params"]
        names, types, shapes, params = table.cells.values
        assert [n.lstrip("\u2003└ ") for n in names] == expected
        assert names[3].startswith("\u2003└ ")  # nested layer indented under "features"
        assert types[2] == "Sequential" and shapes[3] == "(None, 14, 14, 4)"
        assert params[2] == params[3] == f"{features.count_params():,}"
        title = fig.layout.title.text
    else:
        texts = [t.get_text() for t in fig.axes[0].texts]
        for name in expected:
            assert any(t.startswith(f"{name} (") for t in texts)
        assert len(fig.axes[0].patches) == len(expected)
        title = fig.axes[0].get_title()
    assert title.startswith(f"tiny: {model.count_params():,} parameters")


def test_visualize_architecture_rejects_unbuilt_model():
    import keras

    with pytest.raises(ConfigError, match="built Keras model"):
        plots.visualize_architecture(keras.Sequential([keras.layers.Dense(2)]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_plot_parameter_comparison(fitted, backend):
    model, _ = fitted
    features = model.get_layer("features")
    fig = plots.plot_parameter_comparison([model, features], backend=backend)
    (heights,) = bars(fig).values()
    assert heights == {"tiny": model.count_params(), "features": features.count_params()}
    assert axis_titles(fig) == ("Model", "Parameters")
    fig = plots.plot_parameter_comparison([1000, 250], names=["a", "b"], backend=backend)
    assert list(bars(fig).values()) == [{"a": 1000, "b": 250}]


def test_plot_parameter_comparison_rejects_bad_input():
    with pytest.raises(ConfigError, match="names is required"):
        plots.plot_parameter_comparison([1000])
    with pytest.raises(ConfigError, match="equal length"):
        plots.plot_parameter_comparison([1000], names=["a", "b"])
    with pytest.raises(ConfigError, match="Keras models or ints"):
        plots.plot_parameter_comparison(["big"], names=["a"])


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
        labels = [fig.get_subplot(row, 1).yaxis.title.text for row in (1, 2, 3)]
    else:
        labels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert labels == list(CLASSES)


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
        "compare_models": lambda **kw: plots.compare_models([history], ["tiny"], **kw),
        "plot_confusion_matrix": lambda **kw: plots.plot_confusion_matrix(CM, CLASSES, **kw),
        "per_class_bar": lambda **kw: plots.per_class_bar([0.5, 0.6], **kw),
        "visualize_architecture": lambda **kw: plots.visualize_architecture(model, **kw),
        "plot_parameter_comparison": lambda **kw: plots.plot_parameter_comparison([model], **kw),
        "show_samples": lambda **kw: plots.show_samples(rgb_ds, n_per_class=1, **kw),
        "show_misclassified": lambda **kw: plots.show_misclassified(
            None, rgb_ds, n=2, predictions=probs, **kw
        ),
    }


FUNCTIONS = [
    "plot_history",
    "compare_models",
    "plot_confusion_matrix",
    "per_class_bar",
    "visualize_architecture",
    "plot_parameter_comparison",
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
