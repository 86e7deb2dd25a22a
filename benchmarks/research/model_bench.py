"""Training throughput (img/s) of candidate archs on random uint8 CIFAR-shaped data, no augmentation.
Usage: python model_bench.py ARCH[,ARCH..] [--bs 128] [--bf16] [--xla] [--opt sgd|adam] [--intra N --inter N] [--spe N]"""
import argparse, os, time, json
p = argparse.ArgumentParser(); p.add_argument("archs"); p.add_argument("--bs", type=int, default=128)
p.add_argument("--bf16", action="store_true"); p.add_argument("--xla", action="store_true")
p.add_argument("--opt", default="sgd"); p.add_argument("--intra", type=int, default=0); p.add_argument("--inter", type=int, default=0)
p.add_argument("--spe", type=int, default=1); p.add_argument("--steps", type=int, default=40)
a = p.parse_args()
import numpy as np, tensorflow as tf, keras
if a.intra: tf.config.threading.set_intra_op_parallelism_threads(a.intra)
if a.inter: tf.config.threading.set_inter_op_parallelism_threads(a.inter)
if a.bf16: keras.mixed_precision.set_global_policy("mixed_bfloat16")
from archs import ARCHS, flops
rng = np.random.default_rng(0)
n = a.bs * a.steps
x = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8); y = rng.integers(0, 10, n)
ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(a.bs).cache().prefetch(tf.data.AUTOTUNE)
for name in a.archs.split(","):
    keras.utils.set_random_seed(0)
    m = ARCHS[name]()
    opt = keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True) if a.opt == "sgd" else keras.optimizers.Adam(1e-3)
    m.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=a.xla, steps_per_execution=a.spe)
    m.fit(ds, epochs=1, verbose=0)
    t0 = time.perf_counter(); m.fit(ds, epochs=2, verbose=0); dt = time.perf_counter() - t0
    ips = 2 * n / dt
    # inference throughput
    t1 = time.perf_counter(); m.predict(x, batch_size=512, verbose=0); it = n / (time.perf_counter() - t1)
    r = dict(arch=name, params=m.count_params(), mflops=round(flops(m)/1e6, 1), bs=a.bs, bf16=a.bf16, xla=a.xla, opt=a.opt,
             intra=a.intra, inter=a.inter, spe=a.spe, train_ips=round(ips), infer_ips=round(it))
    print("RESULT", json.dumps(r), flush=True)
