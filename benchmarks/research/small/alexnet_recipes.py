"""Validation accuracy of a plain network under many optimizer/batch recipes on N CIFAR-10 images.

docs/performance.md section 6, findings "Plain networks need larger batches" and "What nothing
fixed": alexnet at batch 8-128 with Adam/AdamW 3e-4 to 3e-3, constant or one-cycle, with or
without label smoothing, and SGD (raw runs small/alex1.jsonl - alex4.jsonl). A stratified
N-image CIFAR-10 subset (seed 0), 1,000 validation images from outside it, seed 0, E epochs;
CANDS (default: all of `CANDS` below) names the recipes. One JSON line per recipe on stdout.

    python small/alexnet_recipes.py N E [MODEL] [CANDS]

The docs' runs (from benchmarks/research, data from $CNNBENCH_DATA_DIR):

    python small/alexnet_recipes.py 500 3 alexnet adam1e3_b16_nols,adam1e3_b32_nols,adam3e4_b16,\
adamw_oc1e3_b32_w0.05,adam1e3_b64_nols,sgd_oc0.05_b32 > small/alex1.jsonl
    python small/alexnet_recipes.py 500 3 alexnet adam1e3_b8,adam5e4_b8,adamw_oc2e3_b8_w0.1,\
sgd_c0.01_b16 > small/alex2.jsonl
    python small/alexnet_recipes.py 500 3 alexnet adam1e3_b128,adam2e3_b64,adam5e4_b64,\
adam1e3_b64_ls > small/alex3.jsonl
    python small/alexnet_recipes.py 2000 10 alexnet adam1e3_b64_nols > small/alex4.jsonl
"""

import json
import sys
import time

from cnnbench import build_model, get_recipe, load_dataset, set_seed, train

n = int(sys.argv[1])
E = int(sys.argv[2])
model_name = sys.argv[3] if len(sys.argv) > 3 else "alexnet"
ds = load_dataset(
    "cifar10", sample_fraction=n / 50000, seed=0, val_fraction=1000 / 50000, test_fraction=0.2
)
plain, original, fast = "fast_plain", "original", "fast"
sgd_c = dict(schedule="constant", warmup_fraction=0.0, label_smoothing=0.0)
CANDS = {
    "adamw_oc1e3_b64": get_recipe(plain, batch_size=64, learning_rate=1e-3),
    "adamw_oc2e3_b128": get_recipe(plain, batch_size=128, learning_rate=2e-3),
    "adamw_oc1e3_b64_nols": get_recipe(
        plain, batch_size=64, learning_rate=1e-3, label_smoothing=0.0
    ),
    "adam1e3_b128": get_recipe(original, batch_size=128),
    "adam2e3_b64": get_recipe(original, batch_size=64, learning_rate=2e-3),
    "adam5e4_b64": get_recipe(original, batch_size=64, learning_rate=5e-4),
    "adam1e3_b64_ls": get_recipe(original, batch_size=64, label_smoothing=0.1),
    "adam1e3_b8": get_recipe(original, batch_size=8),
    "adam5e4_b8": get_recipe(original, batch_size=8, learning_rate=5e-4),
    "adamw_oc2e3_b8_w0.1": get_recipe(
        plain, batch_size=8, learning_rate=2e-3, warmup_fraction=0.1, label_smoothing=0.0
    ),
    "sgd_c0.01_b16": get_recipe(fast, batch_size=16, learning_rate=0.01, weight_decay=0.0, **sgd_c),
    "adam1e3_b16_nols": get_recipe(original, batch_size=16),
    "adam1e3_b32_nols": get_recipe(original, batch_size=32),
    "adam3e4_b16": get_recipe(original, batch_size=16, learning_rate=3e-4),
    "adamw_oc1e3_b32_w0.05": get_recipe(
        plain, batch_size=32, learning_rate=1e-3, warmup_fraction=0.05, label_smoothing=0.0
    ),
    "adam1e3_b64_nols": get_recipe(original, batch_size=64),
    "sgd_oc0.05_b32": get_recipe(fast, batch_size=32, learning_rate=0.05),
}
only = sys.argv[4].split(",") if len(sys.argv) > 4 else list(CANDS)
for k in only:
    set_seed(0)
    m = build_model(model_name, ds.input_shape, ds.num_classes)
    t = time.perf_counter()
    r = train(m, ds, epochs=E, recipe=CANDS[k], verbose=0)
    row = {
        "n": n,
        "E": E,
        "model": model_name,
        "cand": k,
        "val": [round(v, 3) for v in r.history["val_accuracy"]],
        "train_acc": round(r.history["accuracy"][-1], 3),
        "s": round(time.perf_counter() - t, 1),
    }
    print(json.dumps(row), flush=True)
