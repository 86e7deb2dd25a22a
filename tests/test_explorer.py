"""The ipywidgets explorer over a real (tiny) study.

These tests run under the newest ipywidgets (8) and, in the Colab environment .ci/run builds
from constraints/colab.txt, under Colab's 7.7.1.
"""

import matplotlib
import pytest

from cnnbench import load_dataset
from cnnbench.config import get_profile
from cnnbench.errors import ConfigError
from cnnbench.explorer import experiment_figures, explore
from cnnbench.results import Study
from cnnbench.runner import run_study

TINY = {"sample_fraction": 0.05, "val_fraction": 0.02, "test_fraction": 0.2, "epochs": 1}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    profile = get_profile("demo", batch_size=32, **TINY)
    return run_study(
        profile,
        artifacts=tmp_path_factory.mktemp("explorer"),
        datasets=("mnist",),
        verbose=0,
        estimate=False,
        log=None,
    )


def test_figures_of_one_experiment(study):
    ds = load_dataset(
        "mnist",
        source="sample",
        seed=study.seed,
        sample_fraction=0.05,
        val_fraction=0.02,
        test_fraction=0.2,
    )
    key = study.best_key("mnist")
    curves, confusion = experiment_figures(study, key, backend="matplotlib")
    assert isinstance(curves, matplotlib.figure.Figure)
    assert "mnist" in confusion.axes[0].get_title()
    figures = experiment_figures(study, key, {"mnist": ds}, backend="plotly")
    assert len(figures) == 3  # misclassified images need the dataset
    assert "misclassified" in figures[2].layout.title.text


def test_widget_offers_finished_experiments(study):
    box = explore(study, backend="matplotlib")
    dataset, experiment = box.children[0].children
    assert list(dataset.options) == ["mnist"]
    assert list(experiment.options) == list(study.results)
    experiment.value = "mnist/custom+aug"  # switching experiments redraws without error
    assert experiment.value == "mnist/custom+aug"


def test_empty_study_is_refused(study, tmp_path):
    empty = Study(tmp_path, study.profile, study.spec, study.seed, study.datasets)
    with pytest.raises(ConfigError, match="no finished experiment"):
        explore(empty)
