"""One-off, run once on 2026-11-30: record the dropout-ramp setting in the committed standard
study's results, which were trained before the setting existed.

`recipe="auto"` ramps a plain network's dropout only in runs short of AUTO_SIZING.min_steps
(750); every standard-profile run has thousands of steps, so under the current code each would
train exactly as it did. For each seed run this script checks that (the recipe planned now for
the run's model, images and epochs equals the one it trained with, apart from the reason text,
and does not ramp), then adds what the current code records: `dropout_ramp: false` in the
trained recipe and in the profile's recipes, and the sizing rule's `dropout_ramp` families.
Without it `report` and `run` treat every result as another configuration's.
"""

import json
from dataclasses import asdict
from pathlib import Path

import keras

from cnnbench.config import AUTO_SIZING
from cnnbench.models import build_model
from cnnbench.training import plan_recipe

SHAPES = {"cifar10": (32, 32, 3), "mnist": (28, 28, 1)}
root = Path(__file__).resolve().parents[1] / "results" / "studies" / "standard"
for path in sorted(root.glob("*/*/seed_*/result.json")):
    result = json.loads(path.read_text())
    config, trained = result["config"], result["train"]["config"]
    keras.backend.clear_session()
    model = build_model(config["model"], SHAPES[config["dataset"]], 10)
    plan = plan_recipe("auto", model, trained["train_images"], epochs=config["epochs"]).to_dict()
    recorded = {k: v for k, v in trained["recipe"].items() if k != "reason"}
    assert not plan["dropout_ramp"], path
    assert {k: v for k, v in plan.items() if k not in ("reason", "dropout_ramp")} == recorded, path
    trained["recipe"]["dropout_ramp"] = False
    for name in ("fast", "fast_plain"):
        config["recipe"][name]["dropout_ramp"] = False
    config["recipe"]["sizing"]["dropout_ramp"] = list(asdict(AUTO_SIZING)["dropout_ramp"])
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{path.relative_to(root)}: recorded, {trained['recipe']['batch_size']=}")
