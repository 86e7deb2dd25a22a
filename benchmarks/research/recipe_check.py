"""SGD vs AdamW one-cycle per model family: test accuracy through the package's own `train()`.

docs/performance.md section "What went into cnnbench", "Recipe per model family": the table of
SGD peak 0.2 vs AdamW peak 2e-3 (same one-cycle, batch 256, 20% warm-up) on all 45,000 CIFAR-10
training images, seed 0. RECIPES: `sgd` (peak 0.2), `sgd05` (peak 0.05), `adam` (AdamW 2e-3,
wd 5e-4); a 4th argument turns on the package's augmentation. One JSON line per (model, recipe).

    python recipe_check.py MODELS RECIPES EPOCHS [aug]
    python recipe_check.py alexnet,custom_v2 sgd,adam 1     (the plain networks' rows)
    python recipe_check.py custom sgd,adam 3 aug            (the `custom` row)

Data from $CNNBENCH_DATA_DIR.
"""

import json
import sys

from cnnbench import build_model, evaluate, get_recipe, load_dataset, set_seed, train

RECIPES = {
    "sgd": dict(optimizer="sgd", learning_rate=0.2),
    "sgd05": dict(optimizer="sgd", learning_rate=0.05),
    "adam": dict(optimizer="adamw", learning_rate=2e-3, weight_decay=5e-4),
}
models, recipes, epochs = sys.argv[1].split(","), sys.argv[2].split(","), int(sys.argv[3])
augment = len(sys.argv) > 4
ds = load_dataset("cifar10", sample_fraction=1.0)
for model_name in models:
    for recipe in recipes:
        rec = get_recipe("fast", batch_size=256, warmup_fraction=0.2, **RECIPES[recipe])
        set_seed(0)
        m = build_model(model_name, ds.input_shape, 10)
        r = train(m, ds, epochs=epochs, recipe=rec, verbose=0, augment=augment)
        e = evaluate(m, ds, timing=False)
        row = {
            "model": model_name,
            "recipe": recipe,
            "val": r.history["val_accuracy"],
            "test": e.accuracy,
            "s": round(r.train_time_s),
            "ips": round(r.images_per_second),
        }
        print(json.dumps(row), flush=True)
