"""Training (and inference) img/s of candidate architectures on random CIFAR-shaped uint8 data.

docs/performance.md section 2 ("Architecture throughput", the arch table) and section 3's
short-probe repeats (bf16 / XLA / threads). No augmentation; one warm-up epoch, then 2 timed
epochs of `--steps` batches. Architectures from `archs.py`. One `RESULT {json}` line per arch.

    python model_bench.py ARCH[,ARCH..] [--bs 128] [--bf16] [--xla] [--opt sgd|adam]
                          [--intra N --inter N] [--spe N] [--steps 40]

e.g. the arch table: `python model_bench.py ab16_32_64_128_pf,ab24_48_96_192_pf --bs 128`;
section 3's short-probe repeats, each run twice, OPTS one of "", "--bf16", "--intra 2 --inter 1",
"--bf16 --intra 2 --inter 1", "--bf16 --xla":
`python model_bench.py ab16_32_64_128_pf,ab24_48_96_192_pf,ab24_64_128_256_pf --steps 25 OPTS`
"""

import argparse
import json
import time

import keras
import numpy as np
import tensorflow as tf
from archs import ARCHS, flops

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("archs", help="comma-separated names from archs.ARCHS")
p.add_argument("--bs", type=int, default=128)
p.add_argument("--bf16", action="store_true", help="mixed_bfloat16 policy")
p.add_argument("--xla", action="store_true", help="jit_compile=True")
p.add_argument("--opt", default="sgd", help="sgd|adam")
p.add_argument("--intra", type=int, default=0, help="intra-op threads (0 = TF default)")
p.add_argument("--inter", type=int, default=0, help="inter-op threads (0 = TF default)")
p.add_argument("--spe", type=int, default=1, help="steps_per_execution")
p.add_argument("--steps", type=int, default=40, help="batches per epoch")
a = p.parse_args()

if a.intra:
    tf.config.threading.set_intra_op_parallelism_threads(a.intra)
if a.inter:
    tf.config.threading.set_inter_op_parallelism_threads(a.inter)
if a.bf16:
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
rng = np.random.default_rng(0)
n = a.bs * a.steps
x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
y = rng.integers(0, 10, n)
ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(a.bs).cache().prefetch(tf.data.AUTOTUNE)
for name in a.archs.split(","):
    keras.utils.set_random_seed(0)
    m = ARCHS[name]()
    if a.opt == "sgd":
        opt = keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True)
    else:
        opt = keras.optimizers.Adam(1e-3)
    m.compile(
        opt,
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=a.xla,
        steps_per_execution=a.spe,
    )
    m.fit(ds, epochs=1, verbose=0)
    t0 = time.perf_counter()
    m.fit(ds, epochs=2, verbose=0)
    ips = 2 * n / (time.perf_counter() - t0)
    t1 = time.perf_counter()
    m.predict(x, batch_size=512, verbose=0)
    infer_ips = n / (time.perf_counter() - t1)
    r = dict(
        arch=name,
        params=m.count_params(),
        mflops=round(flops(m) / 1e6, 1),
        bs=a.bs,
        bf16=a.bf16,
        xla=a.xla,
        opt=a.opt,
        intra=a.intra,
        inter=a.inter,
        spe=a.spe,
        train_ips=round(ips),
        infer_ips=round(infer_ips),
    )
    print("RESULT", json.dumps(r), flush=True)
