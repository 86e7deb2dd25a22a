"""How much alexnet's dropout holds it back on 500 CIFAR-10 images x 3 epochs (validation).

docs/performance.md section 6, "What nothing fixed": "Dropout is much of what holds it back
(`alexd`: dropout 0 reached 25.1% / 18.5% on two seeds)"; raw runs in small/alexd.jsonl.
alexnet with dropout 0 under Adam 1e-3 batch 64 (`original`) and AdamW one-cycle 1e-3 batch 32
(`fast_plain`), and with its own dropout 0.5 under Adam 1e-3 batch 64; seeds 0 and 1; a
stratified 500-image subset (seed 0), 1,000 validation images from outside it. One JSON line
per run on stdout. (small/alexd.jsonl's last two rows repeat its rows 5-6: the script then
listed that configuration twice.)

    python small/alex_drop.py > small/alexd.jsonl    (from benchmarks/research, data from
                                                      $CNNBENCH_DATA_DIR)
"""

import json

from cnnbench import build_model, get_recipe, load_dataset, set_seed, train

ds = load_dataset(
    "cifar10", sample_fraction=500 / 50000, seed=0, val_fraction=1000 / 50000, test_fraction=0.2
)
RUNS = [
    (0.0, get_recipe("original", batch_size=64)),
    (0.0, get_recipe("fast_plain", batch_size=32, learning_rate=1e-3)),
    (0.5, get_recipe("original", batch_size=64)),
]
for drop, rec in RUNS:
    for seed in (0, 1):
        set_seed(seed)
        m = build_model("alexnet", ds.input_shape, ds.num_classes, dropout=drop)
        r = train(m, ds, epochs=3, recipe=rec, verbose=0, seed=seed)
        row = {
            "drop": drop,
            "rec": rec.optimizer + str(rec.batch_size),
            "seed": seed,
            "val": [round(v, 3) for v in r.history["val_accuracy"]],
            "train_acc": round(r.history["accuracy"][-1], 3),
        }
        print(json.dumps(row), flush=True)
