"""The ipywidgets explorer over a real (tiny) study."""

import matplotlib
import pytest

from cnnbench import load_dataset
from cnnbench.config import get_profile
from cnnbench.errors import ConfigError
from cnnbench.explorer import experiment_figures, explore
from cnnbench.study import Study, run_study

TINY = {"sample_fraction": 0.05, "val_fraction": 0.02, "test_fraction": 0.2, "epochs": 1}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    profile = get_profile("demo", batch_size=32, **TINY)
    return run_study(
        profile,
        artifacts=tmp_path_factory.mktemp("explorer"),
        datasets=("mnist",),
        verbose=0,
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
    experiment.value = "mnist/augmented"  # switching experiments redraws without error
    assert experiment.value == "mnist/augmented"


def test_empty_study_is_refused(study, tmp_path):
    empty = Study(tmp_path, study.profile, study.seed, study.datasets)
    with pytest.raises(ConfigError, match="no finished experiment"):
        explore(empty)


IPYWIDGETS_7 = ["ipywidgets==7.8.5", "ipython_genutils==0.2.0"]  # what Colab preinstalls


def test_widget_works_under_ipywidgets_7(study, tmp_path):
    """Colab ships ipywidgets 7.x and installing cnnbench must not upgrade it under a running
    kernel (the requirement is ipywidgets>=7.6): the explorer must work with 7.x too. The
    environment's ipywidgets 8 is shadowed by 7.8.5 installed into a folder on PYTHONPATH."""
    import os
    import subprocess
    import sys

    target = tmp_path / "ipywidgets7"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
    subprocess.run([*pip, str(target), *IPYWIDGETS_7], check=True)
    script = (
        "import ipywidgets, sys\n"
        "from cnnbench.explorer import explore\n"
        "from cnnbench.study import load_study\n"
        "assert ipywidgets.__version__.startswith('7.'), ipywidgets.__version__\n"
        f"study = load_study({str(study.path)!r})\n"
        "box = explore(study, backend='matplotlib')\n"
        "dataset, experiment = box.children[0].children\n"
        "experiment.value = 'mnist/augmented'\n"
        "print('explorer:', ipywidgets.__version__, list(dataset.options), experiment.value)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MPLBACKEND": "Agg",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("explorer:"))
    assert line == "explorer: 7.8.5 ['mnist'] mnist/augmented"
