"""The command line prints none of TensorFlow's start-up noise on a machine without a GPU."""

import os
import subprocess
import sys

NOISE = ("cuInit", "oneDNN", "absl::InitializeLog", "cpu_feature_guard", "cudart_stub")


def test_cli_prints_no_tensorflow_start_up_lines():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-m", "cnnbench", "models", "--dataset", "mnist"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "custom" in done.stdout
    for noise in NOISE:
        assert noise not in done.stderr + done.stdout, done.stderr[-2000:]


def test_a_level_the_user_set_is_kept():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "1"}
    script = "import cnnbench, os; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "1"
