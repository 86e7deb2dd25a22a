"""The GPU check script on a machine without a GPU: its refusal and its plan.

The check itself needs a GPU (CI has none); what it measured is committed under
benchmarks/results/gpu/ when a session had one.
"""

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "gpu_check.py"


@pytest.fixture(scope="module")
def check():
    return runpy.run_path(str(SCRIPT))


def test_refuses_without_a_gpu_and_runs_nothing(tmp_path):
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin", "CUDA_VISIBLE_DEVICES": ""},
        check=False,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "no GPU found" in done.stdout and "Nothing was run." in done.stdout
    assert not out.exists()  # no report, no scratch data


def test_plan_names_each_part_and_the_gpu_profile(check, capsys):
    assert check["main"](["--plan"]) == 0
    plan = capsys.readouterr().out
    profile = check["gpu_profile"]()
    assert f"profile {profile.name!r}" in plan
    assert "tests/test_accelerator_config.py" in plan and "throughput" in plan
    assert "480 s in all" in plan


def test_plan_refuses_a_budget_too_small_for_the_study(check):
    with pytest.raises(SystemExit):
        check["main"](["--plan", "--budget", "100"])


def test_whole_study_scales_the_estimate_by_the_median_ratio(check):
    runs = [
        {"total_s": 20.0, "estimated_s": 10.0},
        {"total_s": 30.0, "estimated_s": 20.0},
        {"total_s": 10.0, "estimated_s": None},  # no estimate: not counted
        {"total_s": 12.0, "estimated_s": 4.0},
    ]
    whole = check["whole_study"]({"seconds": 600.0}, runs)
    assert whole["ratio"] == 2.0  # of 1.5, 2 and 3
    assert whole["seconds"] == 1200.0
    assert "20.0 min" in whole["sentence"] and "3 finished runs" in whole["sentence"]
    assert check["whole_study"]({}, [])["seconds"] is None


def test_runs_find_their_estimate_under_the_choice_the_plan_named(check):
    per_run = {
        "cifar10/alexnet": {"alexnet": 5.0},
        "cifar10/chosen_variant+aug": {"custom_v1": 6.0, "custom_v2": 7.0},
        "cifar10/best+aug+oversample": {"custom": 8.0, "alexnet": 9.0},
    }
    assert check["_estimated"](per_run, "cifar10/alexnet", "alexnet") == 5.0
    assert check["_estimated"](per_run, "cifar10/custom_v2+aug", "custom_v2") == 7.0
    assert check["_estimated"](per_run, "cifar10/alexnet+aug+oversample", "alexnet") == 9.0
    assert check["_estimated"](per_run, "cifar10/mobilenet", "mobilenet") is None
