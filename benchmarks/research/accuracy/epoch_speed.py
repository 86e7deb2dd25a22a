"""Seconds an epoch of ``train()`` with the package's ``custom``, by batch size.

Is an epoch of today's ``custom`` (830k parameters, 119 MFLOPs an image) bound by the optimizer
steps (then a larger batch would make the defaults' epochs cheaper) or by the arithmetic (then
only fewer images seen can)? Trains ``custom`` for 2 epochs at each batch size given, with
``train()``'s recipe otherwise (``recipe="auto"`` with the batch given: its peak learning rate as
the ``fast`` recipe has it, batch 256's) on the 25% CIFAR-10 sample (JPEG-derived copy, seed-42
sample, 12,500 training and 5,000 validation images), and prints each epoch's training phase and
whole epoch (validation included), from ``TrainResult.train_phase_s`` / ``epoch_times_s``. The
first epoch includes tracing; the second is the steady state. Run it on an otherwise idle
machine; from the repository root::

    export CNNBENCH_DATA_DIR=../shared/data
    python benchmarks/research/accuracy/epoch_speed.py 64,128,256 original
"""

from __future__ import annotations

import sys


def main(batches: str, policies: str) -> None:
    from cnnbench import build_model, environment_info, load_dataset, set_seed, train

    ds = load_dataset("cifar10", sample_fraction=0.25, seed=42)  # from $CNNBENCH_DATA_DIR
    print(environment_info()["hardware"])
    print("| batch | policy | training phase s (epoch 1, 2) | whole epoch s (epoch 1, 2) |")
    print("|---:|---|---|---|")
    for batch in map(int, batches.split(",")):
        for policy in policies.split(","):
            set_seed(0)
            model = build_model("custom", ds.input_shape, ds.num_classes)
            run = train(
                model,
                ds,
                epochs=2,
                batch_size=batch,
                augment=True,
                augment_policy=policy,
                seed=0,
                verbose=0,
            )
            phase = ", ".join(f"{t:.1f}" for t in run.train_phase_s)
            whole = ", ".join(f"{t:.1f}" for t in run.epoch_times_s)
            print(f"| {batch} | {policy} | {phase} | {whole} |", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
