"""alexnet's validation accuracy under Adam/AdamW/SGD recipes on 500 images of the shipped sample.

docs/performance.md section 6, "What nothing fixed" (alexnet on 500 images x 3 epochs, `alexm`:
the MNIST rows); raw runs in small/alexm.jsonl. DATASET's shipped sample (`source="sample"`,
mnist or cifar10): 500 training images (seed 42) and 300 validation images from outside them;
3 epochs, seeds 0 and 1; CANDS (default: all of `CANDS` below) names the recipes (`auto` =
recipe="auto"). One JSON line per run on stdout.

    python small/alex_mnist.py DATASET [CANDS]
    python small/alex_mnist.py mnist auto,adam3e3_b128,adam1e3_b128,adamw_oc3e3_b64_w.1 \\
        > small/alexm.jsonl    (the file's runs; from benchmarks/research)
"""

import json
import sys

from cnnbench import build_model, get_recipe, load_dataset, set_seed, train

name = sys.argv[1]
total = 6000 if name == "mnist" else 1000  # the shipped sample's training images
ds = load_dataset(
    name, source="sample", sample_fraction=500 / total, val_fraction=300 / total, seed=42
)
CANDS = {
    "auto": "auto",
    "adam3e3_b128": get_recipe("original", batch_size=128, learning_rate=3e-3),
    "adam1e3_b128": get_recipe("original", batch_size=128),
    "adamw_oc3e3_b64_w.1": get_recipe(
        "fast_plain", batch_size=64, learning_rate=3e-3, warmup_fraction=0.1, label_smoothing=0.0
    ),
    "adamw_oc2e3_b128_w.1": get_recipe(
        "fast_plain", batch_size=128, learning_rate=2e-3, warmup_fraction=0.1
    ),
    "adam1e3_b32": get_recipe("original", batch_size=32),
    "sgd_c0.05_b32": get_recipe(
        "fast",
        batch_size=32,
        learning_rate=0.05,
        schedule="constant",
        warmup_fraction=0.0,
        label_smoothing=0.0,
    ),
}
only = sys.argv[2].split(",") if len(sys.argv) > 2 else list(CANDS)
for k in only:
    for seed in (0, 1):
        set_seed(seed)
        m = build_model("alexnet", ds.input_shape, ds.num_classes)
        r = train(m, ds, epochs=3, recipe=CANDS[k], verbose=0, seed=seed)
        row = {
            "ds": name,
            "cand": k,
            "seed": seed,
            "val": [round(v, 3) for v in r.history["val_accuracy"]],
        }
        print(json.dumps(row), flush=True)
