"""alexnet on `pairs100` (100 classes, ~20 images a class): does any recipe leave chance?

docs/performance.md section 6, "Odd datasets": alexnet with AdamW 1e-3 at batch 64 without label
smoothing and with the peer's Adam 1e-3 at batch 64 (`alex_p100.py`, `small/alexp.jsonl`).
`pairs100` from small_data.py (two MNIST digits side by side, 28x56, 100 classes): a stratified
2,000-image subset (seed 0, 1,962 training images), 1,000 validation images from outside it,
3 epochs, seed 0. CANDS: `plain_b64_ls0` (AdamW one-cycle 1e-3, batch 64, no label smoothing),
`adam_c_b64_ls0` (Adam 1e-3 constant, batch 64), `plain_b128` (AdamW one-cycle 2e-3/sqrt(2),
batch 128). One JSON line per recipe on stdout.

    python small/alex_p100.py CANDS
    CNNBENCH_DATA_DIR=../../../shared/data python small/alex_p100.py \\
        plain_b64_ls0,adam_c_b64_ls0,plain_b128 > small/alexp.jsonl   (from benchmarks/research)
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for small_data.py
from small_data import odd_dataset

from cnnbench import build_model, get_recipe, set_seed, train
from cnnbench.data import from_arrays

full = odd_dataset("pairs100")
ds = from_arrays(
    full.x_train,
    full.y_train,
    full.x_test,
    full.y_test,
    class_names=full.class_names,
    name="pairs100",
    sample_fraction=2000 / 60000,
    seed=0,
    val_fraction=1000 / 60000,
    test_fraction=0.2,
)
CANDS = {
    "plain_b64_ls0": get_recipe(
        "fast_plain", batch_size=64, learning_rate=1e-3, label_smoothing=0.0
    ),
    "adam_c_b64_ls0": get_recipe("original", batch_size=64),
    "plain_b128": get_recipe("fast_plain", batch_size=128, learning_rate=2e-3 * 0.7071),
}
for k in sys.argv[1].split(","):
    set_seed(0)
    m = build_model("alexnet", ds.input_shape, ds.num_classes)
    r = train(m, ds, epochs=3, recipe=CANDS[k], verbose=0, seed=0)
    row = {
        "cand": k,
        "n": len(ds.x_train),
        "val": [round(v, 3) for v in r.history["val_accuracy"]],
        "train_acc": round(r.history["accuracy"][-1], 3),
    }
    print(json.dumps(row), flush=True)
