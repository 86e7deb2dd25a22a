"""Shared fixtures: a tiny synthetic dataset and the shipped real samples (no network needed)."""

import numpy as np
import pytest

import cnnbench.models as models_module
from cnnbench.data import from_arrays, load_dataset


def _class_brightness_arrays(
    n_per_class=(12, 12, 12), n_test_per_class=4, shape=(32, 32, 3), seed=0
):
    """Random uint8 images whose brightness depends on the class, so the task is learnable."""
    rng = np.random.default_rng(seed)

    def split(counts):
        y = np.repeat(np.arange(len(counts)), counts)
        base = rng.integers(0, 64, size=(len(y), *shape))
        x = (base + 60 * y.reshape(-1, *([1] * len(shape)))).astype(np.uint8)
        return x, y

    x_train, y_train = split(n_per_class)
    x_test, y_test = split([n_test_per_class] * len(n_per_class))
    return x_train, y_train, x_test, y_test


@pytest.fixture
def tiny_dataset():
    """3 classes of 32x32 RGB: 33 train, 3 val (carved), 12 test images."""
    return from_arrays(
        *_class_brightness_arrays(), class_names=("dark", "mid", "bright"), name="tiny"
    )


@pytest.fixture(scope="session")
def sample_mnist():
    return load_dataset("mnist", sample_fraction=1.0, source="sample")


@pytest.fixture(scope="session")
def sample_cifar10():
    return load_dataset("cifar10", sample_fraction=1.0, source="sample")


@pytest.fixture
def registry(monkeypatch):
    """The model registry as it is; whatever a test registers is gone after it."""
    monkeypatch.setattr(models_module, "_MODELS", dict(models_module._MODELS))
    return models_module
