"""Every default hyperparameter of cnnbench, in one place (airbench style).

Change a number here and the notebook, the CLI, the study runner and ``train()`` all follow.
The measurements behind the ``fast`` recipe are in ``docs/performance.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from cnnbench.errors import ConfigError

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "onecycle")


@dataclass(frozen=True)
class Recipe:
    """How a model is trained: optimiser, schedule, batch size, loss and compilation."""

    optimizer: str  # "sgd" (Nesterov momentum), "adam" or "adamw"
    learning_rate: float  # peak learning rate (after warm-up)
    batch_size: int  # global batch size (split across replicas under a strategy)
    epochs: int  # default epoch budget when train() is called without epochs=
    schedule: str = "constant"  # "constant", or "onecycle": linear warm-up then cosine decay
    warmup_fraction: float = 0.0  # share of all steps spent warming up (onecycle only)
    final_lr_fraction: float = 0.0  # the cosine decays to this fraction of the peak
    momentum: float = 0.9  # SGD momentum (Nesterov)
    weight_decay: float = 0.0  # decoupled weight decay (SGD/AdamW); 0 disables it
    label_smoothing: float = 0.0  # softens one-hot targets; helps short runs generalise
    jit_compile: str | bool = "auto"  # XLA: Keras' "auto" turns it on for GPUs, off for CPUs

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        for name in ("batch_size", "epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        for name in ("warmup_fraction", "final_lr_fraction", "label_smoothing"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {value!r}")
        if self.weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay!r}")

    def with_overrides(self, **overrides) -> Recipe:
        """A copy with some fields changed; unknown field names raise ConfigError."""
        unknown = sorted(set(overrides) - set(asdict(self)))
        if unknown:
            raise ConfigError(f"unknown recipe fields {unknown}; valid: {sorted(asdict(self))}")
        return replace(self, **overrides)

    def to_dict(self) -> dict:
        return asdict(self)


RECIPES = {
    # cnnbench's default: the fastest-converging recipe measured on a 2-core CPU
    # (docs/performance.md). One-cycle SGD with label smoothing converges in few epochs.
    "fast": Recipe(
        optimizer="sgd",
        learning_rate=0.05,  # peak; batch 128 with Nesterov momentum 0.9
        batch_size=128,  # large enough to keep 2 cores busy, small enough for many steps
        epochs=15,
        schedule="onecycle",
        warmup_fraction=0.15,  # short linear warm-up keeps early BatchNorm statistics sane
        final_lr_fraction=0.0,
        momentum=0.9,
        weight_decay=5e-4,
        label_smoothing=0.1,
    ),
    # The original study's recipe, kept as the baseline the benchmark compares against.
    "original": Recipe(optimizer="adam", learning_rate=1e-3, batch_size=64, epochs=30),
}


def get_recipe(recipe: str | Recipe = "fast", **overrides) -> Recipe:
    """Resolve a recipe name (or pass a Recipe through) and apply overrides."""
    if isinstance(recipe, Recipe):
        base = recipe
    elif recipe in RECIPES:
        base = RECIPES[recipe]
    else:
        raise ConfigError(f"unknown recipe {recipe!r}; valid: {sorted(RECIPES)}")
    return base.with_overrides(**overrides) if overrides else base


# The original study's ImageDataGenerator settings, reproduced with Keras preprocessing layers.
AUGMENTATION = {
    "rotation": 15.0,  # degrees, uniformly in [-15, 15]
    "translation": 0.1,  # fraction of height/width, in [-10%, 10%]
    "zoom": 0.1,  # fraction, in [-10%, 10%]
    "horizontal_flip": True,  # applied only where the dataset says flips preserve labels
    "fill_mode": "nearest",  # ImageDataGenerator's default border filling
}
