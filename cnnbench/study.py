"""The study runner: the original study's experiments, in its order, resumable from artifacts.

Every experiment is trained once per seed (``seed``, ``seed + 1``, ...: initialisation,
shuffling and augmentation; the data sample stays fixed by the study seed). Each seed run writes
``<artifacts>/<study>/<dataset>/<experiment>/seed_<s>/`` with ``model.keras``,
``confusion_matrix.csv`` and, last, ``result.json``, all atomically: a ``result.json`` marks a
finished seed run, so a killed run loses at most the seed run in progress and a rerun skips
what is done (unless its config changed). Results of the layout from before per-seed runs
(``<experiment>/result.json``) are not read: the next run recomputes them. Every choice (the
custom variant, the best model per dataset, its weakest classes) is made on the mean over the
seeds of the validation split; test numbers are only reported.

The tables built from the results are in :mod:`cnnbench.tables`, the generated discussion in
:mod:`cnnbench.discussion`; :class:`Study` keeps methods that call them.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from tqdm.auto import tqdm

from cnnbench.artifacts import read_json, save_model, write_json, write_text
from cnnbench.config import (
    AUGMENTATION,
    AUTO_RECIPES,
    AUTO_SIZING,
    CROP_FLIP_CUTOUT,
    TARGETED_CLASSES,
    TARGETED_FACTOR,
    TARGETED_METHODS,
    Profile,
    get_profile,
    get_recipe,
)
from cnnbench.data import Dataset, _sha256, load_dataset
from cnnbench.errors import ConfigError
from cnnbench.estimate import format_seconds, measure_pace
from cnnbench.evaluation import evaluate
from cnnbench.hardware import environment_info, peak_rss_mib
from cnnbench.models import build_model
from cnnbench.targeted import ClassBoost
from cnnbench.training import configure_precision, plan_recipe, set_seed, train

VARIANTS = ("custom_v1", "custom_v2", "custom_v3")
COMPARED = ("best_variant", "alexnet", "custom")  # experiments of the comparison, per dataset
AUGMENTED = "augmented"  # the best compared model retrained with augmentation
# The best compared model retrained with augmentation targeted at its weakest classes on
# validation, one experiment per method (cnnbench.targeted): experiment name -> method.
TARGETED = {f"targeted_{method}": method for method in TARGETED_METHODS}
SELECTION_DATASET = "cifar10"  # where the original study chose its variant
STUDY_FILE = "study.json"
RESULT_FILE = "result.json"
ESTIMATE_FILE = "estimate.json"  # the plan and its estimated time, written before training
AUGMENT_POLICY = "original"  # train()'s policy for the augmented experiments
POLICY_SETTINGS = {"original": AUGMENTATION, "crop_flip_cutout": CROP_FLIP_CUTOUT}
# Library versions recorded with every result; a rerun under others warns but keeps the result.
LIBRARIES = ("tensorflow", "keras", "numpy")
DISPLAY_NAMES = {
    "cifar10": "CIFAR-10",
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar100": "CIFAR-100",
}


def display_name(dataset: str) -> str:
    return DISPLAY_NAMES.get(dataset, dataset)


def variant_experiment(model: str) -> str:
    return f"variant_{model}"


def _kind(experiment: str) -> str:
    """Which epoch budget (an attribute of config.Epochs) an experiment name trains with."""
    return "variants" if experiment.startswith("variant_") else "main"


@dataclass(frozen=True)
class Experiment:
    """One training run of the study: a model, a dataset and which epoch budget applies."""

    dataset: str
    name: str  # folder name, also the second half of the result key
    model: str
    boosted: tuple[str, ...] = ()  # targeted experiments: the class names given more weight

    @property
    def kind(self) -> str:
        return _kind(self.name)

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.name}"

    @property
    def augment(self) -> bool:
        return self.name == AUGMENTED or self.name in TARGETED


# ---------------------------------------------------------------------------------------------
# Study: the results, and the choices made from them on the validation split
# ---------------------------------------------------------------------------------------------


@dataclass
class Study:
    """Results of a study.

    ``runs`` maps an experiment key ``"<dataset>/<experiment>"`` to ``{seed: result.json}``;
    ``results`` holds the experiments whose every seed run has finished, each as its first
    seed's ``result.json`` (per-class reports, models and histories come from that seed; the
    tables and the choices use every seed: :meth:`seed_results`).
    """

    path: Path
    profile: Profile
    seed: int
    datasets: tuple[str, ...]
    results: dict[str, dict] = field(default_factory=dict)
    # dataset -> checksum of the data its results must have been computed on (None: unknown)
    data_sha256: dict[str, str] = field(default_factory=dict)
    seeds: int = 1  # how many seeds every experiment is trained with: seed, seed + 1, ...
    runs: dict[str, dict[int, dict]] = field(default_factory=dict)
    estimate: StudyEstimate | None = None  # the plan and its estimated time (run_study)

    @property
    def seed_list(self) -> list[int]:
        """The seeds of every experiment's runs: ``seed``, ``seed + 1``, ..."""
        return [self.seed + i for i in range(self.seeds)]

    def run_folder(self, key: str, seed: int) -> Path:
        """Where the run of experiment ``key`` with ``seed`` writes its artifacts."""
        return self.path / key / f"seed_{seed}"

    def add_run(self, key: str, seed: int, result: dict) -> None:
        """Record one finished seed run; the experiment counts as finished with its last."""
        self.runs.setdefault(key, {})[seed] = result
        if all(s in self.runs[key] for s in self.seed_list):
            self.results[key] = self.runs[key][self.seed_list[0]]

    def seed_results(self, key: str) -> list[dict]:
        """The ``result.json`` of every seed run of a finished experiment, in seed order."""
        self.result(key)
        return [self.runs[key][s] for s in self.seed_list]

    def accuracies(self, key: str, split: str = "val") -> np.ndarray:
        """Accuracy of each seed run of a finished experiment on ``split``, in seed order."""
        return np.array([r[split]["accuracy"] for r in self.seed_results(key)])

    def runs_frame(self) -> pd.DataFrame:
        """One row per finished seed run: see :func:`cnnbench.tables.runs_frame`."""
        from cnnbench.tables import runs_frame

        return runs_frame(self)

    @property
    def selection_dataset(self) -> str:
        """CIFAR-10 as in the original study, else the first dataset of the study."""
        return SELECTION_DATASET if SELECTION_DATASET in self.datasets else self.datasets[0]

    def expected_keys(self) -> list[str]:
        """Every experiment key of a finished study, in run order."""
        keys = [f"{self.selection_dataset}/{variant_experiment(v)}" for v in VARIANTS]
        keys += [f"{d}/{name}" for name in COMPARED for d in self.datasets]
        return keys + [f"{d}/{name}" for d in self.datasets for name in (AUGMENTED, *TARGETED)]

    def missing(self) -> list[str]:
        """Keys of experiments not finished yet (rerun ``run_study`` to complete them)."""
        return [k for k in self.expected_keys() if k not in self.results]

    def result(self, key: str) -> dict:
        """The ``result.json`` of a finished experiment (ConfigError if it has not finished)."""
        if key not in self.results:
            done = ", ".join(self.results) or "none"
            raise ConfigError(f"experiment {key!r} has not finished; finished: {done}")
        return self.results[key]

    def selected_variant(self) -> str:
        """The custom variant with the highest mean validation accuracy over the seeds (first
        one on ties)."""
        keys = [f"{self.selection_dataset}/{variant_experiment(v)}" for v in VARIANTS]
        return self.result(_argmax_val(self, keys))["config"]["model"]

    def best_key(self, dataset: str) -> str:
        """Key of the compared model with the highest mean validation accuracy over the seeds
        on ``dataset``."""
        self._check_dataset(dataset)
        return _argmax_val(self, [f"{dataset}/{name}" for name in COMPARED])

    def dataset_info(self, dataset: str) -> dict | None:
        """``Dataset.describe()`` of ``dataset`` as recorded by its first finished experiment."""
        return next(
            (r["dataset"] for r in self.results.values() if r["config"]["dataset"] == dataset),
            None,
        )

    # The tables and the summary live in cnnbench.tables and cnnbench.discussion (which import
    # this module, hence the imports inside the methods); these methods are their public API.

    def variant_table(self) -> pd.DataFrame:
        """The variant selection: see :func:`cnnbench.tables.variant_table`."""
        from cnnbench.tables import variant_table

        return variant_table(self)

    def comparison_table(self) -> pd.DataFrame:
        """The comparison per dataset: see :func:`cnnbench.tables.comparison_table`."""
        from cnnbench.tables import comparison_table

        return comparison_table(self)

    def per_class_table(self, dataset: str) -> pd.DataFrame:
        """Per-class F1 of the best model: see :func:`cnnbench.tables.per_class_table`."""
        from cnnbench.tables import per_class_table

        return per_class_table(self, dataset)

    def targeted_classes(self, dataset: str) -> list[str]:
        """The classes the targeted experiments boost: the :data:`~cnnbench.config.
        TARGETED_CLASSES` weakest on validation (fewer for datasets with few classes)."""
        names = self.seed_results(self.best_key(dataset))[0]["val"]["class_names"]
        return list(self.weakest_classes(dataset, min(TARGETED_CLASSES, len(names) - 1)).index)

    def weakest_classes(self, dataset: str, k: int = 3) -> pd.Series:
        """The ``k`` classes with the lowest validation F1 of the best model (mean over the
        seeds), lowest first."""
        runs = self.seed_results(self.best_key(dataset))
        names = runs[0]["val"]["class_names"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(names):
            raise ConfigError(f"k must be an integer in [1, {len(names)}], got {k!r}")
        f1 = pd.Series(mean_f1(runs, "val", names), index=names, name="val F1")
        return f1.sort_values(kind="stable").iloc[:k]

    def header(self) -> str:
        """What the numbers were measured with: see :func:`cnnbench.discussion.header`."""
        from cnnbench.discussion import header

        return header(self)

    def summary_markdown(self, k: int = 3) -> str:
        """The findings in Markdown: see :func:`cnnbench.discussion.summary_markdown`."""
        from cnnbench.discussion import summary_markdown

        return summary_markdown(self, k)

    def limitations_markdown(self) -> str:
        """What the numbers rest on and do not show: see
        :func:`cnnbench.discussion.limitations_markdown`."""
        from cnnbench.discussion import limitations_markdown

        return limitations_markdown(self)

    def load_model(self, key: str, seed: int | None = None) -> keras.Model:
        """The trained Keras model of an experiment's run with ``seed`` (default: the first)."""
        seed = self._run_seed(key, seed)
        return keras.models.load_model(self.run_folder(key, seed) / "model.keras")

    def history(self, key: str, seed: int | None = None) -> pd.DataFrame:
        """Per-epoch loss/accuracy (train and validation) of an experiment's run with ``seed``
        (default: the first), indexed by epoch."""
        seed = self._run_seed(key, seed)
        history = pd.DataFrame(self.runs[key][seed]["train"]["history"])
        history.index = pd.RangeIndex(1, len(history) + 1, name="epoch")
        return history

    def _run_seed(self, key: str, seed: int | None) -> int:
        self.result(key)
        if seed is None:
            return self.seed_list[0]
        if seed not in self.seed_list:
            raise ConfigError(f"seed {seed!r} is not one of this study's seeds {self.seed_list}")
        return seed

    def _check_dataset(self, dataset: str) -> None:
        if dataset not in self.datasets:
            raise ConfigError(f"dataset {dataset!r} is not in this study; it has {self.datasets}")


def _argmax_val(study: Study, keys: list[str]) -> str:
    """The key with the highest mean validation accuracy over the seeds (first one on ties)."""
    accuracies = [float(study.accuracies(k, "val").mean()) for k in keys]
    return keys[int(np.argmax(accuracies))]


def mean_f1(runs: list[dict], split: str, names: list[str]) -> list[float]:
    """Per-class F1 on ``split``, averaged over the seed runs ``runs``."""
    return [float(np.mean([r[split]["report"][c]["f1-score"] for r in runs])) for c in names]


# ---------------------------------------------------------------------------------------------
# The plan, and what it will cost on this machine
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRun:
    """The seed runs of one experiment still to train, and the models it may train: one, or,
    for an experiment whose model is chosen on validation on the way, every candidate."""

    dataset: str
    name: str
    models: tuple[str, ...]
    augment: bool
    epochs: int
    seeds: tuple[int, ...]

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.name}"


def plan_study(study: Study, force: bool = False) -> list[PlannedRun]:
    """Every experiment of ``study`` in run order, with the seeds whose ``result.json`` is not
    there yet (all of them with ``force``). A result there with an outdated config is counted as
    finished here; the runner recomputes it all the same."""
    plan = []
    for key in study.expected_keys():
        dataset, name = key.split("/")
        if name.startswith("variant_"):
            models = (name.removeprefix("variant_"),)
        elif name == "best_variant":
            models = VARIANTS
        elif name in COMPARED:  # alexnet and custom: the experiment is named for its model
            models = (name,)
        else:  # the best compared model, chosen on validation
            models = (*VARIANTS, "alexnet", "custom")
        seeds = tuple(
            s
            for s in study.seed_list
            if force or not (study.run_folder(key, s) / RESULT_FILE).is_file()
        )
        augment = Experiment(dataset, name, models[0]).augment
        epochs = getattr(study.profile.epochs[dataset], _kind(name))
        plan.append(PlannedRun(dataset, name, models, augment, epochs, seeds))
    return plan


@dataclass
class StudyEstimate:
    """What a study will train and how long that should take here, from measured paces."""

    frame: pd.DataFrame  # one row per experiment: what it trains, seed runs left, minutes
    low_s: float  # if every choice on the way picks the fastest candidate model
    high_s: float  # ... the slowest
    calibration_s: float  # what measuring the paces took
    hardware: str
    paces: dict = field(default_factory=dict)  # (dataset, model, augment) -> Pace
    per_run_s: dict = field(default_factory=dict)  # key -> model -> seconds of one seed run

    @property
    def seconds(self) -> float:
        """The middle of the range: the estimate."""
        return (self.low_s + self.high_s) / 2

    def to_dict(self) -> dict:
        return {
            "seconds": self.seconds,
            "low_s": self.low_s,
            "high_s": self.high_s,
            "calibration_s": self.calibration_s,
            "hardware": self.hardware,
            "summary": self.summary(),
            "plan": self.frame.to_dict(orient="records"),
            "paces": [p.to_dict() for p in self.paces.values()],
            "per_run_s": self.per_run_s,
        }

    def summary(self) -> str:
        runs = int(self.frame["seed runs to train"].sum())
        epochs = int((self.frame["seed runs to train"] * self.frame["epochs"]).sum())
        if not runs:
            return "plan: every seed run has finished earlier; nothing to train"
        spread = ""
        if self.high_s - self.low_s >= 60:
            spread = (
                f" ({format_seconds(self.low_s)} to {format_seconds(self.high_s)}, as the "
                "models chosen on validation on the way are fast or slow)"
            )
        return (
            f"plan: {len(self.frame)} experiments, {runs} seed runs to train, {epochs:,} "
            f"epochs in all. Estimated time on {self.hardware}: about "
            f"{format_seconds(self.seconds)}{spread}; measured by timing every model for two "
            f"short epochs ({format_seconds(self.calibration_s)})"
        )


def _paces(study: Study, plan: list[PlannedRun], runner: _Runner) -> tuple[dict, dict]:
    """Measured pace of every (dataset, model) the plan may train, without augmentation, and of
    ``custom`` with it per dataset (augmentation costs about the same per image whatever the
    model, so its extra seconds per image are added to the others'); and the batch each
    (dataset, model, epochs) trains at (``recipe="auto"`` sizes it to the run)."""
    needed, budgets = {}, {}
    for run in plan:
        if run.seeds:
            for model in run.models:
                needed.setdefault((run.dataset, model, False), run.epochs)
                budgets.setdefault((run.dataset, model), set()).add(run.epochs)
                if run.augment:
                    needed.setdefault((run.dataset, "custom", True), run.epochs)
    paces, batches = {}, {}
    for (dataset, model, augment), epochs in needed.items():
        built = runner.build(Experiment(dataset, "calibration", model), study.seed)
        ds = runner.loaded[dataset]
        for budget in budgets.get((dataset, model), ()):
            planned = plan_recipe(
                study.profile.recipe,
                built,
                len(ds.x_train),
                epochs=budget,
                batch_size=study.profile.batch_size,
            )
            batches[dataset, model, budget] = planned.recipe.batch_size
        paces[dataset, model, augment] = measure_pace(
            built,
            ds,
            epochs=epochs,
            augment=augment,
            augment_policy=AUGMENT_POLICY,
            recipe=study.profile.recipe,
            batch_size=study.profile.batch_size,
            seed=study.seed,
        )
    return paces, batches


def _run_seconds(runner: _Runner, paces: dict, batches: dict, run: PlannedRun, model: str):
    """Estimated seconds of one seed run of ``run`` training ``model``: its measured seconds
    per image at the batch this run trains with."""
    ds = runner.loaded[run.dataset]
    pace = paces[run.dataset, model, False]
    image_s = pace.step_s / pace.batch_size
    if run.augment:
        plain, augmented = paces[run.dataset, "custom", False], paces[run.dataset, "custom", True]
        extra = augmented.step_s / augmented.batch_size - plain.step_s / plain.batch_size
        image_s += max(0.0, extra)
    batch = batches[run.dataset, model, run.epochs]
    scaled = replace(pace, step_s=image_s * batch, batch_size=batch)
    return scaled.run_seconds(run.epochs, len(ds.x_train), len(ds.x_val), len(ds.x_test))


def _estimate(study: Study, runner: _Runner, force: bool) -> StudyEstimate:
    plan = plan_study(study, force)
    start = time.perf_counter()
    paces, batches = _paces(study, plan, runner)
    rows, low, high, per_run = [], 0.0, 0.0, {}
    for run in plan:
        seconds = [0.0]
        if run.seeds:
            seconds = [_run_seconds(runner, paces, batches, run, m) for m in run.models]
        per_run[run.key] = dict(zip(run.models, seconds, strict=False))
        low += min(seconds) * len(run.seeds)
        high += max(seconds) * len(run.seeds)
        rows.append(
            {
                "dataset": display_name(run.dataset),
                "experiment": run.name,
                "model": run.models[0] if len(run.models) == 1 else "chosen on validation",
                "augmentation": "yes" if run.augment else "no",
                "epochs": run.epochs,
                "seed runs to train": len(run.seeds),
                "estimated min": len(run.seeds) * float(np.mean(seconds)) / 60,
            }
        )
    per_run = {k: v for k, v in per_run.items() if any(v.values())}
    runner.estimates = per_run
    runner.left = {run.key: len(run.seeds) for run in plan}
    runner.eta = tqdm.format_interval(low / 2 + high / 2)
    return StudyEstimate(
        frame=pd.DataFrame(rows),
        low_s=low,
        high_s=high,
        calibration_s=time.perf_counter() - start,
        hardware=environment_info()["hardware"],
        paces=paces,
        per_run_s=per_run,
    )


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def resolve_profile(profile: str | Profile = "auto", log=print) -> Profile:
    """``"auto"`` is ``standard`` with a GPU and ``quick`` without (and says which); else a
    profile name or a :class:`~cnnbench.config.Profile`."""
    if profile != "auto":
        return get_profile(profile)
    gpus = tf.config.list_physical_devices("GPU")
    chosen = "standard" if gpus else "quick"
    reason = f"{len(gpus)} GPU(s) found" if gpus else "no GPU found"
    (log or _silent)(
        f"profile auto: {reason}, using '{chosen}' ({get_profile(chosen).description})"
    )
    return get_profile(chosen)


def _silent(*_args, **_kwargs) -> None:
    """The logger used when ``log=None``."""


def _check_run_args(profile, datasets, seed, data_dir, study_name, verbose) -> tuple[str, ...]:
    if isinstance(datasets, str):
        datasets = (datasets,)
    datasets = tuple(datasets)
    valid = list(profile.epochs)
    unknown = [d for d in datasets if d not in profile.epochs]
    if not datasets or unknown or len(set(datasets)) != len(datasets):
        raise ConfigError(
            f"datasets must be distinct names among {valid} (profile {profile.name!r} has epoch "
            f"budgets for those), got {list(datasets)}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    if data_dir is not None and profile.source in ("sample", "keras"):
        raise ConfigError(
            f"profile {profile.name!r} reads source={profile.source!r}, which ignores "
            f"data_dir={str(data_dir)!r}; drop data_dir or pick a profile with source 'auto'"
        )
    if study_name is not None and (
        not isinstance(study_name, str) or not study_name or Path(study_name).name != study_name
    ):
        raise ConfigError(f"study_name must be a plain folder name, got {study_name!r}")
    if verbose not in (0, 1, 2):
        raise ConfigError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    return datasets


def run_study(
    profile: str | Profile = "quick",
    *,
    data_dir=None,
    seed: int = 42,
    artifacts="artifacts",
    study_name: str | None = None,
    datasets=("cifar10", "mnist"),
    seeds: int | None = None,
    epochs_scale: float | None = None,
    precision: str = "auto",
    force: bool = False,
    verbose: int = 0,
    estimate: bool = True,
    log=print,
) -> Study:
    """Run (or resume) the study and return its results.

    Order, as in the original study: the three custom variants on CIFAR-10 (the one with the
    best mean validation accuracy over the seeds is kept); that variant, ``alexnet`` and
    ``custom`` on every dataset; then, per dataset, the compared model with the best mean
    validation accuracy retrained with augmentation at the same epoch budget, batch, recipe and
    seeds (a paired comparison). Every experiment is trained once per seed. Results go to
    ``<artifacts>/<study_name or profile name>/``.

    Args:
        profile: a :data:`~cnnbench.config.PROFILES` name, ``"auto"`` (``standard`` with a GPU,
            else ``quick``) or a :class:`~cnnbench.config.Profile`, e.g.
            ``get_profile("demo", epochs=1)``.
        data_dir: folder with ``<dataset>.npz`` for profiles whose source is ``"auto"``.
        seed: seeds the data sample and split, and is the first training seed (reset before
            each run, so each one is reproducible on its own).
        seeds: how many seeds every experiment is trained with (``seed``, ``seed + 1``, ...:
            initialisation, shuffling, augmentation; the data sample stays fixed by ``seed``);
            ``None`` is the profile's ``seeds``. Choices use the mean validation accuracy.
        datasets: which datasets; variants are chosen on CIFAR-10, or on the first one if
            CIFAR-10 is not among them.
        epochs_scale: multiplies every epoch budget of the profile (rounded, at least 1).
        precision: Keras dtype policy, as in :func:`cnnbench.training.configure_precision`.
        force: recompute experiments even when a finished one has the same config.
        verbose: Keras' progress display during each training (0, 1 or 2). The study's own
            progress bar, with its ETA, runs whatever this is, unless ``log`` is ``None``.
        estimate: before training, time every model the plan may train for two short epochs
            (:func:`cnnbench.estimate.measure_pace`; about a minute on a 2-core CPU) and log
            the plan with the estimated time; the progress bar's ETA then follows the
            estimates. ``False`` skips it (the ETA then starts after the first seed run).
        log: called with one progress message at a time; ``None`` is silent.
    """
    log = log or _silent
    profile = resolve_profile(profile, log)
    if epochs_scale is not None:
        profile = profile.scaled(epochs_scale)
    if seeds is not None:
        profile = profile.with_overrides(seeds=seeds)  # validated by Profile
    datasets = _check_run_args(profile, datasets, seed, data_dir, study_name, verbose)
    for name, value in (("force", force), ("estimate", estimate)):
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be True or False, got {value!r}")
    precision = configure_precision(precision)
    loaded, checksums = {}, {}
    for name in datasets:
        loaded[name] = load_dataset(name, **profile.dataset_kwargs(data_dir=data_dir, seed=seed))
        ds = loaded[name]
        checksums[name] = data_checksum(ds)  # once per dataset and run, not per experiment
        log(
            f"{display_name(name)}: {len(ds.x_train):,} train / {len(ds.x_val):,} val / "
            f"{len(ds.x_test):,} test images, source {ds.source} ({ds.variant})"
        )
    study = Study(
        Path(artifacts) / (study_name or profile.name), profile, seed, datasets, seeds=profile.seeds
    )
    study.data_sha256 = {name: c["sha256"] for name, c in checksums.items()}
    write_json(
        study.path / STUDY_FILE,
        {
            "profile": profile.to_dict(),
            "seed": seed,
            "seeds": profile.seeds,
            "datasets": list(datasets),
            "data_sha256": study.data_sha256,
        },
    )
    runner = _Runner(study, loaded, checksums, precision, force, verbose, log)
    try:
        if estimate:
            study.estimate = _estimate(study, runner, force)
            write_json(study.path / ESTIMATE_FILE, study.estimate.to_dict())
            runner.say(study.estimate.summary())
        _run_all(study, runner)
    finally:
        runner.close()
    return study


def _run_all(study: Study, runner: _Runner) -> None:
    say = runner.say
    say(
        f"study {study.profile.name!r} -> {study.path} ({len(study.expected_keys())} experiments"
        f" x {study.seeds} seed(s): {', '.join(map(str, study.seed_list))})"
    )
    select_on = study.selection_dataset
    for model in VARIANTS:
        runner.run(Experiment(select_on, variant_experiment(model), model))
    chosen = study.selected_variant()
    say(f"variant selection on {display_name(select_on)} mean validation accuracy: {chosen}")
    for name, model in zip(COMPARED, (chosen, "alexnet", "custom"), strict=True):
        for dataset in study.datasets:
            runner.run(Experiment(dataset, name, model))
    for dataset in study.datasets:
        best = study.result(study.best_key(dataset))["config"]["model"]
        say(f"{display_name(dataset)}: best on validation is {best}; retraining with augmentation")
        runner.run(Experiment(dataset, AUGMENTED, best))
        boosted = tuple(study.targeted_classes(dataset))
        say(
            f"{display_name(dataset)}: weakest classes on validation {', '.join(boosted)}; "
            f"retraining {best} with augmentation targeted at them ({', '.join(TARGETED.values())})"
        )
        for name in TARGETED:
            runner.run(Experiment(dataset, name, best, boosted))
    say(runner.finished_line())


def data_checksum(ds: Dataset) -> dict:
    """sha256 of the data ``ds`` was built from: the file read (a ``data_dir`` file, the shipped
    sample) or, when there is no single file (a Keras download, ``from_arrays``, an image
    folder), the bytes of the split's arrays themselves (with their shapes and dtypes)."""
    path = Path(ds.source_path) if ds.source_path else None
    if path is not None and path.is_file():
        return {"sha256": _sha256(path), "of": "file"}
    digest = hashlib.sha256()
    for split in ("train", "val", "test"):
        for array in (getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}")):
            digest.update(f"{split}:{array.dtype.str}:{array.shape};".encode())
            digest.update(np.ascontiguousarray(array).data)
    return {"sha256": digest.hexdigest(), "of": "arrays"}


def _profile_config(profile: Profile, experiment: Experiment, seed: int, data_seed: int) -> dict:
    """The part of a seed run's config that comes from the profile (checked on reload).

    ``seed`` is the run's training seed, ``data_seed`` the study's (which drew the data). In
    the form it reads back from result.json (tuples as lists), so a reload compares like with
    like.
    """
    auto = profile.recipe == "auto"
    names = sorted(set(AUTO_RECIPES.values())) if auto else [profile.recipe]
    recipes = {name: get_recipe(name).to_dict() for name in names}
    if auto:  # how train() sizes the recipe to the data is part of what gives a number
        recipes["sizing"] = asdict(AUTO_SIZING)
    config = {
        "epochs": getattr(profile.epochs[experiment.dataset], experiment.kind),
        "batch_size": profile.batch_size,  # None: the recipe's (auto: sized to the data)
        "recipe": {"name": profile.recipe, **recipes},
        "early_stopping": profile.patience,
        "seed": seed,
        "data_seed": data_seed,  # not the number of seeds: adding seeds keeps finished runs
        "source": profile.source,
        "sample_fraction": profile.sample_fraction,
        "val_fraction": profile.val_fraction,
        "test_fraction": profile.test_fraction,
        # the augmentation settings in force (None: the experiment trains without augmentation)
        "augmentation": (
            {"policy": AUGMENT_POLICY, **POLICY_SETTINGS[AUGMENT_POLICY]}
            if experiment.augment
            else None
        ),
    }
    return json.loads(json.dumps(config))


class _Runner:
    """Runs experiments one at a time, skipping those already finished with the same config."""

    def __init__(
        self,
        study: Study,
        loaded: dict,
        checksums: dict,
        precision: str,
        force: bool,
        verbose,
        log,
    ):
        self.study, self.loaded, self.checksums = study, loaded, checksums
        self.precision, self.force, self.verbose, self.log = precision, force, verbose, log
        self.count = 0
        keys = study.expected_keys()
        profile = study.profile
        self.total = len(keys) * study.seeds  # seed runs
        self.planned = {  # epochs of one seed run
            k: getattr(profile.epochs[k.split("/")[0]], _kind(k.split("/")[1])) for k in keys
        }
        self.epochs_done = 0  # planned epochs of the seed runs finished (trained or skipped)
        self.trained_epochs, self.trained_s = 0, 0.0  # of the ones trained in this run: the pace
        # key -> model -> estimated seconds of one seed run (set by _estimate), and the
        # estimated seconds of the seed runs trained so far, to scale what is left by
        self.estimates: dict[str, dict[str, float]] = {}
        self.estimated_done_s = 0.0
        self.left: dict[str, int] = {}  # key -> seed runs of it still to train (with estimates)
        self.chosen: dict[str, str] = {}  # key -> the model it trains, once known
        self.skipped = 0  # seed runs finished earlier with the same config
        self.eta = "?"  # until a seed run has been trained in this run, or estimated
        unit = "experiments" if study.seeds == 1 else "seed runs"
        self.bar = tqdm(
            total=self.total,
            desc="study",
            unit="run",
            bar_format="{desc}: {n_fmt}/{total_fmt} "
            + unit
            + " |{bar}| {elapsed} elapsed{postfix}",
            disable=log is _silent,
        )

    def say(self, message: str) -> None:
        """Log ``message`` without garbling the progress bar."""
        if self.bar.disable:
            self.log(message)
        else:
            with tqdm.external_write_mode():
                self.log(message)

    def close(self) -> None:
        self.bar.close()

    def _advance(self, experiment: Experiment, trained_s: float | None) -> None:
        """Count an experiment as done and update the ETA (:meth:`eta_seconds`)."""
        epochs = self.planned[experiment.key]
        self.epochs_done += epochs
        if trained_s is None:
            self.skipped += 1
        else:
            self.trained_epochs += epochs
            self.trained_s += trained_s
            if self.estimates:
                self.estimated_done_s += self._estimated(experiment)
                self.left[experiment.key] = max(0, self.left.get(experiment.key, 1) - 1)
        left = self.eta_seconds()
        if left is not None:
            self.eta = tqdm.format_interval(left)
        self.bar.set_postfix_str(f"ETA {self.eta}", refresh=False)
        self.bar.update(1)

    def finished_line(self) -> str:
        """What the run did, for its last line: a progress bar's last frame is not kept in a
        saved notebook."""
        trained = self.total - self.skipped
        line = f"study {self.study.profile.name!r} finished: {self.total} seed runs"
        if trained:
            line += f", {trained} trained in {format_seconds(self.trained_s)}"
            if self.estimated_done_s:
                line += f" (estimated {format_seconds(self.estimated_done_s)})"
        if self.skipped:
            line += f", {self.skipped} finished earlier and kept"
        return line

    def _estimated(self, experiment: Experiment) -> float:
        """Estimated seconds of one seed run of ``experiment``, whose model is now known."""
        options = self.estimates.get(experiment.key, {})
        if experiment.model in options:
            return options[experiment.model]
        return float(np.mean(list(options.values()))) if options else 0.0

    def eta_seconds(self) -> float | None:
        """Seconds left: with estimates, theirs for the seed runs left (a chosen model's where
        the choice is made, else the candidates' mean), scaled by how the trained runs compared
        with theirs; without, the planned epochs left at the seconds per epoch so far."""
        if self.estimates:
            left = 0.0
            for key, n in self.left.items():
                options = self.estimates.get(key) or {}
                if n and options:
                    chosen = options.get(self.chosen.get(key, ""))
                    left += n * (chosen or float(np.mean(list(options.values()))))
            ratio = self.trained_s / self.estimated_done_s if self.estimated_done_s else 1.0
            return left * ratio
        if not self.trained_epochs:
            return None
        left = sum(self.planned.values()) * self.study.seeds - self.epochs_done
        return left * self.trained_s / self.trained_epochs

    def build(self, experiment: Experiment, seed: int) -> keras.Model:
        """The experiment's untrained model for ``seed``, the same whatever ran before."""
        ds = self.loaded[experiment.dataset]
        keras.backend.clear_session()  # frees earlier models; resets the dtype policy, so:
        configure_precision(self.precision)
        set_seed(seed)
        return build_model(experiment.model, ds.input_shape, ds.num_classes)

    def config(self, experiment: Experiment, model: keras.Model, seed: int) -> dict:
        """Everything that determines a seed run's outcome; a change means recompute.

        The architecture's fingerprint makes an edited model builder count as a change.
        """
        ds = self.loaded[experiment.dataset]
        layout = json.dumps(model.get_config(), sort_keys=True, default=str)
        config = {
            "experiment": experiment.name,
            "dataset": experiment.dataset,
            "model": experiment.model,
            "architecture": {
                "params": int(model.count_params()),
                "sha256": hashlib.sha256(layout.encode()).hexdigest(),
            },
            "augment": experiment.augment,
            # only in targeted experiments' configs, so adding them kept earlier results
            **({"class_boost": _boost_config(experiment, ds)} if experiment.boosted else {}),
            **_profile_config(self.study.profile, experiment, seed, self.study.seed),
            "data": {
                "variant": ds.variant,
                **self.checksums[experiment.dataset],  # a same-sized other file counts as a change
                "augmentations": list(ds.augmentations),
                "val_strategy": ds.val_strategy,
                "sizes": ds.describe()["sizes"],
            },
            "precision": self.precision,
        }
        return json.loads(json.dumps(config))  # as it reads back from result.json

    def run(self, experiment: Experiment) -> None:
        """Run (or skip) every seed run of ``experiment``."""
        # A result of the layout from before per-seed runs is recomputed under seed_<s>/.
        (self.study.path / experiment.key / RESULT_FILE).unlink(missing_ok=True)
        for seed in self.study.seed_list:
            self.run_seed(experiment, seed)

    def run_seed(self, experiment: Experiment, seed: int) -> None:
        self.count += 1
        self.chosen[experiment.key] = experiment.model
        tag = f"[{self.count}/{self.total}] {experiment.key}"
        if self.study.seeds > 1:
            tag += f" seed {seed}"
        folder = self.study.run_folder(experiment.key, seed)
        model = self.build(experiment, seed)
        config = self.config(experiment, model, seed)
        previous = _read_result(folder / RESULT_FILE, self.say)
        if previous is not None:
            if previous.get("config") == config and not self.force:
                _warn_library_change(experiment.key, previous)
                self.say(f"{tag}: finished earlier with the same config, skipped")
                self.study.add_run(experiment.key, seed, previous)
                self._advance(experiment, None)
                return
            why = "force" if self.force else _config_change(previous.get("config", {}), config)
            self.say(f"{tag}: recomputing ({why})")
        # The old result goes first: until the new one is written, the experiment is unfinished.
        (folder / RESULT_FILE).unlink(missing_ok=True)
        for leftover in folder.glob(".*.tmp*"):  # from a process killed mid-write
            leftover.unlink()
        self.say(
            f"{tag}: training {experiment.model} for {config['epochs']} epoch(s)"
            f"{' with augmentation' if experiment.augment else ''}"
        )
        self.bar.set_postfix_str(f"ETA {self.eta}, now {experiment.key}")
        result = self._train_and_evaluate(experiment, config, model, folder, seed)
        write_json(folder / RESULT_FILE, result)
        self.study.add_run(experiment.key, seed, read_json(folder / RESULT_FILE))
        self._advance(experiment, result["timings"]["total_s"])
        self.say(
            f"{tag}: done in {result['timings']['total_s']:.1f} s: val "
            f"{result['val']['accuracy']:.2%}, test {result['test']['accuracy']:.2%}"
        )

    def _train_and_evaluate(self, experiment, config, model, folder: Path, seed: int) -> dict:
        ds = self.loaded[experiment.dataset]
        start = time.perf_counter()
        run = train(
            model,
            ds,
            epochs=config["epochs"],
            batch_size=config["batch_size"],
            augment=experiment.augment,
            augment_policy=AUGMENT_POLICY,
            seed=seed,
            recipe=self.study.profile.recipe,
            early_stopping=config["early_stopping"],
            class_boost=_class_boost(experiment, ds.class_names) if experiment.boosted else None,
            verbose=self.verbose,
        )
        trained = time.perf_counter()
        test = evaluate(model, ds, split="test")
        val = evaluate(model, ds, split="val", timing=False)
        evaluated = time.perf_counter()
        save_model(model, folder / "model.keras")
        cm = pd.DataFrame(test.confusion_matrix, index=ds.class_names, columns=ds.class_names)
        cm.index.name = "true \\ predicted"
        write_text(folder / "confusion_matrix.csv", cm.to_csv())
        return {
            "key": experiment.key,
            "config": config,
            "profile": self.study.profile.to_dict(),
            "seed": seed,  # the training seed of this run
            "data_seed": self.study.seed,  # the study's: drew the data sample
            "dataset": ds.describe(),
            "environment": environment_info(),  # hardware and library versions
            "train": run.to_dict(),
            "test": test.to_dict(),
            "val": val.to_dict(),
            "timings": {
                "train_s": trained - start,
                "evaluate_s": evaluated - trained,
                "total_s": time.perf_counter() - start,
            },
            "peak_rss_mib": peak_rss_mib(),
        }


def _class_boost(experiment: Experiment, class_names) -> ClassBoost:
    """The boost of a targeted experiment, whose classes are named in ``class_names``."""
    labels = tuple(list(class_names).index(c) for c in experiment.boosted)
    return ClassBoost(labels, TARGETED_FACTOR, TARGETED[experiment.name])


def _boost_config(experiment: Experiment, ds: Dataset) -> dict:
    """A targeted experiment's boost as its config records it: the classes by name."""
    boost = _class_boost(experiment, ds.class_names).to_dict()
    return {**boost, "classes": list(experiment.boosted)}


def _read_result(path: Path, log) -> dict | None:
    """A finished experiment's result, or None if there is none (or it cannot be read)."""
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except (OSError, json.JSONDecodeError) as err:
        log(f"{path} cannot be read ({err}); recomputing")
        return None


def _warn_library_change(key: str, previous: dict) -> None:
    """Warn when a kept result was computed with other library versions than this run's."""
    old, now = previous.get("environment") or {}, environment_info()
    changed = [
        f"{lib} {old.get(lib)} -> {now[lib]}" for lib in LIBRARIES if old.get(lib) != now[lib]
    ]
    if changed:
        warnings.warn(
            f"{key} was computed with other library versions ({', '.join(changed)}); "
            "results kept; rerun with --force to recompute",
            stacklevel=3,
        )


def _config_change(old: dict, new: dict) -> str:
    """Which config fields changed, with old and new values where they are short."""
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return "config changed: " + ", ".join(
        f"{k} changed" if isinstance(new.get(k), dict) else f"{k} {old.get(k)!r} -> {new.get(k)!r}"
        for k in changed
    )


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def load_study(path) -> Study:
    """Rebuild a :class:`Study` from its artifacts folder alone (no data, no training).

    Results left over from an earlier config (another profile, seed or data file under the same
    study name, or a model choice that no longer holds) are left out with a warning.
    """
    root = Path(path)
    if not (root / STUDY_FILE).is_file():
        raise ConfigError(
            f"{str(root)!r} is not a study folder (no {STUDY_FILE}); pass "
            "<artifacts>/<study name>, e.g. artifacts/quick"
        )
    meta = read_json(root / STUDY_FILE)
    profile = Profile.from_dict(meta["profile"])
    seeds = meta.get("seeds", 1)  # absent from studies run before seeds
    study = Study(root, profile, meta["seed"], tuple(meta["datasets"]), seeds=seeds)
    study.data_sha256 = meta.get("data_sha256") or {}  # absent from studies run before it
    expected = study.expected_keys()
    for dataset in study.datasets:
        for result_file in sorted((root / dataset).glob(f"*/{RESULT_FILE}")):
            warnings.warn(
                f"{result_file} is from before per-seed runs (seed_<s>/ folders); left out "
                "until the study is rerun, which recomputes it",
                stacklevel=2,
            )
        for result_file in sorted((root / dataset).glob(f"*/seed_*/{RESULT_FILE}")):
            key = f"{dataset}/{result_file.parent.parent.name}"
            seed = result_file.parent.name.removeprefix("seed_")
            seed = int(seed) if seed.isdigit() else None
            if key not in expected or seed not in study.seed_list:
                warnings.warn(f"{result_file} is not part of the study; left out", stacklevel=2)
                continue
            result = read_json(result_file)
            differ = _profile_differences(study, key, seed, result)
            if differ:
                warnings.warn(
                    f"{result_file} is from another config ({', '.join(differ)} differ from "
                    f"the study's); left out until the study is rerun",
                    stacklevel=2,
                )
                continue
            study.add_run(key, seed, result)
    study.results = {k: study.results[k] for k in expected if k in study.results}
    _drop_stale_choices(study)
    return study


def _profile_differences(study: Study, key: str, seed: int, result: dict) -> list[str]:
    """Config fields of ``result`` that the study's profile and seeds would set otherwise, and
    ``data sha256`` when it was computed on other data than the study's last run read."""
    dataset, name = key.split("/")
    expected = _profile_config(study.profile, Experiment(dataset, name, ""), seed, study.seed)
    differ = [k for k, v in expected.items() if result["config"].get(k) != v]
    checksum = study.data_sha256.get(dataset)
    if checksum is not None and (result["config"].get("data") or {}).get("sha256") != checksum:
        differ.append("data sha256")
    return differ


def _drop_stale_choices(study: Study) -> None:
    """Leave out results whose model (or boosted classes) no longer follows from the validation
    choices made."""
    for dataset in study.datasets:
        best = partial(_best_model, study, dataset)

        def targeted(best=best, dataset=dataset):
            return [best(), study.targeted_classes(dataset)]

        choices = [
            (f"{dataset}/best_variant", study.selected_variant, _model_of),
            (f"{dataset}/{AUGMENTED}", best, _model_of),
            *((f"{dataset}/{name}", targeted, _model_and_boosted) for name in TARGETED),
        ]
        for key, choose, recorded in choices:
            if key not in study.runs:
                continue
            try:
                expected = choose()
            except ConfigError:  # what the choice depends on has not all finished
                continue
            if any(recorded(r["config"]) != expected for r in study.runs[key].values()):
                warnings.warn(f"{key} trained a model no longer chosen; left out", stacklevel=3)
                del study.runs[key]
                study.results.pop(key, None)


def _model_of(config: dict) -> str:
    return config["model"]


def _model_and_boosted(config: dict) -> list:
    return [config["model"], config["class_boost"]["classes"]]


def _best_model(study: Study, dataset: str) -> str:
    return study.result(study.best_key(dataset))["config"]["model"]
