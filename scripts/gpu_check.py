"""The GPU check: what cnnbench does on a real GPU, end to end, in at most 8 minutes.

    python scripts/gpu_check.py [--data-dir DIR] [--out benchmarks/results/gpu] [--budget 480]
    python scripts/gpu_check.py --plan      # what it would run; needs no GPU

On a machine with a GPU it runs, in order, each within its share of the budget:

1. the accelerator tests (``tests/test_accelerator_config.py``: XLA, mixed precision,
   ``tf.distribute``, augmentation inside the model), which CI only runs on a CPU;
2. the benchmark's throughput part (augmentation pipelines, training images/s);
3. the study at the profile ``PROFILE = "auto"`` picks on a GPU, as far as the time left
   allows: first the runner's own estimate (every model timed for two short epochs), then the
   seed runs in the study's order, each saved as it finishes; the check then compares each
   finished run's time with its estimate and scales the estimate of the whole study by it.

It prints, and writes to ``--out`` as ``gpu_check.json`` and ``gpu_check.md``, the hardware,
each finished seed run's per-epoch times and accuracies, the total time and the estimate of the
whole study on this machine. Datasets missing from ``--data-dir`` (the device machine has no
download) are replaced by random pixels of the real shapes and sizes, which time the study
exactly but whose accuracies mean nothing: the report says which datasets were random. Without
a GPU it says so and exits with status 1, having run nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 480  # the whole check: 8 minutes
# Shares of the budget: the tests and the throughput bench get at most this many seconds; the
# study gets what is left, less a margin for writing the report.
TESTS_S = 150
THROUGHPUT_S = 90
MARGIN_S = 20
ACCELERATOR_TESTS = "tests/test_accelerator_config.py"
# Official split sizes (training, test), used to make random stand-ins of the real sizes.
OFFICIAL = {"mnist": ((60_000, 28, 28), 10_000), "cifar10": ((50_000, 32, 32, 3), 10_000)}


def gpus() -> list[str]:
    import tensorflow as tf

    return [d.name for d in tf.config.list_physical_devices("GPU")]


def gpu_profile():
    """The profile ``resolve_profile("auto")`` picks when a GPU is present."""
    from unittest import mock

    from cnnbench.runner import resolve_profile

    with mock.patch("tensorflow.config.list_physical_devices", return_value=["GPU:0"]):
        return resolve_profile("auto", log=None)


def plan_text(budget: int) -> str:
    profile = gpu_profile()
    study_s = budget - TESTS_S - THROUGHPUT_S - MARGIN_S
    epochs = ", ".join(f"{d} {e.variants}/{e.main}" for d, e in profile.epochs.items())
    return "\n".join(
        [
            f"GPU check plan ({budget} s in all):",
            f"1. accelerator tests ({ACCELERATOR_TESTS}), at most {TESTS_S} s",
            f"2. bench throughput part, at most {THROUGHPUT_S} s",
            f"3. study, profile {profile.name!r} (what auto picks on a GPU; epochs variants/"
            f"compared: {epochs}; {profile.seeds} seed(s)), at least {study_s} s: the "
            "estimate, then seed runs in order until the time is up",
            f"then the report ({MARGIN_S} s kept for it)",
        ]
    )


def _run(command: list[str], timeout: float, log_path: Path) -> dict:
    """Run ``command`` with a time limit, its output to ``log_path``; what happened."""
    start = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    with open(log_path, "w") as log:
        try:
            done = subprocess.run(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, env=env
            )
            rc = done.returncode
        except subprocess.TimeoutExpired:
            rc = None  # stopped at its time limit
    tail = log_path.read_text(errors="replace").splitlines()[-5:]
    return {
        "command": " ".join(command),
        "returncode": rc,
        "timed_out": rc is None,
        "seconds": time.perf_counter() - start,
        "tail": tail,
    }


def stand_in_data(data_dir: str | None, folder: Path, profile) -> dict:
    """A data folder for the study: the real ``<name>.npz`` where ``data_dir`` has it, else
    random pixels of the official shapes (seeded). Returns dataset -> "real" or "random"."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    kinds = {}
    rng = np.random.default_rng(0)
    for name in profile.epochs:
        real = Path(data_dir) / f"{name}.npz" if data_dir else None
        target = folder / f"{name}.npz"
        if real is not None and real.is_file():
            target.unlink(missing_ok=True)
            target.symlink_to(real.resolve())
            kinds[name] = "real"
            continue
        shape, n_test = OFFICIAL[name]
        np.savez(
            target,
            x_train=rng.integers(0, 256, shape, dtype=np.uint8),
            y_train=np.arange(shape[0]) % 10,
            x_test=rng.integers(0, 256, (n_test, *shape[1:]), dtype=np.uint8),
            y_test=np.arange(n_test) % 10,
        )
        kinds[name] = "random"
    return kinds


def finished_runs(study_dir: Path, estimate: dict) -> list[dict]:
    """Every finished seed run under ``study_dir``: times, accuracies and its estimate."""
    rows = []
    for path in sorted(study_dir.glob("*/*/seed_*/result.json"), key=os.path.getmtime):
        result = json.loads(path.read_text())
        key, model = result["key"], result["config"]["model"]
        rows.append(
            {
                "key": key,
                "model": model,
                "seed": result["seed"],
                "epochs": len(result["train"]["epoch_times_s"]),
                "batch": result["train"]["config"]["batch_size"],
                "epoch_s": [round(t, 2) for t in result["train"]["epoch_times_s"]],
                "val_acc": result["val"]["accuracy"],
                "test_acc": result["test"]["accuracy"],
                "total_s": result["timings"]["total_s"],
                "estimated_s": _estimated(estimate.get("per_run_s", {}), key, model),
            }
        )
    return rows


def _estimated(per_run: dict, key: str, model: str) -> float | None:
    """The runner's estimate of one seed run: the plan names a cell whose model was chosen on
    the way for the choice (``chosen_variant``, ``best+aug+oversample``), not for the model."""
    dataset, name = key.split("/")
    rest = name.removeprefix(model)
    slots = [key, f"{dataset}/chosen_variant{rest}", f"{dataset}/best{rest}"]
    return next((per_run[s][model] for s in slots if model in per_run.get(s, {})), None)


def markdown(report: dict) -> str:
    lines = [
        "# GPU check",
        "",
        f"Hardware: {report['hardware']}; TensorFlow {report['tensorflow']}, Keras "
        f"{report['keras']}; {report['date']}; `python scripts/gpu_check.py` "
        f"({report['total_s']:.0f} s in all).",
        "",
        "| part | result | seconds |",
        "|---|---|---:|",
    ]
    for part in ("tests", "throughput", "study"):
        step = report[part]
        verdict = "stopped at its time limit" if step["timed_out"] else f"rc {step['returncode']}"
        lines.append(f"| {part} | {verdict} | {step['seconds']:.0f} |")
    lines += ["", f"Study profile `{report['profile']}`; data: {report['data']}.", ""]
    lines += [
        "| run | seed | batch | epochs | s/epoch (first, median) | val acc | test acc | "
        "total s | estimated s |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for row in report["runs"]:
        times = sorted(row["epoch_s"])
        median = times[len(times) // 2]
        estimated = f"{row['estimated_s']:.0f}" if row["estimated_s"] else "–"
        lines.append(
            f"| {row['key']} ({row['model']}) | {row['seed']} | {row['batch']} | {row['epochs']} "
            f"| {row['epoch_s'][0]:.1f}, {median:.1f} | {row['val_acc']:.2%} | "
            f"{row['test_acc']:.2%} | {row['total_s']:.0f} | {estimated} |"
        )
    whole = report["study_estimate"]
    lines += ["", whole["sentence"]]
    return "\n".join(lines) + "\n"


def whole_study(estimate: dict, runs: list[dict]) -> dict:
    """The runner's estimate of the whole study, scaled by how the finished runs compared
    with their own estimates (the median ratio)."""
    ratios = sorted(r["total_s"] / r["estimated_s"] for r in runs if r["estimated_s"])
    ratio = ratios[len(ratios) // 2] if ratios else None
    seconds = estimate.get("seconds")
    scaled = seconds * ratio if seconds and ratio else seconds
    if seconds is None:
        sentence = "The study's estimate was not written (the study stopped before it)."
    else:
        sentence = (
            f"Whole study on this machine: estimated {scaled / 60:.1f} min"
            + (
                f" (the runner's estimate {seconds / 60:.1f} min x {ratio:.2f}, the median ratio "
                f"of measured to estimated time over {len(ratios)} finished runs)"
                if ratio
                else " (no run finished to check the estimate against)"
            )
            + "."
        )
    return {"seconds": scaled, "runner_estimate_s": seconds, "ratio": ratio, "sentence": sentence}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", action="store_true", help="print the plan; run nothing")
    parser.add_argument("--data-dir", default=None, help="folder with mnist.npz, cifar10.npz")
    parser.add_argument("--out", default="benchmarks/results/gpu", help="report folder")
    parser.add_argument("--budget", type=int, default=BUDGET_S, help="seconds for it all")
    args = parser.parse_args(argv)
    minimum = TESTS_S + THROUGHPUT_S + MARGIN_S + 60
    if args.budget < minimum:
        parser.error(f"--budget must be at least {minimum} s (the study needs a minute)")
    if args.plan:
        print(plan_text(args.budget))
        return 0
    found = gpus()
    if not found:
        print(
            "gpu_check: no GPU found (TensorFlow lists none); this check measures the GPU path "
            "and has nothing to measure here. Nothing was run."
        )
        return 1
    start = time.perf_counter()
    from datetime import date

    import keras
    import tensorflow as tf

    from cnnbench.hardware import environment_info

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(plan_text(args.budget), flush=True)
    py = sys.executable
    tests = _run(
        [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", ACCELERATOR_TESTS],
        TESTS_S,
        out / "tests.log",
    )
    print(f"tests: {tests['tail'][-1:] or tests}", flush=True)
    throughput = _run(
        [py, "-m", "cnnbench", "bench", "--parts", "throughput", "--source", "sample"]
        + ["--output", str(out / "bench")],
        THROUGHPUT_S,
        out / "throughput.log",
    )
    print(f"throughput: {throughput['tail'][-1:]}", flush=True)

    profile = gpu_profile()
    # models and stand-in data (hundreds of MB) stay out of the report folder
    scratch = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    kinds = stand_in_data(args.data_dir, scratch / "data", profile)
    left = args.budget - (time.perf_counter() - start) - MARGIN_S
    study = _run(
        [py, "-m", "cnnbench", "run", "--profile", profile.name, "--data-dir"]
        + [str(scratch / "data"), "--artifacts", str(scratch / "artifacts")],
        max(30.0, left),
        out / "study.log",
    )
    study_dir = scratch / "artifacts" / profile.name
    estimate_file = study_dir / "estimate.json"
    estimate = json.loads(estimate_file.read_text()) if estimate_file.is_file() else {}
    runs = finished_runs(study_dir, estimate)
    report = {
        "date": date.today().isoformat(),
        "hardware": environment_info()["hardware"],
        "gpus": found,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "profile": profile.name,
        "data": ", ".join(f"{name} {kind}" for name, kind in kinds.items())
        + ("" if set(kinds.values()) == {"real"} else " (random: timing only)"),
        "tests": tests,
        "throughput": throughput,
        "study": study,
        "estimate": estimate,
        "runs": runs,
        "study_estimate": whole_study(estimate, runs),
        "total_s": time.perf_counter() - start,
    }
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "gpu_check.md").write_text(markdown(report))
    print(markdown(report))
    failed = tests["returncode"] != 0 or throughput["returncode"] != 0
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
