"""alexnet with He instead of Glorot initialisation on 500 CIFAR-10 images x 3 epochs.

docs/performance.md section 6, "What nothing fixed": "He instead of Glorot initialisation
(`alexi`)"; raw runs in small/alexi.jsonl. The package's shipped CIFAR-10 sample
(`source="sample"`: 500 of its 1,000 training images, seed 42, and 300 validation images from
the other 500; its 300 test images), AdamW one-cycle 1e-3 and Adam 1e-3, batch 64, seeds 0 and
1; every hidden conv/dense kernel redrawn from HeNormal for `he`. Validation accuracy per epoch
and final test accuracy, one JSON line per run on stdout.

    python small/alex_init.py > small/alexi.jsonl    (from benchmarks/research)
"""

import json

import keras

from cnnbench import build_model, evaluate, get_recipe, load_dataset, set_seed, train

ds = load_dataset("cifar10", source="sample", sample_fraction=500 / 1000, val_fraction=0.3, seed=42)


def he(m):
    """Redraw every hidden conv/dense kernel of m from HeNormal."""
    for layer in m._flatten_layers():
        hidden = isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
        if hidden and layer.name != "predictions":
            layer.kernel.assign(keras.initializers.HeNormal()(layer.kernel.shape))
    return m


RECIPES = [
    ("adamw_oc1e3_b64", get_recipe("fast_plain", batch_size=64, learning_rate=1e-3)),
    ("adam1e3_b64", get_recipe("original", batch_size=64)),
]
for init in ("glorot", "he"):
    for rec_name, rec in RECIPES:
        for seed in (0, 1):
            set_seed(seed)
            m = build_model("alexnet", ds.input_shape, 10)
            if init == "he":
                he(m)
            r = train(m, ds, epochs=3, recipe=rec, verbose=0, seed=seed)
            row = {
                "init": init,
                "rec": rec_name,
                "seed": seed,
                "n": len(ds.x_train),
                "val": [round(v, 3) for v in r.history["val_accuracy"]],
                "test": round(evaluate(m, ds, timing=False).accuracy, 3),
            }
            print(json.dumps(row), flush=True)
