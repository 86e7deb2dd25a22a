"""The study runner: trains a grid (:mod:`cnnbench.plan`) cell by cell, resumably.

Every cell is trained once per seed (``seed``, ``seed + 1``, ...: initialisation, shuffling
and augmentation; the data sample stays fixed by the study seed), in the grid's order: the
variant selection, the compared cells, then the targeted ones, each choice made on validation
once what it depends on has finished. A seed run whose ``result.json`` holds the same config
is skipped, so a killed study resumes where it stopped (:mod:`cnnbench.store`).
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from tqdm.auto import tqdm

from cnnbench.artifacts import read_json, save_model, write_json, write_text
from cnnbench.config import TARGETED_FACTOR, Profile, get_profile
from cnnbench.data import Dataset, from_directory, load_dataset, train_subset
from cnnbench.errors import ConfigError
from cnnbench.estimate import format_seconds, measure_pace
from cnnbench.evaluation import evaluate
from cnnbench.hardware import environment_info, peak_rss_mib
from cnnbench.models import build_model
from cnnbench.plan import (
    AUGMENT_POLICY,
    BEST,
    CHOSEN_VARIANT,
    IMAGES,
    Experiment,
    StudySpec,
    cells,
    display_name,
    folder_name,
    get_study,
)
from cnnbench.results import Study
from cnnbench.store import (
    ESTIMATE_FILE,
    RESULT_FILE,
    STUDY_FILE,
    config_change,
    data_checksum,
    load_study,
    profile_config,
    read_result,
    warn_library_change,
    write_study_file,
)
from cnnbench.targeted import ClassBoost
from cnnbench.training import configure_precision, plan_recipe, set_seed, train


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


def _check_run_args(profile, spec, datasets, images, seed, data_dir, study_name, verbose):
    if spec.images:
        if images is None:
            raise ConfigError(
                f"study {spec.name!r} trains on an image folder: pass images=DIR (--images DIR), "
                "a folder of <class>/* images or of train/<class>/* and test/<class>/*"
            )
        if not Path(images).is_dir():
            raise ConfigError(f"images={str(images)!r} is not a folder")
        datasets = (IMAGES,)
    elif images is not None:
        raise ConfigError(
            f"study {spec.name!r} reads named datasets, not images=; the image-folder study is "
            "'classic_alexnet' (or a StudySpec with images=True)"
        )
    datasets = spec.datasets if datasets is None else datasets
    datasets = (datasets,) if isinstance(datasets, str) else tuple(datasets)
    unknown = [d for d in datasets if d not in profile.epochs]
    if not datasets or unknown or len(set(datasets)) != len(datasets):
        raise ConfigError(
            f"datasets must be distinct names among {list(profile.epochs)} (profile "
            f"{profile.name!r} has epoch budgets for those), got {list(datasets)}"
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


def _load(name: str, profile: Profile, spec: StudySpec, images, data_dir, seed) -> Dataset:
    kwargs = profile.dataset_kwargs(data_dir=data_dir, seed=seed)
    if spec.sample_fraction is not None:
        kwargs["sample_fraction"] = spec.sample_fraction
    if name == IMAGES:
        return from_directory(
            images,
            image_size=spec.image_size,
            # the test split is carved from the folder: all of it is evaluated
            **{k: kwargs[k] for k in ("sample_fraction", "val_fraction", "seed")},
        )
    return load_dataset(name, **kwargs)


def run_study(
    profile: str | Profile = "quick",
    *,
    study: str | StudySpec = "original",
    models=None,
    images=None,
    data_dir=None,
    seed: int = 42,
    artifacts="artifacts",
    study_name: str | None = None,
    datasets=None,
    seeds: int | None = None,
    epochs_scale: float | None = None,
    precision: str = "auto",
    force: bool = False,
    verbose: int = 0,
    estimate: bool = True,
    log=print,
) -> Study:
    """Run (or resume) a study and return its results.

    The default, ``original``, is the original study as a full factorial: the three custom
    variants on CIFAR-10 (the best mean validation accuracy over the seeds is kept); that
    variant, ``alexnet``, ``custom`` and ``mobilenet`` on every dataset, each without and with
    the original augmentation at the same epochs, batch, recipe and seeds; then, on CIFAR-10
    (the spec's ``targeted`` datasets), the best augmented model (on validation) with
    augmentation targeted at its weakest validation classes. Results go to
    ``<artifacts>/<study_name>`` (default: the profile's name for ``original``,
    ``<study>_<profile>`` for the others).

    Args:
        profile: a :data:`~cnnbench.config.PROFILES` name, ``"auto"`` (``standard`` with a GPU,
            else ``quick``) or a :class:`~cnnbench.config.Profile`.
        study: a :data:`~cnnbench.plan.STUDIES` name or a :class:`~cnnbench.plan.StudySpec`.
        models: replaces the study's models: registry names or builders
            ``builder(input_shape, num_classes)`` (or a comma-separated string).
        images: the image folder of a study with ``images=True`` (``classic_alexnet``).
        data_dir: folder with ``<dataset>.npz`` for profiles whose source is ``"auto"``.
        seed: seeds the data sample and split, and is the first training seed (reset before
            each run, so each one is reproducible on its own).
        seeds: how many seeds every cell is trained with (``None``: the profile's).
        datasets: which datasets (``None``: the study's).
        epochs_scale: multiplies every epoch budget of the profile (rounded, at least 1).
        precision: Keras dtype policy, as in :func:`cnnbench.training.configure_precision`.
        force: recompute seed runs even when a finished one has the same config.
        verbose: Keras' progress display during each training (0, 1 or 2). The study's own
            progress bar, with its ETA, runs whatever this is, unless ``log`` is ``None``.
        estimate: before training, time every model the plan may train for two short epochs
            (:func:`cnnbench.estimate.measure_pace`) and log the plan with the estimated time.
        log: called with one progress message at a time; ``None`` is silent.
    """
    log = log or _silent
    spec = get_study(study, models)
    profile = resolve_profile(profile, log)
    if epochs_scale is not None:
        profile = profile.scaled(epochs_scale)
    if seeds is not None:
        profile = profile.with_overrides(seeds=seeds)  # validated by Profile
    datasets = _check_run_args(profile, spec, datasets, images, seed, data_dir, study_name, verbose)
    for name, value in (("force", force), ("estimate", estimate)):
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be True or False, got {value!r}")
    precision = configure_precision(precision)
    loaded, checksums = {}, {}
    for name in datasets:
        loaded[name] = ds = _load(name, profile, spec, images, data_dir, seed)
        checksums[name] = data_checksum(ds)  # once per dataset and run, not per experiment
        log(
            f"{display_name(name)}: {len(ds.x_train):,} train / {len(ds.x_val):,} val / "
            f"{len(ds.x_test):,} test images, source {ds.source} ({ds.variant})"
        )
    result = Study(
        Path(artifacts) / (study_name or folder_name(spec, profile.name)),
        profile,
        spec,
        seed,
        datasets,
        seeds=profile.seeds,
        data_sha256={name: c["sha256"] for name, c in checksums.items()},
    )
    write_study_file(result)
    runner = _Runner(result, loaded, checksums, precision, force, verbose, log)
    try:
        if estimate:
            result.estimate = _estimate(result, runner, force)
            write_json(result.path / ESTIMATE_FILE, result.estimate.to_dict())
            runner.say(result.estimate.summary())
        _run_all(result, runner)
    finally:
        runner.close()
    return result


def _run_all(study: Study, runner: _Runner) -> None:
    say, spec = runner.say, study.spec
    say(
        f"study {spec.name!r}, profile {study.profile.name!r} -> {study.path} "
        f"({len(runner.slots)} experiments x {study.seeds} seed(s): "
        f"{', '.join(map(str, study.seed_list))})"
    )
    slots = iter(runner.slots)
    for experiment in cells(spec, study.datasets)[: len(spec.variants)]:
        runner.run(experiment, next(slots))
    chosen = None
    if spec.variants:
        chosen = study.selected_variant()
        say(
            f"variant selection on {display_name(study.selection_dataset)} mean validation "
            f"accuracy: {chosen}"
        )
    grid = cells(spec, study.datasets, chosen)
    compared = grid[len(spec.variants) : len(grid) - sum(e.method is not None for e in grid)]
    for experiment in compared:
        runner.run(experiment, next(slots))
    for dataset in (d for d in study.datasets if spec.targets(d)):
        best = study.model_of(study.best_key(dataset, augment=True))
        boosted = study.targeted_classes(dataset)
        say(
            f"{display_name(dataset)}: best with augmentation on validation is {best}; "
            f"retraining it with augmentation targeted at its weakest classes "
            f"({', '.join(boosted)})"
        )
        targeted = cells(spec, (dataset,), chosen, {dataset: best}, {dataset: boosted})
        for experiment in (e for e in targeted if e.method is not None):
            runner.run(experiment, next(slots))
    say(runner.finished_line())


# ---------------------------------------------------------------------------------------------
# The plan, and what it will cost on this machine
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRun:
    """The seed runs of one cell still to train, and the models it may train: one, or, for a
    cell whose model is chosen on validation on the way, every candidate."""

    experiment: Experiment  # named for the choice where it is not made yet
    models: tuple[str, ...]
    epochs: int
    seeds: tuple[int, ...]

    @property
    def key(self) -> str:
        return self.experiment.key


def plan_study(study: Study, force: bool = False) -> list[PlannedRun]:
    """Every cell of ``study`` in run order, with the seeds whose ``result.json`` is not there
    yet (all of them with ``force``), its choices resolved as far as the results already in its
    folder make them. A result there with an outdated config is counted as finished here; the
    runner recomputes it all the same."""
    spec = study.spec
    compared = [m for m in spec.models if m != CHOSEN_VARIANT]
    with warnings.catch_warnings():  # the runner says what it recomputes and why
        warnings.simplefilter("ignore")
        earlier = load_study(study.path) if (study.path / STUDY_FILE).is_file() else study
    plan = []
    for slot, resolved in zip(cells(spec, study.datasets), earlier.experiments(), strict=True):
        if resolved.model == CHOSEN_VARIANT:
            models = spec.variants
        elif resolved.model == BEST:  # any compared model may turn out best
            models = (*_chosen_or_variants(earlier), *compared)
        else:
            models = (resolved.model,)
        seeds = tuple(
            s
            for s in study.seed_list
            if force or not (study.run_folder(resolved.key, s) / RESULT_FILE).is_file()
        )
        epochs = getattr(study.profile.epochs[slot.dataset], slot.kind)
        plan.append(PlannedRun(slot, models, epochs, seeds))
    return plan


def _chosen_or_variants(study: Study) -> tuple[str, ...]:
    """The chosen variant once chosen, else every candidate (none without a selection)."""
    if not study.spec.variants:
        return ()
    try:
        return (study.selected_variant(),)
    except ConfigError:
        return study.spec.variants


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
    """Measured pace of every (dataset, model) the plan may train, without augmentation, and
    of one model with it per dataset (augmentation costs about the same per image whatever
    the model, so its extra seconds per image are added to the others'); and the batch each
    (dataset, model, recipe epochs) trains at (``recipe="auto"`` sizes it to the run)."""
    needed, budgets, reference = {}, {}, {}
    for run in plan:
        if run.seeds:
            for model in run.models:
                needed.setdefault((run.key.split("/")[0], model, False), run.epochs)
                budgets.setdefault((run.experiment.dataset, model), set()).add(
                    (run.experiment.fraction, study.profile.epochs[run.experiment.dataset].main)
                )
            if run.experiment.augment:
                model = reference.setdefault(run.experiment.dataset, run.models[0])
                needed.setdefault((run.experiment.dataset, model, True), run.epochs)
    paces, batches = {}, {}
    for (dataset, model, augment), epochs in needed.items():
        built = runner.build(dataset, model, study.seed)
        ds = runner.loaded[dataset]
        for fraction, recipe_epochs in budgets.get((dataset, model), ()):
            planned = plan_recipe(
                study.profile.recipe,
                built,
                len(runner.data(dataset, fraction).x_train),
                epochs=recipe_epochs,
                batch_size=study.profile.batch_size,
            )
            batches[dataset, model, fraction] = planned.recipe.batch_size
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
    runner.augment_reference = reference
    return paces, batches


def _run_seconds(runner: _Runner, paces: dict, batches: dict, run: PlannedRun, model: str):
    """Estimated seconds of one seed run of ``run`` training ``model``: its measured seconds
    per image at the batch this run trains with, over its share of the training images."""
    dataset, fraction = run.experiment.dataset, run.experiment.fraction
    ds = runner.loaded[dataset]
    pace = paces[dataset, model, False]
    image_s = pace.step_s / pace.batch_size
    if run.experiment.augment:
        ref = runner.augment_reference[dataset]
        plain, augmented = paces[dataset, ref, False], paces[dataset, ref, True]
        extra = augmented.step_s / augmented.batch_size - plain.step_s / plain.batch_size
        image_s += max(0.0, extra)
    batch = batches[dataset, model, fraction]
    scaled = replace(pace, step_s=image_s * batch, batch_size=batch)
    images = len(runner.data(dataset, fraction).x_train)
    return scaled.run_seconds(run.epochs, images, len(ds.x_val), len(ds.x_test))


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
                "dataset": display_name(run.experiment.dataset),
                "experiment": run.experiment.label,
                "model": run.models[0] if len(run.models) == 1 else "chosen on validation",
                "augmentation": "yes" if run.experiment.augment else "no",
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


class _Runner:
    """Runs seed runs one at a time, skipping those already finished with the same config.

    Progress is counted per slot: a cell as the plan names it before its choice is made
    (``cifar10/chosen_variant``), so estimates made before a choice still apply after it.
    """

    def __init__(self, study: Study, loaded, checksums, precision, force, verbose, log):
        self.study, self.loaded, self.checksums = study, loaded, checksums
        self.precision, self.force, self.verbose, self.log = precision, force, verbose, log
        self.slots = cells(study.spec, study.datasets)
        self.count = 0
        self.total = len(self.slots) * study.seeds  # seed runs
        profile = study.profile
        self.planned = {  # epochs of one seed run
            s.key: getattr(profile.epochs[s.dataset], s.kind) for s in self.slots
        }
        self.epochs_done = 0  # planned epochs of the seed runs finished (trained or skipped)
        self.trained_epochs, self.trained_s = 0, 0.0  # of the ones trained in this run: the pace
        # slot key -> model -> estimated seconds of one seed run (set by _estimate), and the
        # estimated seconds of the seed runs trained so far, to scale what is left by
        self.estimates: dict[str, dict[str, float]] = {}
        self.estimated_done_s = 0.0
        self.left: dict[str, int] = {}  # slot key -> seed runs still to train (with estimates)
        self.chosen: dict[str, str] = {}  # slot key -> the model it trains, once known
        self.augment_reference: dict[str, str] = {}  # dataset -> model timed with augmentation
        self.skipped = 0  # seed runs finished earlier with the same config
        self.eta = "?"  # until a seed run has been trained in this run, or estimated
        self._subsets: dict[tuple[str, float], Dataset] = {}
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

    def data(self, dataset: str, fraction: float = 1.0) -> Dataset:
        """A cell's data: its share of each class's training images (nested shares), drawn once
        per run and kept."""
        if (dataset, fraction) not in self._subsets:
            ds = self.loaded[dataset]
            self._subsets[dataset, fraction] = train_subset(ds, fraction, self.study.seed)
        return self._subsets[dataset, fraction]

    def _advance(self, slot: Experiment, trained_s: float | None) -> None:
        """Count a seed run as done and update the ETA (:meth:`eta_seconds`)."""
        epochs = self.planned[slot.key]
        self.epochs_done += epochs
        if trained_s is None:
            self.skipped += 1
        else:
            self.trained_epochs += epochs
            self.trained_s += trained_s
            if self.estimates:
                self.estimated_done_s += self._estimated(slot)
                self.left[slot.key] = max(0, self.left.get(slot.key, 1) - 1)
        left = self.eta_seconds()
        if left is not None:
            self.eta = tqdm.format_interval(left)
        self.bar.set_postfix_str(f"ETA {self.eta}", refresh=False)
        self.bar.update(1)

    def finished_line(self) -> str:
        """What the run did, for its last line: a progress bar's last frame is not kept in a
        saved notebook."""
        trained = self.total - self.skipped
        line = (
            f"study {self.study.spec.name!r} ({self.study.profile.name}) finished: "
            f"{self.total} seed runs"
        )
        if trained:
            line += f", {trained} trained in {format_seconds(self.trained_s)}"
            if self.estimated_done_s:
                line += f" (estimated {format_seconds(self.estimated_done_s)})"
        if self.skipped:
            line += f", {self.skipped} finished earlier and kept"
        return line

    def _estimated(self, slot: Experiment) -> float:
        """Estimated seconds of one seed run of ``slot``, whose model is now known."""
        options = self.estimates.get(slot.key, {})
        chosen = self.chosen.get(slot.key)
        if chosen in options:
            return options[chosen]
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

    def build(self, dataset: str, model: str, seed: int) -> keras.Model:
        """An untrained ``model`` for ``dataset`` and ``seed``, the same whatever ran before."""
        ds = self.loaded[dataset]
        keras.backend.clear_session()  # frees earlier models; resets the dtype policy, so:
        configure_precision(self.precision)
        set_seed(seed)
        return build_model(model, ds.input_shape, ds.num_classes)

    def config(self, experiment: Experiment, model: keras.Model, seed: int) -> dict:
        """Everything that determines a seed run's outcome; a change means recompute.

        The architecture's fingerprint makes an edited model builder count as a change.
        """
        ds = self.data(experiment.dataset, experiment.fraction)
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
            **({"class_boost": _boost_config(experiment, ds)} if experiment.method else {}),
            **profile_config(self.study.profile, experiment, seed, self.study.seed),
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

    def run(self, experiment: Experiment, slot: Experiment) -> None:
        """Run (or skip) every seed run of ``experiment`` (planned as ``slot``)."""
        self.chosen[slot.key] = experiment.model
        for seed in self.study.seed_list:
            self.run_seed(experiment, slot, seed)

    def run_seed(self, experiment: Experiment, slot: Experiment, seed: int) -> None:
        self.count += 1
        tag = f"[{self.count}/{self.total}] {experiment.key}"
        if self.study.seeds > 1:
            tag += f" seed {seed}"
        folder = self.study.run_folder(experiment.key, seed)
        model = self.build(experiment.dataset, experiment.model, seed)
        config = self.config(experiment, model, seed)
        previous = read_result(folder / RESULT_FILE, self.say)
        if previous is not None:
            if previous.get("config") == config and not self.force:
                # no line per kept run: the plan said what is left, the last line what was kept
                warn_library_change(experiment.key, previous)
                self.study.add_run(experiment.key, seed, previous)
                self._advance(slot, None)
                return
            why = "force" if self.force else config_change(previous.get("config", {}), config)
            self.say(f"{tag}: recomputing ({why})")
        # The old result goes first: until the new one is written, the run is unfinished.
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
        self._advance(slot, result["timings"]["total_s"])
        self.say(
            f"{tag}: done in {result['timings']['total_s']:.1f} s: val "
            f"{result['val']['accuracy']:.2%}, test {result['test']['accuracy']:.2%}"
        )

    def _recipe(self, experiment: Experiment, config: dict, model, ds: Dataset):
        """What ``train()`` gets as ``recipe``: the profile's, except that a variant-selection
        run trains with the compared runs' recipe (batch, peak rate, dropout rule, sized for
        their budget) over its own shorter one."""
        recipe = self.study.profile.recipe
        if not experiment.selection:
            return recipe
        main = plan_recipe(
            recipe,
            model,
            len(ds.x_train),
            epochs=config["recipe_epochs"],
            batch_size=config["batch_size"],
        )
        return main.recipe.with_overrides(epochs=config["epochs"])

    def _train_and_evaluate(self, experiment, config, model, folder: Path, seed: int) -> dict:
        ds = self.data(experiment.dataset, experiment.fraction)
        start = time.perf_counter()
        run = train(
            model,
            ds,
            epochs=config["epochs"],
            batch_size=None if experiment.selection else config["batch_size"],
            augment=experiment.augment,
            augment_policy=AUGMENT_POLICY,
            seed=seed,
            recipe=self._recipe(experiment, config, model, ds),
            early_stopping=config["early_stopping"],
            class_boost=_class_boost(experiment, ds.class_names) if experiment.method else None,
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
    """The boost of a targeted cell, whose classes are named in ``class_names``."""
    labels = tuple(list(class_names).index(c) for c in experiment.boosted)
    return ClassBoost(labels, TARGETED_FACTOR, experiment.method)


def _boost_config(experiment: Experiment, ds: Dataset) -> dict:
    """A targeted cell's boost as its config records it: the classes by name."""
    boost = _class_boost(experiment, ds.class_names).to_dict()
    return {**boost, "classes": list(experiment.boosted)}
