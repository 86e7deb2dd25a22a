"""The study's plan and its estimated duration, measured before training."""

import dataclasses
import json

import pytest

from cnnbench import build_model, load_dataset, set_seed
from cnnbench.config import get_profile
from cnnbench.estimate import Pace, format_seconds, measure_pace
from cnnbench.plan import VARIANTS, Experiment, get_study
from cnnbench.results import Study
from cnnbench.runner import _Runner, plan_study, run_study
from cnnbench.store import ESTIMATE_FILE

TINY = {"sample_fraction": 0.05, "val_fraction": 0.02, "test_fraction": 0.2, "epochs": 1}


@pytest.fixture(scope="module")
def mnist():
    return load_dataset("mnist", source="sample", sample_fraction=0.2, test_fraction=0.1)


def test_run_seconds_prices_steps_predictions_and_startup():
    pace = Pace("m", "d", False, 100, step_s=0.5, predict_image_s=0.001, startup_s=3.0, timing_s=1)
    # 1,000 images at batch 100 = 10 steps an epoch; 2 epochs with 200 val images each, then
    # the val and 300 test images evaluated once more
    seconds = pace.run_seconds(2, 1000, 200, 300)
    assert seconds == pytest.approx(3.0 + 20 * 0.5 + (2 * 200 + 200 + 300) * 0.001 + 1)
    assert pace.run_seconds(4, 1000, 200, 300) > seconds


def test_measure_pace_times_the_batch_the_run_would_train_at(mnist):
    set_seed(0)
    model = build_model("custom", mnist.input_shape, mnist.num_classes)
    pace = measure_pace(model, mnist, epochs=3, steps=3)
    assert pace.model == model.name and pace.dataset == "mnist" and not pace.augment
    # recipe="auto" sizes the batch for 3 epochs of the whole sample, not for the slice timed
    assert pace.batch_size == 32
    assert pace.step_s > 0 and pace.predict_image_s > 0 and pace.startup_s >= 0
    with pytest.raises(ValueError, match="steps"):
        measure_pace(model, mnist, epochs=3, steps=0)


def test_plan_lists_seeds_left_and_the_candidates_of_choices(tmp_path):
    spec = dataclasses.replace(get_study("original"), targeted=True)  # MNIST too
    study = Study(tmp_path, get_profile("demo", **TINY), spec, 42, ("mnist",), seeds=2)
    done = study.run_folder("mnist/variant_custom_v1", 42) / "result.json"
    done.parent.mkdir(parents=True)
    done.write_text("{}")
    plan = {run.key: run for run in plan_study(study)}
    assert list(plan) == study.expected_keys()
    assert plan["mnist/variant_custom_v1"].seeds == (43,)
    assert plan["mnist/variant_custom_v2"].seeds == (42, 43)
    assert plan["mnist/chosen_variant"].models == VARIANTS
    assert plan["mnist/chosen_variant+aug"].models == VARIANTS
    assert plan["mnist/alexnet"].models == ("alexnet",)
    assert plan["mnist/best+aug+oversample"].models == (*VARIANTS, "alexnet", "custom", "mobilenet")
    assert plan["mnist/custom+aug"].experiment.augment
    assert not plan["mnist/custom"].experiment.augment
    assert plan_study(study, force=True)[0].seeds == (42, 43)


def test_eta_follows_the_estimates_scaled_by_the_runs_so_far(tmp_path):
    spec = dataclasses.replace(get_study("original"), targeted=True)  # MNIST too
    study = Study(tmp_path, get_profile("demo", **TINY), spec, 42, ("mnist",))
    runner = _Runner(study, {}, {}, "float32", False, 0, None)
    slot = Experiment("mnist", "best", True, "oversample")
    runner.estimates = {
        "mnist/variant_custom_v1": {"custom_v1": 10.0},
        slot.key: {"custom": 30.0, "alexnet": 50.0},
    }
    runner.left = {"mnist/variant_custom_v1": 1, slot.key: 1}
    assert runner.eta_seconds() == pytest.approx(10 + 40)  # the candidates' mean
    # the first run took twice its estimate: what is left is scaled by 2
    runner._advance(Experiment("mnist", "custom_v1", selection=True), trained_s=20.0)
    assert runner.eta_seconds() == pytest.approx(2 * 40)
    runner.chosen[slot.key] = "alexnet"  # once chosen, that model's estimate
    assert runner.eta_seconds() == pytest.approx(2 * 50)
    runner.close()


def test_study_logs_its_plan_and_estimate_before_training(tmp_path):
    messages = []
    study = run_study(
        get_profile("demo", batch_size=32, **TINY),
        artifacts=tmp_path,
        datasets=("mnist",),
        log=messages.append,
    )
    plan = next(i for i, m in enumerate(messages) if m.startswith("plan:"))
    first_training = next(i for i, m in enumerate(messages) if ": training " in m)
    assert plan < first_training
    assert "11 experiments, 11 seed runs to train" in messages[plan]  # no targeted on MNIST
    assert "Estimated time on " in messages[plan] and "(no GPU)" in messages[plan]
    saved = json.loads((study.path / ESTIMATE_FILE).read_text())
    assert saved["summary"] == messages[plan] and saved["seconds"] > 0
    assert len(saved["plan"]) == 11
    # the estimate is of the right order: within 5x of what the runs took
    took = sum(r["timings"]["total_s"] for seeds in study.runs.values() for r in seeds.values())
    assert took / 5 < saved["seconds"] < took * 5
    assert messages[-1].startswith("study 'original' (demo) finished: 11 seed runs, 11 trained in ")
    assert "(estimated " in messages[-1]

    again = []
    run_study(
        get_profile("demo", batch_size=32, **TINY),
        artifacts=tmp_path,
        datasets=("mnist",),
        log=again.append,
    )
    assert "plan: every seed run has finished earlier; nothing to train" in again
    assert (
        again[-1] == "study 'original' (demo) finished: 11 seed runs, 11 finished earlier and kept"
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(44.6, "45 s"), (150, "2 min"), (3599, "1 h 00 min"), (4000, "1 h 07 min")],
)
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text
