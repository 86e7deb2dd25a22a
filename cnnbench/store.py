"""A study's folder: what is written where, what a seed run's config holds, and loading it back.

Each seed run writes ``<study>/<dataset>/<experiment>/seed_<s>/`` with ``model.keras``,
``confusion_matrix.csv`` and, last, ``result.json``, all atomically: a ``result.json`` marks a
finished seed run, so a killed study loses at most the seed run in progress. ``study.json``
holds the profile, the grid and the seeds; ``estimate.json`` the plan and its estimated time.
A result whose config no longer matches (another profile, data file or model choice) is left
out when loading and recomputed by the next run.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np

from cnnbench.artifacts import read_json, write_json
from cnnbench.config import (
    AUTO_RECIPES,
    AUTO_SIZING,
    POLICY_SETTINGS,
    Profile,
    get_recipe,
)
from cnnbench.data import Dataset, _sha256
from cnnbench.errors import ConfigError
from cnnbench.hardware import environment_info
from cnnbench.plan import AUGMENT_POLICY, Experiment, StudySpec
from cnnbench.results import Study

STUDY_FILE = "study.json"
RESULT_FILE = "result.json"
ESTIMATE_FILE = "estimate.json"
# Library versions recorded with every result; a rerun under others warns but keeps the result.
LIBRARIES = ("tensorflow", "keras", "numpy")


def write_study_file(study: Study) -> None:
    write_json(
        study.path / STUDY_FILE,
        {
            "profile": study.profile.to_dict(),
            "study": study.spec.to_dict(),
            "seed": study.seed,
            "seeds": study.seeds,
            "datasets": list(study.datasets),
            "data_sha256": study.data_sha256,
        },
    )


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


def profile_config(profile: Profile, experiment: Experiment, seed: int, data_seed: int) -> dict:
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
    budgets = profile.epochs[experiment.dataset]
    config = {
        "epochs": getattr(budgets, experiment.kind),
        # variant selection trains with the compared runs' recipe, sized for their budget
        "recipe_epochs": budgets.main,
        "batch_size": profile.batch_size,  # None: the recipe's (auto: sized to the data)
        "recipe": {"name": profile.recipe, **recipes},
        "early_stopping": profile.patience,
        "seed": seed,
        "data_seed": data_seed,  # not the number of seeds: adding seeds keeps finished runs
        "source": profile.source,
        "sample_fraction": profile.sample_fraction,
        "val_fraction": profile.val_fraction,
        "test_fraction": profile.test_fraction,
        "fraction": experiment.fraction,
        # the augmentation settings in force (None: the experiment trains without augmentation)
        "augmentation": (
            {"policy": AUGMENT_POLICY, **POLICY_SETTINGS[AUGMENT_POLICY]}
            if experiment.augment
            else None
        ),
    }
    return json.loads(json.dumps(config))


def read_result(path: Path, log) -> dict | None:
    """A finished seed run's result, or None if there is none (or it cannot be read)."""
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except (OSError, json.JSONDecodeError) as err:
        log(f"{path} cannot be read ({err}); recomputing")
        return None


def warn_library_change(key: str, previous: dict) -> None:
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


def config_change(old: dict, new: dict) -> str:
    """Which config fields changed, with old and new values where they are short."""
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return "config changed: " + ", ".join(
        f"{k} changed" if isinstance(new.get(k), dict) else f"{k} {old.get(k)!r} -> {new.get(k)!r}"
        for k in changed
    )


def load_study(path) -> Study:
    """Rebuild a :class:`~cnnbench.results.Study` from its artifacts folder alone (no data, no
    training). Results left over from an earlier config (another profile, seed or data file
    under the same folder, or a model choice that no longer holds) are left out with a warning.
    """
    root = Path(path)
    if not (root / STUDY_FILE).is_file():
        raise ConfigError(
            f"{str(root)!r} is not a study folder (no {STUDY_FILE}); pass "
            "<artifacts>/<study folder>, e.g. artifacts/quick"
        )
    meta = read_json(root / STUDY_FILE)
    if "study" not in meta:
        raise ConfigError(
            f"{str(root)!r} was written by an older cnnbench (its {STUDY_FILE} has no grid); "
            "rerun the study to recompute it"
        )
    study = Study(
        root,
        Profile.from_dict(meta["profile"]),
        StudySpec.from_dict(meta["study"]),
        meta["seed"],
        tuple(meta["datasets"]),
        seeds=meta["seeds"],
        data_sha256=meta["data_sha256"],
    )
    found = {}
    for dataset in study.datasets:
        for result_file in sorted((root / dataset).glob(f"*/seed_*/{RESULT_FILE}")):
            seed = result_file.parent.name.removeprefix("seed_")
            key = f"{dataset}/{result_file.parent.parent.name}"
            found[key, int(seed) if seed.isdigit() else None] = result_file
    # Add runs in grid order, so each choice is made once what it depends on is loaded.
    for _ in range(3):  # the selection, then the compared cells, then the targeted ones
        for experiment in study.experiments():
            for seed in study.seed_list:
                result_file = found.pop((experiment.key, seed), None)
                if result_file is not None:
                    _add_if_current(study, experiment, seed, result_file)
    for result_file in found.values():
        warnings.warn(f"{result_file} is not part of the study; left out", stacklevel=2)
    return study


def _add_if_current(study: Study, experiment: Experiment, seed: int, result_file: Path) -> None:
    result = read_json(result_file)
    config = result["config"]
    expected = profile_config(study.profile, experiment, seed, study.seed)
    differ = [k for k, v in expected.items() if config.get(k) != v]
    checksum = study.data_sha256.get(experiment.dataset)
    if checksum is not None and (config.get("data") or {}).get("sha256") != checksum:
        differ.append("data sha256")
    if config.get("model") != experiment.model or config.get("class_boost", {}).get(
        "classes", []
    ) != list(experiment.boosted):
        differ.append("the model or classes chosen on validation")
    if differ:
        warnings.warn(
            f"{result_file} is from another config ({', '.join(differ)} differ from the "
            "study's); left out until the study is rerun",
            stacklevel=3,
        )
        return
    study.add_run(experiment.key, seed, result)
