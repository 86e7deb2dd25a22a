"""Can a data-dependent initialisation or a dropout curriculum let `alexnet` learn in few steps?

docs/performance.md section 6, "What nothing fixed" (the LSUV table) and "What fixed most of it:
curriculum dropout" (the ramp table and the custom_v1 / custom_v2 pairs); raw runs in
small/alex_init_dropout.jsonl. Final validation accuracy per run; the test set is not touched.

alexnet's architecture is fixed (7 weight layers, no BatchNorm, dropout 0.5 twice); on 500-2,000
images x 3 epochs `train()`'s defaults left it below the keras-io peer, at chance on the
smallest. KINDS (each KIND or MODEL:KIND, the model defaulting to alexnet): `auto` = auto's plan
with the dropout ramp off; `lsuv` = layer-sequential unit-variance initialisation (Mishkin &
Matas, "All you need is a good init", ICLR 2016): orthogonal weights, then each convolution and
hidden dense layer in turn rescaled until its output on 256 training images has unit variance,
otherwise `auto`; `ramp` = auto's plan with curriculum dropout (after Morerio et al.,
"Curriculum Dropout", ICCV 2017: every dropout layer's rate rises linearly per epoch from 0 to
its own at the last epoch, `Recipe.dropout_ramp`, which `recipe="auto"` now turns on for the
plain networks' short runs; the first runs used this script's own copy of that callback, before
it went into cnnbench.training.DropoutRamp); `peer` = the keras-io mnist_convnet with Adam 1e-3,
batch 128. Data as in small_data.py (stratified subset, seed 0; 1,000 validation images from
outside it). Appends one JSON line per run to OUT (not resumable: rerun into a new file).

    python alex_init_dropout.py OUT.jsonl DATASETS SIZES EPOCHS SEEDS KINDS

The docs' runs (from benchmarks/research, data from $CNNBENCH_DATA_DIR), OUT =
small/alex_init_dropout.jsonl:

    LSUV:  python alex_init_dropout.py OUT mnist,cifar10 500,2000 3 0,1 auto,lsuv,peer
    ramp:  python alex_init_dropout.py OUT mnist,cifar10 500,2000 3 0,1 ramp
           python alex_init_dropout.py OUT mnist,cifar10 500,2000 10 0,1 auto,ramp,peer
           python alex_init_dropout.py OUT mnist,cifar10 8000 3 0,1 auto,ramp,peer
           python alex_init_dropout.py OUT cifar10 12500 3 0,1 auto,ramp
    plain variants:
           python alex_init_dropout.py OUT mnist,cifar10 500,2000 3 0,1 \
               custom_v1:auto,custom_v1:ramp,custom_v2:auto,custom_v2:ramp
           python alex_init_dropout.py OUT cifar10 12500 3 0,1 custom_v2:auto,custom_v2:ramp
"""

import json
import sys
from pathlib import Path

import keras
import numpy as np
from small_data import TOTALS, peer

from cnnbench import build_model, get_recipe, load_dataset, set_seed, train
from cnnbench.training import plan_recipe


def flat_layers(layer):
    """The leaf layers of a (nested) model in call order, without InputLayers."""
    if isinstance(layer, keras.Model):
        return [leaf for sub in layer.layers for leaf in flat_layers(sub)]
    return [] if isinstance(layer, keras.layers.InputLayer) else [layer]


def lsuv(model, x, tol=0.05, max_iter=10):
    """Orthogonal init, then scale each hidden conv/dense layer to unit output variance on x."""
    h = keras.ops.convert_to_tensor(x.astype("float32"))
    for layer in flat_layers(model):
        hidden = isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
        if hidden and layer.name != "predictions":
            kernel, bias = layer.get_weights()
            kernel = np.asarray(keras.initializers.Orthogonal(seed=0)(kernel.shape))
            for _ in range(max_iter):
                layer.set_weights([kernel, np.zeros_like(bias)])
                var = float(keras.ops.var(layer(h)))
                if abs(var - 1) < tol:
                    break
                kernel = kernel / np.sqrt(var)
        h = layer(h, training=False) if isinstance(layer, keras.layers.Dropout) else layer(h)


out = Path(sys.argv[1])
datasets, sizes, epoch_list, seeds, kinds = (a.split(",") for a in sys.argv[2:7])
for name in datasets:
    for n in map(int, sizes):
        ds = load_dataset(
            name,
            sample_fraction=n / TOTALS[name],
            seed=0,
            val_fraction=1000 / TOTALS[name],
            test_fraction=0.2,
        )
        for epochs in map(int, epoch_list):
            for seed in map(int, seeds):
                for run in kinds:  # KIND or MODEL:KIND (the model defaults to alexnet)
                    model_name, _, kind = run.rpartition(":")
                    model_name = model_name or "alexnet"
                    set_seed(seed)
                    if kind == "peer":
                        model, recipe = (
                            peer(ds.input_shape, ds.num_classes),
                            get_recipe("original", batch_size=128),
                        )
                    else:  # auto's plan, its dropout ramp on (`ramp`) or off (the rest)
                        model = build_model(model_name, ds.input_shape, ds.num_classes)
                        recipe = plan_recipe("auto", model, len(ds.x_train), epochs=epochs).recipe
                        recipe = recipe.with_overrides(dropout_ramp=kind == "ramp")
                    if kind == "lsuv":
                        lsuv(model, ds.x_train[:256])
                    r = train(model, ds, epochs=epochs, recipe=recipe, seed=seed, verbose=0)
                    row = {
                        "dataset": name,
                        "n": n,
                        "epochs": epochs,
                        "seed": seed,
                        "kind": kind,
                        **({"model": model_name} if model_name != "alexnet" else {}),
                        "batch": r.config["batch_size"],
                        "val": round(r.history["val_accuracy"][-1], 4),
                        "val_curve": [round(v, 3) for v in r.history["val_accuracy"]],
                        "train_s": round(r.train_time_s, 1),
                    }
                    print(json.dumps(row), flush=True)
                    with out.open("a") as f:
                        f.write(json.dumps(row) + "\n")
