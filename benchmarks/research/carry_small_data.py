"""One-off, run once on 2026-11-30 before `python -m cnnbench bench --parts small_data`: carry the
committed small-data runs whose training the dropout ramp does not change
into the bench's resume file (benchmarks/results/small_data.progress.jsonl), so the bench
retrained only the runs that ramp (40 of 72).

A row is carried when its recipe, planned again with the current code, equals the stored one
plus `dropout_ramp: False` (the field did not exist when it ran, and off is what it trained with).
"""
import json
from pathlib import Path

import keras

from cnnbench.bench import PEER_RECIPE, peer_convnet
from cnnbench.config import get_recipe
from cnnbench.models import build_model
from cnnbench.training import plan_recipe

root = Path(__file__).resolve().parents[1] / "results"  # benchmarks/results
rows = json.loads((root / "small_data.json").read_text())["small_data"]
carried = retrain = 0
with (root / "small_data.progress.jsonl").open("w") as out:
    for row in rows:
        keras.backend.clear_session()
        shape, classes = tuple(row["input_shape"]), round(1 / row["chance"])
        if row["peer"]:
            model, recipe = peer_convnet(shape, classes), get_recipe("original", **PEER_RECIPE)
        else:
            model, recipe = build_model(row["model"], shape, classes), "auto"
        plan = plan_recipe(recipe, model, row["train_images"], epochs=row["epochs"]).to_dict()
        if plan == {**row["recipe"], "dropout_ramp": False}:
            out.write(json.dumps({**row, "recipe": plan}) + "\n")
            carried += 1
        else:
            assert plan["dropout_ramp"], (row["model"], plan, row["recipe"])
            retrain += 1
print(f"carried {carried}, to retrain {retrain}")
