"""Original recipe baseline: custom_v2, Adam 1e-3, batch 64, ImageDataGenerator(rot15, shift .1, hflip, zoom .1).
25% stratified CIFAR-10 sample (12,500), val 5,000 from the remainder. Usage: python original.py EPOCHS"""
import os
import sys, time, json, os
import numpy as np, tensorflow as tf, keras
from keras.src.legacy.preprocessing.image import ImageDataGenerator
sys.path.insert(0, os.path.dirname(__file__)); from archs import custom_v2
E = int(sys.argv[1]) if len(sys.argv) > 1 else 5
keras.utils.set_random_seed(0)
DATA = os.environ.get("CNNBENCH_DATA_DIR", "../../../shared/data")
d = np.load(os.path.join(DATA, "cifar10.npz")); xtr, ytr = d["x_train"], d["y_train"].reshape(-1)
rng = np.random.default_rng(0); tr, va = [], []
for c in range(10):
    idx = rng.permutation(np.flatnonzero(ytr == c)); va.append(idx[:500]); tr.append(idx[500:1750])
tr = rng.permutation(np.concatenate(tr)); va = np.concatenate(va)
xt, yt, xv, yv = xtr[tr].astype("float32"), ytr[tr], xtr[va], ytr[va]
m = custom_v2(); m.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
idg = ImageDataGenerator(rotation_range=15, width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True, zoom_range=0.1)
hist = []; T = 0
for e in range(E):
    t = time.perf_counter(); h = m.fit(idg.flow(xt, yt, batch_size=64, seed=e), epochs=1, verbose=0); dt = time.perf_counter() - t; T += dt
    v = float((m.predict(xv, batch_size=500, verbose=0).argmax(1) == yv).mean())
    hist.append(dict(ep=e+1, t=round(dt, 1), ips=round(len(xt)/dt), acc=round(h.history["accuracy"][0], 4), val=v)); print(json.dumps(hist[-1]), flush=True)
print("RESULT", json.dumps(dict(tag="original_custom_v2_idg", train_time_s=round(T,1), hist=hist)))
