"""Steady-state training and inference throughput of a registry model under a Keras dtype policy.

    python precision_probe.py float32 custom
    python precision_probe.py mixed_bfloat16 custom

One process per policy (Keras sets the global policy before the model is built). Random images,
SGD, batch 128: one warm-up fit of 5 batches (tracing), then one timed epoch of 30 batches and
a timed predict of 2,048 images. Run the policies alternately, twice each, on an idle machine:
short probes like this one vary by up to 2x on a shared CPU (docs/performance.md, Setup).
"""

import sys
import time

import keras
import numpy as np

BATCH, STEPS, WARMUP_STEPS, PREDICT_IMAGES = 128, 30, 5, 2048


def main(policy: str, name: str) -> None:
    keras.mixed_precision.set_global_policy(policy)
    import tensorflow as tf

    from cnnbench import build_model

    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    model = build_model(name, (32, 32, 3), 10)
    model.compile(
        optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    rng = np.random.default_rng(0)
    x = rng.random((BATCH * STEPS, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    model.fit(x[: BATCH * WARMUP_STEPS], y[: BATCH * WARMUP_STEPS], batch_size=BATCH, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    train_s = time.perf_counter() - start
    start = time.perf_counter()
    model.predict(x[:PREDICT_IMAGES], batch_size=256, verbose=0)
    predict_s = time.perf_counter() - start
    print(
        f"{name} {policy}: train {len(x) / train_s:.0f} img/s, "
        f"predict {PREDICT_IMAGES / predict_s:.0f} img/s"
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
