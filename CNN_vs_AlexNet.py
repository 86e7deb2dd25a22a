# ---
# jupyter:
#   accelerator: GPU
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A lightweight CNN vs. AlexNet on MNIST and CIFAR-10
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnnbench/cnnbench/blob/main/CNN_vs_AlexNet.ipynb)
#
# How do architecture choices — the original study's small custom CNN in three variants, its
# AlexNet-style network and this study's own lightweight CNN — and data augmentation change
# **accuracy, size, speed and per-class behaviour** when training on a **stratified 25% sample**
# of each class? This notebook answers it with the `cnnbench` package, top to bottom:
#
# 1. the data · 2. stratified sampling · 3. one experiment by hand · 4. the models ·
# 5. the study: training with and without augmentation · 6. evaluation · 7. discussion ·
# 8. limitations.
#
# Every number and figure below is computed by this run, on the hardware printed under the
# parameters. Results are saved under `ARTIFACTS` as each run finishes, so running the notebook
# again (or after an interruption) resumes instead of retraining. Source of this notebook:
# `CNN_vs_AlexNet.py` (jupytext percent format), built by `scripts/build_notebook.py`.

# %%
# Setup: make `cnnbench` importable. In Colab a fresh runtime has nothing, so this cell clones
# the repository and installs it; every requirement's floor is the version Colab preinstalls,
# so pip keeps Colab's own TensorFlow, Plotly and ipywidgets. Locally it uses the installed
# package or this clone.
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

# From [project.urls] in pyproject.toml (scripts/build_notebook.py writes it here);
# the environment variable CNNBENCH_REPO_URL overrides it (a fork, a local file:// clone).
REPO_URL = os.environ.get("CNNBENCH_REPO_URL", "https://github.com/cnnbench/cnnbench")

try:
    import google.colab  # noqa: F401  (only Colab has it)

    IN_COLAB = True
except ImportError:
    IN_COLAB = False


class SetupError(Exception):
    """Shown by IPython as one sentence, without a traceback: what failed and how to fix it."""

    def _render_traceback_(self):
        return [f"Setup failed: {self}"]


def setup_step(command, failed, fix):
    """Run ``command``; if it fails, stop the notebook with what failed, why and the fix."""
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise SetupError(f"{failed}: {command[0]} is not installed. {fix}") from None
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        why = lines[-1] if lines else f"exit status {done.returncode}"
        raise SetupError(f"{failed} ({why}). {fix}") from None


if IN_COLAB:
    clone = Path("cnnbench-repo").resolve()
    if not clone.is_dir():
        setup_step(
            ["git", "clone", "--quiet", "--depth", "1", REPO_URL, str(clone)],
            f"could not clone {REPO_URL}",
            "Check the runtime's network, or set CNNBENCH_REPO_URL to a repository you can "
            "clone (a cell above this one: %env CNNBENCH_REPO_URL=https://github.com/<you>/"
            "cnnbench), or upload the repository's folder to this runtime as cnnbench-repo.",
        )
    if importlib.util.find_spec("cnnbench") is None:
        setup_step(
            [sys.executable, "-m", "pip", "install", "--quiet", "-e", str(clone)],
            f"pip could not install cnnbench from {clone}",
            "Check the runtime's network and that cnnbench-repo holds the whole repository "
            "(delete the folder to clone it again), then run this cell again.",
        )
    sys.path.insert(0, str(clone))  # importable in this kernel, without a restart
elif importlib.util.find_spec("cnnbench") is None:
    here = [Path.cwd(), *Path.cwd().parents]
    root = next((p for p in here if (p / "cnnbench" / "__init__.py").is_file()), None)
    if root is None:
        raise ModuleNotFoundError(
            "cnnbench is not installed and this folder is not in a clone of its repository: "
            f"`git clone {REPO_URL}` and open the notebook there, or `pip install` the clone"
        )
    sys.path.insert(0, str(root))

# %% tags=["parameters"]
# Parameters (papermill: this cell is tagged `parameters`).
PROFILE = "auto"  # demo | quick | standard | full | auto (standard with a GPU, else quick)
DATA_DIR = None  # folder with mnist.npz / cifar10.npz; None: $CNNBENCH_DATA_DIR or download
SEED = 42  # seeds the data sample and split, and is the first training seed
SEEDS = None  # seeds per experiment (SEED, SEED + 1, ...); None: the profile's
ARTIFACTS = "artifacts"  # results, models and confusion matrices are written here
DRIVE_FOLDER = None  # Colab: a folder in your Google Drive to keep ARTIFACTS across resets
EPOCHS = None  # an int replaces every epoch budget of the profile (tests run with 1)
PLOT_BACKEND = "matplotlib"  # "matplotlib" (static images) or "plotly" (interactive)

# %%
import matplotlib as mpl
import pandas as pd
from IPython.display import Markdown, display

import cnnbench
from cnnbench import plots
from cnnbench.config import get_profile
from cnnbench.explorer import explore
from cnnbench.models import outline
from cnnbench.study import display_name, resolve_profile, run_study
from cnnbench.tables import class_report, recipe_table, targeted_table

if DRIVE_FOLDER and IN_COLAB:  # artifacts in Drive survive a runtime reset; resume from there
    from google.colab import drive

    drive.mount("/content/drive")
    ARTIFACTS = str(Path("/content/drive/MyDrive") / DRIVE_FOLDER / "artifacts")

profile = resolve_profile(PROFILE)
if EPOCHS is not None:
    profile = get_profile(profile, epochs=EPOCHS)
mpl.rcParams["figure.dpi"] = 72  # static figures at screen resolution: a light notebook
pd.set_option("display.precision", 3)
pd.set_option("display.float_format", "{:,.3f}".format)
print(f"cnnbench {cnnbench.__version__} · profile {profile.name}: {profile.description}")
print(f"hardware: {cnnbench.environment_info()['hardware']}")
print(f"artifacts: {ARTIFACTS}")

# %% [markdown]
# ## 1. The data
#
# MNIST: 70,000 grayscale 28×28 handwritten digits. CIFAR-10: 60,000 colour 32×32 photos of
# ten object classes. `load_dataset` reads them from `DATA_DIR` (or downloads them) and records
# where they came from and what their pixels are: the *variant* printed below (the offline copy
# of CIFAR-10 used for the committed outputs has JPEG-derived pixels, exact labels).

# %%
datasets = {
    name: cnnbench.load_dataset(name, **profile.dataset_kwargs(data_dir=DATA_DIR, seed=SEED))
    for name in ("cifar10", "mnist")
}
for ds in datasets.values():
    print(f"{display_name(ds.name)}: {ds.variant} (source: {ds.source})")

# %%
plots.show_samples(datasets["cifar10"], n_per_class=2, backend=PLOT_BACKEND)

# %%
plots.show_samples(datasets["mnist"], n_per_class=2, backend=PLOT_BACKEND)

# %% [markdown]
# ## 2. Stratified sampling and preprocessing
#
# - **Stratified sample.** As in the original study, training uses a per-class sample of the
#   training set: every class keeps `round(fraction × its count)` images, so class balance is
#   preserved exactly. The indices are kept in the dataset, so the sample can be reproduced.
# - **Validation split.** Every model choice uses a validation split drawn from the training
#   images *outside* the sample (or carved out of it when the whole set is used). The test set
#   is touched only to report results: the original study selected models on it.
# - **Scaling.** Images stay `uint8` in memory; each model rescales to `[0, 1]` in its first
#   layer.
# - **Augmentation.** The original's rotation ±15°, shifts ±10%, zoom ±10% and horizontal flips
#   (not for digits: a mirrored 2 is not a 2), fused into one random affine transform per image.

# %%
counts = pd.concat(
    {
        display_name(name): pd.DataFrame(ds.describe()["class_counts"], index=ds.class_names)
        for name, ds in datasets.items()
    },
    names=["dataset", "class"],
)
counts.style.format("{:,}")

# %%
plots.show_augmentations(datasets["cifar10"], n_images=3, seed=SEED, backend=PLOT_BACKEND)

# %% [markdown]
# ## 3. One experiment by hand
#
# Everything the study runner does, done once with the public API on MNIST: load the data,
# build a model, look at it, train it (validation only), evaluate it on the test set and plot
# what happened. This is the loop the runner repeats for every model, dataset and seed.

# %%
ds = datasets["mnist"]
cnnbench.set_seed(SEED)
model = cnnbench.build_model("custom", ds.input_shape, ds.num_classes)
model.summary()

# %%
run = cnnbench.train(model, ds, epochs=EPOCHS or 2, seed=SEED, verbose=2)
print(run.config["recipe"]["reason"])
ev = cnnbench.evaluate(model, ds)  # the official test set, once
print(f"test accuracy {ev.accuracy:.2%} ({ev.params:,} parameters, {ev.latency_ms:.2f} ms/image)")

# %%
plots.plot_history(run.history, title="custom on MNIST, by hand", backend=PLOT_BACKEND)

# %%
plots.plot_confusion_matrix(
    ev.confusion_matrix,
    ev.class_names,
    title="custom on MNIST, by hand (test)",
    backend=PLOT_BACKEND,
)

# %% [markdown]
# ## 4. The models
#
# A few terms the comparison turns on:
#
# - A **convolution** slides small learned filters (3×3 or 5×5) over the image, each producing a
#   feature map. Its parameters are `k × k × C_in × C_out` (+ biases), independent of image
#   size; its cost (FLOPs) grows with the map's area. **Pooling** halves the resolution, so
#   deeper layers see larger regions cheaply.
# - **Dense layers** connect everything to everything: after flattening an 8×8×128 map, one
#   256-unit layer alone holds 2.1 M parameters.
# - **Dropout** silences random units while training, against overfitting; **BatchNorm**
#   normalises activations per batch, which lets training use much larger learning rates.
# - Accuracy is not everything: parameters (memory), FLOPs and measured latency matter on
#   devices, and the **train–validation gap** shows overfitting.
#
# The original study's custom CNN is *conv → pool → conv → pool → dropout → flatten → dense →
# dropout → softmax* in three variants; the variant with the best **validation** accuracy on
# CIFAR-10 goes on to the comparison. Its AlexNet adaptation shrinks the 2012 design (Krizhevsky,
# Sutskever & Hinton: 11×11 stride-4 first layer, 96–384 filters, two 4,096-unit dense layers,
# ~61 M parameters for ImageNet) to five 3×3 convolutions for 28–32 px images. `custom` is this
# study's own lightweight CNN (its docstring explains each choice). The layer outlines below are
# read from the model objects themselves.

# %%
architectures = {
    name: cnnbench.build_model(name, (32, 32, 3), 10)
    for name in ("custom_v1", "custom_v2", "custom_v3", "alexnet", "custom")
}
display(
    pd.DataFrame(
        {
            "params (CIFAR-10)": [m.count_params() for m in architectures.values()],
            "layers": [outline(m) for m in architectures.values()],
        },
        index=pd.Index(architectures, name="model"),
    ).style.format({"params (CIFAR-10)": "{:,}"})
)

# %% [markdown]
# Where the parameters sit: the 2012 AlexNet keeps about 96% of its parameters in its dense
# layers. The chart splits each network here into convolutional, dense and other (BatchNorm)
# parameters.

# %%
plots.plot_parameter_breakdown(architectures, backend=PLOT_BACKEND)

# %% [markdown]
# ## 5. The study: training with and without augmentation
#
# `run_study` runs the experiments in the original's order: the three variants on CIFAR-10, the
# chosen variant, `alexnet` and `custom` on both datasets; then the best of them (by mean
# validation accuracy over the seeds) again with uniform augmentation, and with augmentation
# targeted at its weakest validation classes (oversampled, or weighted in the loss), each for
# the same epochs, batch, recipe and seeds as without. Each seed run is saved as it finishes; a
# rerun skips what is done.
#
# This is the long cell. It first prints the plan and how long it should take on this hardware
# (every model is timed for two short epochs, about a minute), then trains under a progress bar
# whose ETA follows that estimate, with one line per finished run. On a CPU, `PROFILE = "auto"`
# runs `quick`: about 40-50 minutes on a 2-core machine (measured). On a GPU it runs `standard`,
# *estimated* at 10-35 minutes on a Colab T4: not measured yet, no GPU has run it (the basis is
# in `docs/performance.md`, section 10); the estimate this cell prints is measured here.

# %%
study = run_study(profile, data_dir=DATA_DIR, seed=SEED, seeds=SEEDS, artifacts=ARTIFACTS)
display(Markdown(f"_{study.header()}_"))

# %% [markdown]
# How each experiment was trained (`recipe="auto"` sizes batch and learning rate to the data;
# the last column says why):

# %%
recipe_table(study).style.format(
    {"peak lr": "{:.3g}", "label smoothing": "{:g}", "weight decay": "{:g}", "batch": "{:,}"}
).hide(axis="index")

# %%
study.variant_table().style.format(precision=2, thousands=",").hide(axis="index")

# %% [markdown]
# ## 6. Evaluation
#
# Test-set results of every compared model, with their cost: means over the seeds, with the
# standard deviation and 95% interval of the accuracies. *Train–val gap* is the last epoch's
# training accuracy minus its validation accuracy (percentage points; training accuracy is
# measured with dropout and augmentation on).

# %%
study.comparison_table().style.format(precision=2, thousands=",").hide(axis="index")


# %%
def compared(name):
    """The experiments of the comparison on a dataset (the variant runs only select one)."""
    return [k for k in study.results if k.startswith(f"{name}/") and "/variant_" not in k]


histories = {
    display_name(name): {key.split("/")[1]: study.history(key) for key in compared(name)}
    for name in study.datasets
}
plots.compare_histories(histories, metric="val_accuracy", backend=PLOT_BACKEND)

# %% [markdown]
# Learning curves and test confusion matrix of every compared model (first seed), per dataset:

# %%
for name in study.datasets:
    tests = {key.split("/")[1]: study.result(key)["test"] for key in compared(name)}
    display(
        plots.plot_history_grid(
            {key.split("/")[1]: study.history(key) for key in compared(name)},
            title=f"{display_name(name)}: learning curves (seed {SEED})",
            backend=PLOT_BACKEND,
        )
    )
    display(
        plots.plot_confusion_grid(
            {label: (t["confusion_matrix"], t["class_names"]) for label, t in tests.items()},
            title=f"{display_name(name)}: test confusion matrices (seed {SEED})",
            backend=PLOT_BACKEND,
        )
    )

# %% [markdown]
# ### The trade-off: accuracy against size, training time and latency
#
# One point per experiment at its mean over the seeds, error bars one standard deviation.

# %%
runs = study.runs_frame()
runs = runs[~runs["experiment"].str.contains("/variant_")]  # the comparison's runs only
for x in ("params", "train time (s)", "latency (ms)"):
    display(plots.plot_tradeoff(runs, x=x, y="test acc (%)", backend=PLOT_BACKEND))

# %%
plots.plot_training_time(runs, backend=PLOT_BACKEND)

# %% [markdown]
# ### Per-class behaviour, and what augmentation changed
#
# Test precision, recall and F1 per class of every compared model (means over the seeds). The
# weakest classes are then found on the **validation** split, and the best model's test F1 is
# compared without augmentation, with uniform augmentation and with augmentation targeted at
# those classes.

# %%
for name in study.datasets:
    reports = {key.split("/")[1]: class_report(study, key) for key in compared(name)}
    table = pd.concat({label: r.drop(columns="images") for label, r in reports.items()}, axis=1)
    display(Markdown(f"**{display_name(name)}**: test precision, recall and F1 per class"))
    display(table.style.format(precision=3).background_gradient(cmap="Blues", axis=None))

# %%
for name in study.datasets:
    table = study.per_class_table(name)
    display(
        Markdown(
            f"**{display_name(name)}**: weakest on validation: "
            + ", ".join(study.weakest_classes(name).index)
        )
    )
    display(table.style.format(precision=3))
    columns = [c for c in table.columns if c.startswith("test F1")]
    runs = {c.removeprefix("test F1").strip() or "no augmentation": table[c] for c in columns}
    display(
        plots.per_class_bar(
            {label: f1.to_dict() for label, f1 in runs.items()},
            title=f"{display_name(name)}: test F1 per class, mean over the seeds",
            backend=PLOT_BACKEND,
        )
    )

# %%
targeted_table(study).style.format(precision=3, na_rep="–").hide(axis="index")

# %% [markdown]
# Test images the best CIFAR-10 model retrained with uniform augmentation gets wrong:

# %%
plots.show_misclassified(
    study.load_model("cifar10/augmented"), datasets["cifar10"], n=8, backend=PLOT_BACKEND
)

# %% [markdown]
# ### Explore
#
# Pick a dataset and an experiment to see its curves, confusion matrix and misclassified images
# (a live widget: it needs a running kernel).

# %%
explore(study, datasets, backend=PLOT_BACKEND)

# %% [markdown]
# ## 7. Discussion
#
# Generated from this run's results (nothing below is typed by hand): which model won and by
# how much, at what cost, what augmentation changed, with paired tests over the seeds.

# %%
display(Markdown(study.summary_markdown()))

# %% [markdown]
# ## 8. Limitations

# %%
display(Markdown(study.limitations_markdown()))
