"""cnnbench: lightweight CNNs vs. an AlexNet-style network on MNIST and CIFAR-10.

from cnnbench import load_dataset, build_model, train, evaluate
ds = load_dataset("cifar10", sample_fraction=0.25, seed=42)
model = build_model("custom", ds.input_shape, ds.num_classes)
run = train(model, ds, epochs=15, augment=True, seed=42)
ev = evaluate(model, ds)  # on the test split
"""

from cnnbench.quiet import import_tensorflow_quietly

import_tensorflow_quietly()  # before anything imports TensorFlow with its start-up noise

from cnnbench.config import RECIPES, Recipe, get_recipe
from cnnbench.data import Dataset, from_arrays, from_directory, load_dataset
from cnnbench.evaluation import EvalResult, count_flops, evaluate
from cnnbench.hardware import environment_info
from cnnbench.models import build_model, count_params, list_models, register_model
from cnnbench.training import TrainResult, configure_precision, set_seed, train

__version__ = "0.1.0"

__all__ = [
    "RECIPES",
    "Dataset",
    "EvalResult",
    "Recipe",
    "TrainResult",
    "build_model",
    "configure_precision",
    "count_flops",
    "count_params",
    "environment_info",
    "evaluate",
    "from_arrays",
    "from_directory",
    "get_recipe",
    "list_models",
    "register_model",
    "load_dataset",
    "set_seed",
    "train",
]
