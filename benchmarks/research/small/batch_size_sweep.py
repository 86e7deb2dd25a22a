"""Validation accuracy vs batch size for `custom` + augmentation on the 25% CIFAR-10 sample.

docs/performance.md section 6 ("Sizing the recipe to the data"): "The 12,500-image sample with
augmentation, `custom`, 8 epochs, SGD one-cycle with the peak scaled linearly": batch 256 / 128
/ 64; raw runs of 256 and 128 in small/bs1.jsonl. SGD one-cycle with peak 0.2 x batch/256, the
25% stratified sample (seed 42) and its validation split; E epochs; SEED (default 0). Validation
only. One JSON line per batch size on stdout.

    python small/batch_size_sweep.py E BATCHES [SEED]
    python small/batch_size_sweep.py 8 256,128,64 0    (the docs' runs; from benchmarks/research,
                                                        data from $CNNBENCH_DATA_DIR)
"""

import json
import sys

from cnnbench import build_model, get_recipe, load_dataset, set_seed, train

E = int(sys.argv[1])
batches = [int(b) for b in sys.argv[2].split(",")]
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
ds = load_dataset("cifar10", sample_fraction=0.25, seed=42)
for b in batches:
    set_seed(seed)
    m = build_model("custom", ds.input_shape, ds.num_classes)
    rec = get_recipe("fast", batch_size=b, learning_rate=0.2 * b / 256)
    r = train(m, ds, epochs=E, recipe=rec, augment=True, verbose=0, seed=seed)
    row = {
        "E": E,
        "batch": b,
        "seed": seed,
        "val": [round(v, 4) for v in r.history["val_accuracy"]],
        "train_acc": round(r.history["accuracy"][-1], 4),
        "train_s": round(r.train_time_s, 1),
        "ips": round(r.images_per_second),
    }
    print(json.dumps(row), flush=True)
