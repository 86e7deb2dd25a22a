"""An ipywidgets explorer of a study: pick a dataset and an experiment, see its results."""

from __future__ import annotations

from cnnbench import plots
from cnnbench.errors import ConfigError


def experiment_figures(study, key: str, datasets=None, *, backend="plotly") -> list:
    """The figures the explorer shows for one experiment: learning curves, test confusion
    matrix and, when its dataset is given in ``datasets``, the misclassified test images."""
    result = study.result(key)
    test = result["test"]
    figures = [
        plots.plot_history(result["train"]["history"], title=key, backend=backend),
        plots.plot_confusion_matrix(
            test["confusion_matrix"], test["class_names"], title=f"{key} (test)", backend=backend
        ),
    ]
    ds = (datasets or {}).get(result["config"]["dataset"])
    if ds is not None:
        figures.append(plots.show_misclassified(study.load_model(key), ds, backend=backend))
    return figures


def explore(study, datasets=None, *, backend="plotly"):
    """A widget with dataset and experiment pickers above the chosen experiment's figures.

    Args:
        study: a :class:`cnnbench.results.Study` (from ``run_study`` or ``load_study``).
        datasets: optional ``{name: Dataset}``; needed to show misclassified images.
        backend: ``"plotly"`` or ``"matplotlib"``.
    """
    import ipywidgets as widgets
    from IPython.display import display

    if not study.results:
        raise ConfigError(f"study {str(study.path)!r} has no finished experiment to explore")
    names = [d for d in study.datasets if any(k.startswith(f"{d}/") for k in study.results)]
    dataset = widgets.Dropdown(options=names, description="dataset")
    experiment = widgets.Dropdown(description="experiment")
    output = widgets.Output()

    def show(_=None):
        output.clear_output(wait=True)
        if experiment.value is None:
            return
        with output:
            for figure in experiment_figures(study, experiment.value, datasets, backend=backend):
                display(figure)

    def pick_dataset(_=None):
        keys = [k for k in study.results if k.startswith(f"{dataset.value}/")]
        experiment.options = keys
        experiment.value = keys[0]

    dataset.observe(pick_dataset, names="value")
    experiment.observe(show, names="value")
    pick_dataset()
    return widgets.VBox([widgets.HBox([dataset, experiment]), output])
