"""The study as a declared grid: specs, their cells, presets and a user's own model."""

import dataclasses

import numpy as np
import pytest
from PIL import Image

from cnnbench import build_model, train
from cnnbench.config import get_profile
from cnnbench.data import load_dataset
from cnnbench.errors import CnnbenchError, ConfigError
from cnnbench.models import list_models
from cnnbench.plan import (
    CHOSEN_VARIANT,
    STUDIES,
    VARIANTS,
    StudySpec,
    cells,
    experiment_name,
    get_study,
    label,
)
from cnnbench.runner import run_study
from cnnbench.tables import comparison_table

TINY = {"sample_fraction": 0.05, "val_fraction": 0.02, "test_fraction": 0.2, "epochs": 1}


def _tiny(**overrides):
    return get_profile("demo", batch_size=32, **{**TINY, **overrides})


def test_the_original_study_is_a_full_factorial_at_equal_budgets():
    spec = get_study("original")
    grid = cells(spec, ("cifar10", "mnist"), chosen="custom_v2")
    selection = [e for e in grid if e.selection]
    assert [e.key for e in selection] == [f"cifar10/variant_{v}" for v in VARIANTS]
    compared = [e for e in grid if not e.selection and e.method is None]
    models = ("custom_v2", "alexnet", "custom", "mobilenet")
    assert {(e.model, e.augment, e.dataset) for e in compared} == {
        (m, a, d) for m in models for a in (False, True) for d in ("cifar10", "mnist")
    }
    assert len(compared) == 16
    targeted = [e for e in grid if e.method]
    assert [e.key for e in targeted] == [
        "cifar10/best+aug+oversample",
        "cifar10/best+aug+loss_weight",
    ]
    everywhere = dataclasses.replace(spec, targeted=True)
    assert [e.dataset for e in cells(everywhere, ("cifar10", "mnist")) if e.method] == [
        "cifar10", "cifar10", "mnist", "mnist"
    ]  # fmt: skip
    assert not [e for e in cells(spec, ("mnist",)) if e.method]
    # a model's two cells differ only in augmentation: same kind of budget, same fraction
    for e in compared:
        twin = next(o for o in compared if o.key == f"{e.dataset}/{e.model}+aug")
        assert (twin.kind, twin.fraction) == (e.kind, e.fraction) == ("main", 1.0)


def test_cells_are_named_and_labelled_one_way():
    assert experiment_name("custom") == "custom"
    assert experiment_name("custom", True) == "custom+aug"
    assert experiment_name("custom", True, "loss_weight") == "custom+aug+loss_weight"
    assert experiment_name("custom", True, fraction=0.1) == "custom+aug@10pct"
    assert experiment_name("custom_v2", selection=True) == "variant_custom_v2"
    assert label("cifar10/custom+aug") == "custom + aug"
    assert label("custom+aug+loss_weight") == "custom + aug + loss weight"
    assert label("custom+aug@10pct") == "custom + aug (10%)"
    assert label("variant_custom_v2") == "custom_v2 (selection)"


def test_presets():
    assert set(STUDIES) == {
        "original",
        "alexnet_vs_mobilenet",
        "classic_alexnet",
        "data_efficiency",
    }
    assert STUDIES["alexnet_vs_mobilenet"].models == ("alexnet", "mobilenet")
    assert STUDIES["classic_alexnet"].images and STUDIES["classic_alexnet"].image_size == (227, 227)
    assert STUDIES["data_efficiency"].fractions == (0.1, 0.25, 0.5, 1.0)
    narrowed = get_study("original", models="custom,alexnet")
    assert narrowed.models == ("custom", "alexnet") and narrowed.variants == ()
    assert get_study("original", models=[CHOSEN_VARIANT, "custom"]).variants == VARIANTS


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"models": ("resnet",)}, "unknown model 'resnet'; registered: custom"),
        ({"models": ()}, "distinct and at least one"),
        ({"models": ("custom", "custom")}, "distinct and at least one"),
        ({"models": (CHOSEN_VARIANT,)}, "needs variants to choose from"),
        ({"models": ("custom",), "variants": VARIANTS}, "needs variants to choose from"),
        (
            {"models": (CHOSEN_VARIANT, "custom_v1"), "variants": VARIANTS},
            "variants to choose among and models compared",
        ),
        ({"models": ("custom",), "conditions": ("cutmix",)}, "conditions must be distinct"),
        ({"models": ("custom",), "conditions": ("none",), "targeted": True}, "needs the 'orig"),
        ({"models": ("custom",), "targeted": ()}, "targeted must be True, False or some"),
        ({"models": ("custom",), "targeted": (1,)}, "targeted must be True, False or some"),
        ({"models": ("custom",), "targeted": ("cifar",)}, r"datasets \['cifar10', 'mnist'\]"),
        ({"models": ("custom",), "fractions": (0.0,)}, "fractions"),
        ({"models": ("custom",), "datasets": ()}, "needs datasets"),
    ],
)
def test_bad_specs_are_refused_by_name(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        StudySpec(name="mine", description="", **kwargs)
    with pytest.raises(ConfigError, match="unknown study 'huge'"):
        get_study("huge")


def wide_custom(input_shape, num_classes):
    """custom with a wider classifier: a user's own builder."""
    return build_model("custom", input_shape, num_classes, dropout=0.2)


def test_a_users_builder_takes_part_in_a_grid_of_their_own(tmp_path, registry):
    spec = StudySpec(
        name="mine",
        description="my model vs custom",
        models=(wide_custom, "custom"),
        datasets=("mnist",),
        conditions=("none",),
    )
    assert spec.models == ("wide_custom", "custom") and "wide_custom" in list_models()
    study = run_study(_tiny(), study=spec, artifacts=tmp_path, log=None, estimate=False)
    assert study.path == tmp_path / "mine_demo"
    assert list(study.results) == ["mnist/wide_custom", "mnist/custom"]
    assert list(comparison_table(study)["model"]) == ["wide_custom", "custom"]


def test_a_builder_that_does_not_build_a_classifier_is_refused_before_training(tmp_path, registry):
    def broken(input_shape, num_classes):
        return build_model("custom", input_shape, num_classes + 1)

    spec = StudySpec(name="broken", description="", models=(broken,), datasets=("mnist",))
    with pytest.raises(Exception, match="broken"):
        run_study(_tiny(), study=spec, artifacts=tmp_path, log=None, estimate=False)
    assert not list((tmp_path / "broken_demo").glob("*/*/seed_*/result.json"))


def test_data_efficiency_trains_nested_shares_at_the_same_epochs(tmp_path):
    study = run_study(
        _tiny(),
        study="data_efficiency",
        models="custom",
        artifacts=tmp_path,
        log=None,
        estimate=False,
    )
    keys = [f"cifar10/custom+aug@{p}pct" for p in (10, 25, 50)] + ["cifar10/custom+aug"]
    assert list(study.results) == keys
    sizes = [study.result(k)["dataset"]["sizes"] for k in keys]
    assert [s["train"] for s in sizes] == sorted(s["train"] for s in sizes)
    assert sizes[-1]["train"] / sizes[0]["train"] == pytest.approx(10, rel=0.05)
    assert len({s["val"] for s in sizes}) == len({s["test"] for s in sizes}) == 1
    assert {study.result(k)["config"]["epochs"] for k in keys} == {1}
    from cnnbench.discussion import summary_markdown

    assert "**Training-set size**" in summary_markdown(study)


def test_alexnet_vs_mobilenet_compares_both_with_augmentation(tmp_path):
    study = run_study(_tiny(), study="alexnet_vs_mobilenet", artifacts=tmp_path, log=None)
    assert study.path == tmp_path / "alexnet_vs_mobilenet_demo"
    assert list(study.results) == ["cifar10/alexnet+aug", "cifar10/mobilenet+aug"]
    table = comparison_table(study)
    assert list(table["model"]) == ["alexnet + aug", "mobilenet + aug"]
    assert (table["latency (ms)"] > 0).all()
    from cnnbench.tables import class_report

    report = class_report(study, "cifar10/mobilenet+aug")
    assert list(report.columns) == ["precision", "recall", "f1-score", "images"]


def _image_folder(root, classes=("daisy", "tulip"), per_class=20, size=(40, 30)):
    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, (*size, 3)) + 150 * c  # the classes differ in brightness
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i}.png")
    (root / ".ipynb_checkpoints").mkdir()  # what a Colab upload leaves: skipped
    return root


def test_classic_alexnet_runs_on_an_image_folder(tmp_path, monkeypatch):
    import cnnbench.plan

    # the 2012 net at 227 px is heavy for a test: the same study on a 67 px copy of it
    monkeypatch.setitem(
        cnnbench.plan.STUDIES,
        "classic_alexnet",
        StudySpec(**{**STUDIES["classic_alexnet"].to_dict(), "image_size": (67, 67)}),
    )
    folder = _image_folder(tmp_path / "flowers")
    study = run_study(_tiny(), study="classic_alexnet", images=folder, artifacts=tmp_path, log=None)
    assert list(study.results) == ["images/alexnet_classic", "images/alexnet_classic+aug"]
    info = study.dataset_info("images")
    assert info["class_names"] == ["daisy", "tulip"] and info["input_shape"] == [67, 67, 3]
    assert info["sizes"] == {"train": 30, "val": 2, "test": 8}  # 20% of each class for test


def test_bad_image_folders_are_refused_before_any_training(tmp_path, monkeypatch):
    import cnnbench.runner

    monkeypatch.setattr(cnnbench.runner, "train", lambda *a, **k: pytest.fail("trained"))
    folder = _image_folder(tmp_path / "flowers")
    (folder / "rose").mkdir()
    with pytest.raises(CnnbenchError, match="rose"):
        run_study(_tiny(), study="classic_alexnet", images=folder, artifacts=tmp_path, log=None)
    (folder / "rose" / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(CnnbenchError, match="broken.jpg"):
        run_study(_tiny(), study="classic_alexnet", images=folder, artifacts=tmp_path, log=None)
    with pytest.raises(ConfigError, match="is not a folder"):
        run_study(_tiny(), study="classic_alexnet", images=tmp_path / "none", log=None)
    with pytest.raises(ConfigError, match="reads named datasets, not images="):
        run_study(_tiny(), images=folder, log=None)


def test_early_stopping_refuses_to_cut_a_one_cycle_schedule():
    ds = load_dataset("mnist", source="sample", sample_fraction=0.05, test_fraction=0.1)
    model = build_model("custom", ds.input_shape, ds.num_classes)
    with pytest.raises(ConfigError, match="before it anneals"):
        train(model, ds, epochs=2, early_stopping=1, verbose=0)


def test_the_study_modules_import_one_way():
    import ast
    from pathlib import Path

    root = Path(__file__).parents[1] / "cnnbench"

    def imports(module):
        tree = ast.parse((root / f"{module}.py").read_text())
        return {
            node.module.removeprefix("cnnbench.")
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnnbench.")
        }

    order = ["plan", "results", "store", "runner"]
    for i, module in enumerate(order):
        assert not imports(module) & set(order[i + 1 :]), module
    assert not imports("results") & {"tables", "discussion", "report"}
    assert not imports("tables") & {"discussion", "report", "runner", "store"}
    assert "study" not in {p.stem for p in root.glob("*.py")}
