"""The recipe per model family, chosen on validation: SGD vs AdamW one-cycle for plain networks.

docs/performance.md section 7, "The recipe family of plain networks, redone on validation" (the
alexnet / custom_v2 table); raw runs in small/plain_recipe_val.jsonl (one JSON line per run is
appended). Each plain (no BatchNorm) model the study trains, on the 25% CIFAR-10 sample, with
`fast` (SGD one-cycle) and `fast_plain` (AdamW one-cycle) sized to the data exactly as
`recipe="auto"` sizes them (same batch and epochs for both), seeds 0..SEEDS-1. Reports
validation accuracy only (the test set is not evaluated).

    python plain_recipe_val.py EPOCHS SEEDS
    python plain_recipe_val.py 3 3      (the table; from benchmarks/research, data from
                                         $CNNBENCH_DATA_DIR)
"""

import json
import sys
from pathlib import Path

from cnnbench import build_model, load_dataset, set_seed, train
from cnnbench.training import plan_recipe

epochs, seeds = int(sys.argv[1]), int(sys.argv[2])
ds = load_dataset("cifar10", sample_fraction=0.25, seed=42)  # data from $CNNBENCH_DATA_DIR
out = Path(__file__).parent / "small" / "plain_recipe_val.jsonl"
for seed in range(seeds):
    for model_name in ("alexnet", "custom_v2"):
        set_seed(seed)
        probe = build_model(model_name, ds.input_shape, ds.num_classes)
        auto = plan_recipe("auto", probe, len(ds.x_train), epochs=epochs)  # fast_plain, sized
        for name in ("fast", "fast_plain"):
            sized = plan_recipe(name, probe, len(ds.x_train), epochs=epochs)
            # the auto batch, and the learning rate scaled as auto scales each family's
            scale = auto.recipe.batch_size / sized.recipe.batch_size
            lr = sized.recipe.learning_rate * (scale if name == "fast" else scale**0.5)
            recipe = sized.recipe.with_overrides(
                batch_size=auto.recipe.batch_size, learning_rate=lr
            )
            set_seed(seed)
            model = build_model(model_name, ds.input_shape, ds.num_classes)
            run = train(model, ds, recipe=recipe, seed=seed, verbose=0)
            row = {
                "model": model_name,
                "recipe": name,
                "seed": seed,
                "epochs": epochs,
                "batch": recipe.batch_size,
                "peak_lr": lr,
                "val": run.history["val_accuracy"],
                "final_val": run.history["val_accuracy"][-1],
                "s": round(run.train_time_s),
            }
            print(json.dumps(row), flush=True)
            with out.open("a") as f:
                f.write(json.dumps(row) + "\n")
