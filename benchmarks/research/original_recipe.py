"""The original recipe's training speed and validation accuracy per epoch (the baseline).

docs/performance.md section 5 ("Original recipe baseline"): custom_v2 (`archs.py`), Adam 1e-3,
batch 64, `ImageDataGenerator(rotation 15, shifts 0.1, hflip, zoom 0.1).flow`, sparse CE,
float32 inputs; the 25% stratified CIFAR-10 sample (12,500 images, seed 0) and 5,000 validation
images from the remainder (the split of `training_probe.py --subset 0.25`). One JSON line per
epoch (seconds, img/s, training and validation accuracy), then a `RESULT {json}` line.

    python original_recipe.py 20    (the table; the "earlier 3-epoch run": `... 3`; default 5)

Data from $CNNBENCH_DATA_DIR (default ../../../shared/data).
"""

import json
import os
import sys
import time

import keras
import numpy as np
from archs import custom_v2

# The public alias was removed in Keras 3.15; the original recipe needs the legacy class.
from keras.src.legacy.preprocessing.image import ImageDataGenerator

E = int(sys.argv[1]) if len(sys.argv) > 1 else 5
keras.utils.set_random_seed(0)
DATA = os.environ.get("CNNBENCH_DATA_DIR", "../../../shared/data")
d = np.load(os.path.join(DATA, "cifar10.npz"))
xtr, ytr = d["x_train"], d["y_train"].reshape(-1)
rng = np.random.default_rng(0)
tr, va = [], []
for c in range(10):
    idx = rng.permutation(np.flatnonzero(ytr == c))
    va.append(idx[:500])
    tr.append(idx[500:1750])
tr = rng.permutation(np.concatenate(tr))
va = np.concatenate(va)
xt, yt, xv, yv = xtr[tr].astype("float32"), ytr[tr], xtr[va], ytr[va]
m = custom_v2()
m.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
idg = ImageDataGenerator(
    rotation_range=15,
    width_shift_range=0.1,
    height_shift_range=0.1,
    horizontal_flip=True,
    zoom_range=0.1,
)
hist = []
total = 0.0
for e in range(E):
    t = time.perf_counter()
    h = m.fit(idg.flow(xt, yt, batch_size=64, seed=e), epochs=1, verbose=0)
    dt = time.perf_counter() - t
    total += dt
    v = float((m.predict(xv, batch_size=500, verbose=0).argmax(1) == yv).mean())
    hist.append(
        dict(
            ep=e + 1,
            t=round(dt, 1),
            ips=round(len(xt) / dt),
            acc=round(h.history["accuracy"][0], 4),
            val=v,
        )
    )
    print(json.dumps(hist[-1]), flush=True)
result = dict(tag="original_custom_v2_idg", train_time_s=round(total, 1), hist=hist)
print("RESULT", json.dumps(result))
