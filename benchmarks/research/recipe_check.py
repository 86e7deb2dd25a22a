"""Recipe per model family: python recipe_check.py MODELS RECIPES EPOCHS [aug], e.g.
`python recipe_check.py alexnet,custom_v2 sgd,adam 1` and `python recipe_check.py custom sgd,adam 3 aug`."""
import sys, time, json
from cnnbench import load_dataset, build_model, train, evaluate, set_seed, get_recipe
ds = load_dataset("cifar10", sample_fraction=1.0)  # data from $CNNBENCH_DATA_DIR
for model_name, recipe in [(m, r) for m in sys.argv[1].split(",") for r in sys.argv[2].split(",")]:
    rec = {"sgd": get_recipe("fast", optimizer="sgd", learning_rate=0.2, batch_size=256, warmup_fraction=0.2),
           "sgd05": get_recipe("fast", optimizer="sgd", learning_rate=0.05, batch_size=256, warmup_fraction=0.2),
           "adam": get_recipe("fast", optimizer="adamw", learning_rate=2e-3, batch_size=256, warmup_fraction=0.2, weight_decay=5e-4)}[recipe]
    set_seed(0); m = build_model(model_name, ds.input_shape, 10)
    r = train(m, ds, epochs=int(sys.argv[3]), recipe=rec, verbose=0, augment=len(sys.argv) > 4)
    e = evaluate(m, ds, timing=False)
    print(json.dumps({"model": model_name, "recipe": recipe, "val": r.history["val_accuracy"], "test": e.accuracy, "s": round(r.train_time_s), "ips": round(r.images_per_second)}), flush=True)
