"""A study as a declared grid, and the experiments it expands to.

A :class:`StudySpec` says which models are compared on which datasets, under which training
conditions (without augmentation, with the original study's augmentation, and targeted
augmentation of the best augmented model) and on which shares of the training images. One
runner (:mod:`cnnbench.runner`) executes any spec; the named ones are in :data:`STUDIES`::

    spec = get_study("original")                       # the default: a full factorial
    spec = get_study("original", models=["custom", my_builder])   # a grid of your own

Models are registry names (:func:`cnnbench.models.register_model` adds yours) or builders
``builder(input_shape, num_classes) -> keras.Model``, registered under their ``__name__``.
:data:`CHOSEN_VARIANT` stands for the custom variant chosen on validation first.

Every cell of the grid is an :class:`Experiment`, named for what it trains (``custom``,
``custom+aug``, ``custom+aug+oversample``, ``custom+aug@10pct``, ``variant_custom_v2``) and
labelled the same way everywhere (:func:`label`: ``custom + aug``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from cnnbench.checks import check_fraction
from cnnbench.config import TARGETED_METHODS
from cnnbench.errors import ConfigError
from cnnbench.models import BUILT_IN, list_models, register_model

VARIANTS = ("custom_v1", "custom_v2", "custom_v3")  # the original study's custom variants
CHOSEN_VARIANT = "chosen_variant"  # in StudySpec.models: the variant chosen on validation
SELECTION_DATASET = "cifar10"  # where the original study chose its variant (else the first)
CONDITIONS = ("none", "original")  # without augmentation / with the original study's
AUGMENT_POLICY = "original"  # train()'s policy for every augmented cell
IMAGES = "images"  # the dataset name a study on an image folder runs under in profiles
DISPLAY_NAMES = {
    "cifar10": "CIFAR-10",
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar100": "CIFAR-100",
}


def display_name(dataset: str) -> str:
    return DISPLAY_NAMES.get(dataset, dataset)


@dataclass(frozen=True)
class StudySpec:
    """Which cells a study trains; every cell is trained once per seed of the profile.

    Every model is trained under every condition in ``conditions`` at every fraction, at the
    same epochs, batch, recipe and seeds, so each model's plain and augmented cells are a
    paired comparison.
    """

    name: str  # artifacts folder: <artifacts>/<profile> for "original", else <name>_<profile>
    description: str = field(compare=False)
    models: tuple  # registry names, CHOSEN_VARIANT, or builders (registered by __name__)
    datasets: tuple = ("cifar10", "mnist")  # the default datasets (run_study(datasets=) overrides)
    variants: tuple = ()  # the candidates CHOSEN_VARIANT is chosen among (on validation)
    conditions: tuple = CONDITIONS  # "none" and/or "original" (augmentation)
    # Targeted augmentation of the best augmented model: True on every dataset the study
    # trains, or the datasets to do it on (e.g. ("cifar10",)), or False for none.
    targeted: bool | tuple = False
    fractions: tuple = (1.0,)  # shares of each class's training images, one cell each
    sample_fraction: float | None = None  # the data's sample fraction (None: the profile's)
    images: bool = False  # trains on an image folder (run_study(images=...)), not named datasets
    image_size: tuple = (32, 32)  # (height, width) an image folder's images are resized to

    def __post_init__(self):
        owner = f"study {self.name!r}"
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ConfigError(f"study name must be a plain identifier, got {self.name!r}")
        models = tuple(self.models) if isinstance(self.models, (list, tuple)) else (self.models,)
        object.__setattr__(self, "models", tuple(_model_name(m, owner) for m in models))
        object.__setattr__(self, "image_size", tuple(self.image_size))
        for name in ("datasets", "variants", "conditions", "fractions"):
            value = getattr(self, name)
            object.__setattr__(self, name, (value,) if isinstance(value, str) else tuple(value))
        if not self.models or len(set(self.models)) != len(self.models):
            raise ConfigError(f"{owner}: models must be distinct and at least one, got {models}")
        if (CHOSEN_VARIANT in self.models) != bool(self.variants):
            raise ConfigError(
                f"{owner}: {CHOSEN_VARIANT!r} among the models needs variants to choose from, "
                "and variants need it"
            )
        both = [v for v in self.variants if v in self.models]
        if both:
            raise ConfigError(
                f"{owner}: {both} are variants to choose among and models compared as well; "
                f"compare them through {CHOSEN_VARIANT!r} or drop them from the variants"
            )
        bad = [c for c in self.conditions if c not in CONDITIONS]
        if not self.conditions or bad or len(set(self.conditions)) != len(self.conditions):
            raise ConfigError(
                f"{owner}: conditions must be distinct among {CONDITIONS}, got {self.conditions}"
            )
        if not isinstance(self.targeted, bool):
            targeted = (self.targeted,) if isinstance(self.targeted, str) else tuple(self.targeted)
            known = (*self.datasets, IMAGES) if self.images else self.datasets
            if not targeted or not all(isinstance(d, str) and d in known for d in targeted):
                raise ConfigError(
                    f"{owner}: targeted must be True, False or some of the study's datasets "
                    f"{list(known)}, got {self.targeted!r}"
                )
            object.__setattr__(self, "targeted", targeted)
        if self.targeted and "original" not in self.conditions:
            raise ConfigError(f"{owner}: targeted augmentation needs the 'original' condition")
        for fraction in self.fractions:
            check_fraction(f"{owner}: fractions", fraction, high_closed=True, noun=None)
        if not self.fractions or len(set(self.fractions)) != len(self.fractions):
            raise ConfigError(f"{owner}: fractions must be distinct, got {self.fractions}")
        if self.targeted and 1.0 not in self.fractions:
            raise ConfigError(f"{owner}: targeted augmentation needs the fraction 1.0")
        if self.sample_fraction is not None:
            check_fraction(f"{owner}: sample_fraction", self.sample_fraction, noun=None)
        if not self.datasets and not self.images:
            raise ConfigError(f"{owner}: needs datasets (or images=True)")

    def targets(self, dataset: str) -> bool:
        """Whether ``dataset``'s best augmented model gets the targeted cells."""
        return self.targeted is True or (self.targeted is not False and dataset in self.targeted)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> StudySpec:
        """Inverse of :meth:`to_dict`; the models must be registered in this process."""
        return cls(**data)

    def with_models(self, models) -> StudySpec:
        """This grid with other models (names or builders); a chosen variant needs variants."""
        if isinstance(models, str):
            models = [m.strip() for m in models.split(",") if m.strip()]
        models = tuple(models)
        variants = self.variants if CHOSEN_VARIANT in models else ()
        return StudySpec(**{**self.to_dict(), "models": models, "variants": variants})


def _model_name(model, owner: str) -> str:
    """A spec's model as a registry name: builders are registered under their ``__name__``."""
    if callable(model):
        name = getattr(model, "__name__", "")
        if not name.isidentifier() or name in BUILT_IN:
            raise ConfigError(
                f"{owner}: a builder needs a plain __name__ that is not a built-in model's "
                f"(it is registered under it), got {name!r}"
            )
        doc = (model.__doc__ or "").strip().splitlines()
        register_model(name, model, doc[0] if doc else f"user builder {name}", replace=True)
        return name
    if model == CHOSEN_VARIANT or model in list_models():
        return model
    raise ConfigError(
        f"{owner}: unknown model {model!r}; registered: {', '.join(list_models())} (or "
        f"{CHOSEN_VARIANT!r}); add yours with cnnbench.register_model(name, builder, description)"
    )


STUDIES = {
    # The original study as a full factorial: its chosen custom variant, its AlexNet, this
    # project's custom CNN and the sibling study's MobileNet, each without and with the original
    # augmentation (so augmentation's effect is measured per model and can be compared between
    # them), then augmentation targeted at the weakest classes of the best augmented model on
    # CIFAR-10. Not on MNIST, where there is nothing to target: in the quick study of
    # 2026-12-02 the best augmented model's three weakest digits had a test F1 of 0.990 at 99.1%
    # accuracy, and its two targeted cells moved accuracy by -0.03 and -0.14 points, while
    # costing 6% of the study's time.
    "original": StudySpec(
        name="original",
        description="the chosen variant, alexnet, custom and mobilenet, each without and with "
        "augmentation, then targeted augmentation of the best on CIFAR-10",
        models=(CHOSEN_VARIANT, "alexnet", "custom", "mobilenet"),
        variants=VARIANTS,
        targeted=("cifar10",),
    ),
    # The sibling study: AlexNet vs a MobileNet-like net on CIFAR-10 (per-class P/R/F1,
    # inference latency, sample predictions), both with the original augmentation.
    "alexnet_vs_mobilenet": StudySpec(
        name="alexnet_vs_mobilenet",
        description="CIFAR-10: alexnet vs mobilenet with augmentation",
        models=("alexnet", "mobilenet"),
        datasets=("cifar10",),
        conditions=("original",),
    ),
    # The classic 2012 AlexNet on a folder of photos (Oxford Flowers-17: 17 classes x 80), at
    # the 227 px it was designed for, with and without augmentation. Every image is used
    # (sample fraction 1: a stratified test split is carved from the folder).
    "classic_alexnet": StudySpec(
        name="classic_alexnet",
        description="alexnet_classic (227 px) on an image folder (--images DIR)",
        models=("alexnet_classic",),
        datasets=(),
        sample_fraction=1.0,
        images=True,
        image_size=(227, 227),
    ),
    # The learning curve the original did not draw: custom vs alexnet with augmentation on 10,
    # 25, 50 and 100% of each class's training images (validation carved from the training set,
    # the same images at every fraction), at the same epochs.
    "data_efficiency": StudySpec(
        name="data_efficiency",
        description="custom vs alexnet with augmentation on 10/25/50/100% of the training images",
        models=("custom", "alexnet"),
        datasets=("cifar10",),
        conditions=("original",),
        fractions=(0.1, 0.25, 0.5, 1.0),
        sample_fraction=1.0,
    ),
}


def folder_name(spec: StudySpec, profile_name: str) -> str:
    """The study's default artifacts folder name."""
    return profile_name if spec.name == "original" else f"{spec.name}_{profile_name}"


def get_study(study: str | StudySpec = "original", models=None) -> StudySpec:
    """A :data:`STUDIES` name or a spec, with its models replaced by ``models`` if given
    (names, builders, or a comma-separated string)."""
    if isinstance(study, StudySpec):
        spec = study
    elif isinstance(study, str) and study in STUDIES:
        spec = STUDIES[study]
    else:
        raise ConfigError(f"unknown study {study!r}; valid: {', '.join(STUDIES)}")
    return spec if models is None else spec.with_models(models)


@dataclass(frozen=True)
class Experiment:
    """One cell of the grid: a model trained on a dataset under one condition, at one share of
    its training images. Its name is its folder and, with the dataset, its key."""

    dataset: str
    model: str
    augment: bool = False
    method: str | None = None  # targeted augmentation: a config.TARGETED_METHODS name
    boosted: tuple[str, ...] = ()  # targeted augmentation: the class names given more weight
    fraction: float = 1.0  # share of each class's training images
    selection: bool = False  # a variant-selection run (the profile's shorter budget)

    def __post_init__(self):
        if self.method is not None and (self.method not in TARGETED_METHODS or not self.augment):
            raise ConfigError(f"targeted method must be one of {TARGETED_METHODS}, with augment")

    @property
    def name(self) -> str:
        return experiment_name(self.model, self.augment, self.method, self.fraction, self.selection)

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.name}"

    @property
    def kind(self) -> str:
        """Which epoch budget of :class:`cnnbench.config.Epochs` applies."""
        return "variants" if self.selection else "main"

    @property
    def label(self) -> str:
        return label(self.name)


def experiment_name(model, augment=False, method=None, fraction=1.0, selection=False) -> str:
    if selection:
        return f"variant_{model}"
    name = model + ("+aug" if augment else "") + (f"+{method}" if method else "")
    return name if fraction == 1.0 else f"{name}@{fraction * 100:g}pct"


def label(name: str) -> str:
    """How an experiment is called in every figure, table and sentence: ``custom + aug``,
    ``custom + aug + oversample``, ``custom (10%)``, ``custom_v2 (selection)``."""
    name = name.split("/")[-1]
    if name.startswith("variant_"):
        return f"{name.removeprefix('variant_')} (selection)"
    name, _, pct = name.partition("@")
    text = " + ".join(name.split("+")).replace("loss_weight", "loss weight")
    return f"{text} ({pct.removesuffix('pct')}%)" if pct else text


def selection_dataset(datasets) -> str:
    """CIFAR-10 as in the original study, else the first dataset."""
    return SELECTION_DATASET if SELECTION_DATASET in datasets else datasets[0]


def selection_cells(spec: StudySpec, datasets) -> list[Experiment]:
    """The variant-selection runs (on the selection dataset), in order."""
    where = selection_dataset(datasets)
    return [Experiment(where, v, selection=True) for v in spec.variants]


def compared_cells(spec: StudySpec, datasets, chosen: str | None) -> list[Experiment]:
    """Every model x condition x fraction x dataset, model-major (so a model's plain and
    augmented cells run together); ``chosen`` is the chosen variant (None: not known yet, the
    cells are named ``chosen_variant``)."""
    models = [(chosen or m) if m == CHOSEN_VARIANT else m for m in spec.models]
    return [
        Experiment(dataset, model, condition != "none", None, (), fraction)
        for model in models
        for condition in spec.conditions
        for fraction in spec.fractions
        for dataset in datasets
    ]


def targeted_cells(spec: StudySpec, dataset: str, best: str, boosted) -> list[Experiment]:
    """The targeted augmentations of ``best`` on ``dataset``, boosting ``boosted``."""
    if not spec.targets(dataset):
        return []
    return [Experiment(dataset, best, True, m, tuple(boosted)) for m in TARGETED_METHODS]


BEST = "best"  # a targeted cell's model before the best augmented model is known


def cells(spec: StudySpec, datasets, chosen=None, best=None, boosted=None) -> list[Experiment]:
    """Every cell in run order: the variant selection, the compared cells, then per dataset
    the targeted ones. ``chosen`` (the variant), ``best`` and ``boosted`` (dataset -> the best
    augmented model and its weakest classes) fill in the choices made so far; without them the
    cells are named for the choice (``chosen_variant``, ``best+aug+oversample``), the same
    number of cells in the same order."""
    grid = selection_cells(spec, datasets) + compared_cells(spec, datasets, chosen)
    for dataset in datasets:
        model = (best or {}).get(dataset) or BEST
        grid += targeted_cells(spec, dataset, model, (boosted or {}).get(dataset, ()))
    return grid
