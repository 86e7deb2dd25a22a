"""A study's results, and the choices made from them on the validation split.

``Study.runs`` maps an experiment key ``"<dataset>/<experiment>"`` (:mod:`cnnbench.plan`) to
``{seed: result.json}``. Every choice (the custom variant, the best model per dataset, its
weakest classes) is made on the mean over the seeds of the validation accuracy; test numbers
are only reported. Tables are in :mod:`cnnbench.tables`, the findings in
:mod:`cnnbench.discussion`; :mod:`cnnbench.store` reads and writes a study's folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from cnnbench.config import TARGETED_CLASSES, Profile
from cnnbench.errors import ConfigError
from cnnbench.plan import (
    Experiment,
    StudySpec,
    cells,
    compared_cells,
    selection_cells,
    selection_dataset,
)


@dataclass
class Study:
    """Results of a study: ``runs`` holds every finished seed run, ``results`` the experiments
    whose every seed run has finished (as their first seed's ``result.json``; per-class
    reports, models and histories come from that seed, tables and choices use every seed)."""

    path: Path
    profile: Profile
    spec: StudySpec
    seed: int
    datasets: tuple[str, ...]
    seeds: int = 1  # how many seeds every experiment is trained with: seed, seed + 1, ...
    results: dict[str, dict] = field(default_factory=dict)
    runs: dict[str, dict[int, dict]] = field(default_factory=dict)
    # dataset -> checksum of the data its results must have been computed on (None: unknown)
    data_sha256: dict[str, str] = field(default_factory=dict)
    estimate: object | None = None  # the plan's StudyEstimate (cnnbench.runner), when run

    @property
    def seed_list(self) -> list[int]:
        return [self.seed + i for i in range(self.seeds)]

    @property
    def selection_dataset(self) -> str:
        return selection_dataset(self.datasets)

    def run_folder(self, key: str, seed: int) -> Path:
        """Where the run of experiment ``key`` with ``seed`` writes its artifacts."""
        return self.path / key / f"seed_{seed}"

    def add_run(self, key: str, seed: int, result: dict) -> None:
        """Record one finished seed run; the experiment counts as finished with its last."""
        self.runs.setdefault(key, {})[seed] = result
        if all(s in self.runs[key] for s in self.seed_list):
            self.results[key] = self.runs[key][self.seed_list[0]]

    def result(self, key: str) -> dict:
        """The ``result.json`` of a finished experiment (ConfigError if it has not finished)."""
        if key not in self.results:
            done = ", ".join(self.results) or "none"
            raise ConfigError(f"experiment {key!r} has not finished; finished: {done}")
        return self.results[key]

    def seed_results(self, key: str) -> list[dict]:
        """The ``result.json`` of every seed run of a finished experiment, in seed order."""
        self.result(key)
        return [self.runs[key][s] for s in self.seed_list]

    def accuracies(self, key: str, split: str = "val") -> np.ndarray:
        """Accuracy of each seed run of a finished experiment on ``split``, in seed order."""
        return np.array([r[split]["accuracy"] for r in self.seed_results(key)])

    def mean(self, key: str, *path: str) -> float:
        """The mean over the seeds of ``result[path[0]][path[1]]...`` of a finished experiment."""
        values = []
        for result in self.seed_results(key):
            for part in path:
                result = result[part]
            values.append(result)
        return float(np.mean(values))

    # --- the grid, as far as the choices made so far resolve it ------------------------------

    def experiments(self) -> list[Experiment]:
        """Every cell of the study in run order. Cells whose model a choice has not made yet
        are named for it (``chosen_variant``, ``best+aug+oversample``)."""
        chosen = _or_none(self.selected_variant) if self.spec.variants else None
        best, boosted = {}, {}
        for dataset in (d for d in self.datasets if self.spec.targets(d)):
            best[dataset] = _or_none(lambda d=dataset: self.model_of(self.best_key(d, True)))
            boosted[dataset] = _or_none(lambda d=dataset: self.targeted_classes(d)) or ()
        return cells(self.spec, self.datasets, chosen, best, boosted)

    def expected_keys(self) -> list[str]:
        return [e.key for e in self.experiments()]

    def missing(self) -> list[str]:
        """Keys of experiments not finished yet (rerun the study to complete them)."""
        return [k for k in self.expected_keys() if k not in self.results]

    def model_of(self, key: str) -> str:
        return self.result(key)["config"]["model"]

    def compared_keys(self, dataset: str, augment: bool | None = None, fraction=1.0) -> list[str]:
        """Keys of the compared cells on ``dataset`` (all conditions, or with/without
        augmentation), the chosen variant's once it is chosen."""
        self._check_dataset(dataset)
        chosen = _or_none(self.selected_variant) if self.spec.variants else None
        return [
            e.key
            for e in compared_cells(self.spec, (dataset,), chosen)
            if e.fraction == fraction and (augment is None or e.augment == augment)
        ]

    def augmentation_pairs(self, dataset: str, fraction=1.0) -> list[tuple[str, str, str]]:
        """``(model, key without augmentation, key with)`` for every model whose two cells on
        ``dataset`` have finished: same epochs, batch, recipe and seeds, a paired comparison."""
        plain = self.compared_keys(dataset, augment=False, fraction=fraction)
        augmented = self.compared_keys(dataset, augment=True, fraction=fraction)
        return [
            (self.model_of(a), a, b)
            for a, b in zip(plain, augmented, strict=False)
            if a in self.results and b in self.results
        ]

    # --- choices, on validation ---------------------------------------------------------------

    def selected_variant(self) -> str:
        """The custom variant with the highest mean validation accuracy over the seeds (first
        one on ties)."""
        keys = [e.key for e in selection_cells(self.spec, self.datasets)]
        if not keys:
            raise ConfigError(f"study {self.spec.name!r} has no variant selection")
        return self.model_of(self.argmax_val(keys))

    def best_key(self, dataset: str, augment: bool | None = None) -> str:
        """Key of the compared cell (on every training image, with or without augmentation or
        either) with the highest mean validation accuracy over the seeds on ``dataset``."""
        return self.argmax_val(self.compared_keys(dataset, augment))

    def argmax_val(self, keys: list[str]) -> str:
        """The key with the highest mean validation accuracy over the seeds (first on ties)."""
        accuracies = [float(self.accuracies(k, "val").mean()) for k in keys]
        return keys[int(np.argmax(accuracies))]

    def targeted_classes(self, dataset: str) -> list[str]:
        """The classes targeted augmentation boosts: the best augmented model's
        :data:`~cnnbench.config.TARGETED_CLASSES` weakest on validation (fewer for datasets
        with few classes)."""
        key = self.best_key(dataset, augment=True)
        names = self.result(key)["val"]["class_names"]
        return list(self.weakest_classes(key, min(TARGETED_CLASSES, len(names) - 1)).index)

    def weakest_classes(self, key: str, k: int = 3) -> pd.Series:
        """The ``k`` classes with the lowest validation F1 of experiment ``key`` (mean over the
        seeds), lowest first."""
        runs = self.seed_results(key)
        names = runs[0]["val"]["class_names"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(names):
            raise ConfigError(f"k must be an integer in [1, {len(names)}], got {k!r}")
        f1 = pd.Series(mean_f1(runs, "val", names), index=names, name="val F1")
        return f1.sort_values(kind="stable").iloc[:k]

    # --- what a run left ----------------------------------------------------------------------

    def dataset_info(self, dataset: str) -> dict | None:
        """``Dataset.describe()`` of ``dataset`` as recorded by its first finished experiment
        on every training image."""
        return next(
            (
                r["dataset"]
                for k, r in self.results.items()
                if r["config"]["dataset"] == dataset and "@" not in k
            ),
            None,
        )

    def load_model(self, key: str, seed: int | None = None) -> keras.Model:
        """The trained Keras model of an experiment's run with ``seed`` (default: the first)."""
        seed = self._run_seed(key, seed)
        return keras.models.load_model(self.run_folder(key, seed) / "model.keras")

    def confusion_matrix(self, key: str) -> pd.DataFrame:
        """Test confusion matrix (counts, true classes as rows) summed over the seed runs."""
        frames = [
            pd.read_csv(self.run_folder(key, s) / "confusion_matrix.csv", index_col=0)
            for s in self._seeds_of(key)
        ]
        return sum(frames[1:], frames[0])

    def history(self, key: str, seed: int | None = None) -> pd.DataFrame:
        """Per-epoch loss/accuracy (train and validation) of an experiment's run with ``seed``
        (default: the first), indexed by epoch."""
        seed = self._run_seed(key, seed)
        history = pd.DataFrame(self.runs[key][seed]["train"]["history"])
        history.index = pd.RangeIndex(1, len(history) + 1, name="epoch")
        return history

    def _seeds_of(self, key: str) -> list[int]:
        self.result(key)
        return self.seed_list

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


def _or_none(choose):
    """``choose()``, or None while what it depends on has not finished."""
    try:
        return choose()
    except ConfigError:
        return None


def mean_f1(runs: list[dict], split: str, names: list[str]) -> list[float]:
    """Per-class F1 on ``split``, averaged over the seed runs ``runs``."""
    return [float(np.mean([r[split]["report"][c]["f1-score"] for r in runs])) for c in names]
