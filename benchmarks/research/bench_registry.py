"""Training img/s of the package's registry models on random data (no aug, SGD, bs 128, fp32).

docs/performance.md section 2, the "Registry models" table: one pass of 40 batches after a
5-batch warm-up, CIFAR-shaped (32x32x3) then MNIST-shaped (28x28x1), intra-op 2 / inter-op 1
threads. One `RESULT {json}` line per model and shape.

    python bench_registry.py custom_v1,custom_v2,custom_v3,alexnet,custom
"""

import json
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from cnnbench.models import build_model

tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(1)
for shape in [(32, 32, 3), (28, 28, 1)]:
    rng = np.random.default_rng(0)
    n = 128 * 40
    x = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(128).cache().prefetch(-1)
    for name in sys.argv[1].split(","):
        m = build_model(name, shape, 10)
        m.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy")
        m.fit(ds.take(5), verbose=0)
        t = time.perf_counter()
        m.fit(ds, verbose=0)
        dt = time.perf_counter() - t
        row = dict(model=name, shape=shape, params=m.count_params(), train_ips=round(n / dt))
        print("RESULT", json.dumps(row), flush=True)
