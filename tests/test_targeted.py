"""Targeted augmentation: ClassBoost's checks, the oversampled epochs, and train() with a boost
on small real data (the shipped MNIST sample)."""

import numpy as np
import pytest

from cnnbench import build_model, train
from cnnbench.data import from_arrays
from cnnbench.errors import ConfigError
from cnnbench.pipeline import train_dataset, weighted_epochs
from cnnbench.targeted import ClassBoost


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"classes": ()}, "one or more non-negative integer labels"),
        ({"classes": (1, -2)}, "one or more non-negative integer labels"),
        ({"classes": "12"}, "sequence of labels"),
        ({"classes": (1, 1)}, "repeat a label"),
        ({"classes": (1,), "factor": 1.0}, "must be > 1"),
        ({"classes": (1,), "factor": True}, "factor"),
        ({"classes": (1,), "method": "more"}, "method must be one of"),
    ],
)
def test_class_boost_rejects_bad_settings(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        ClassBoost(**kwargs)


def test_class_weights_boost_by_the_factor_and_keep_the_mean_weight_at_one():
    y = np.array([0] * 10 + [1] * 30 + [2] * 60)
    weights = ClassBoost((0, 1), factor=3.0).class_weights(y, 3)
    assert weights[0] == pytest.approx(3 * weights[2]) and weights[1] == weights[0]
    # (10 + 30) images at 3w and 60 at w average to 1: w = 100 / 180
    assert weights[y].mean() == pytest.approx(1.0)
    assert weights[2] == pytest.approx(100 / 180)


def test_weighted_epochs_keep_the_epoch_size_and_draw_boosted_classes_more():
    y = np.repeat(np.arange(4), 100)
    x = np.arange(400).reshape(400, 1, 1, 1).astype(np.int32)
    weights = ClassBoost((1,), factor=2.0).class_weights(y, 4)
    epochs = []
    data = weighted_epochs(x, y, weights, seed=3)
    for _ in range(4):
        images, labels = zip(*[(int(i.numpy().ravel()[0]), int(c)) for i, c in data], strict=True)
        epochs.append(images)
        assert len(labels) == 400  # as many images, hence steps, as without the boost
        counts = np.bincount(labels, minlength=4)
        # class 1 holds 2/5 of the draws in expectation: 160 of 400 (sd ~10)
        assert 125 < counts[1] < 195 and all(50 < counts[c] < 125 for c in (0, 2, 3))
        boosted = [i for i, c in zip(images, labels, strict=True) if c == 1]
        assert len(set(boosted)) < len(boosted)  # its images come back within an epoch
    assert epochs[0] != epochs[1]  # every epoch draws anew
    again = weighted_epochs(x, y, weights, seed=3)
    assert [int(i.numpy().ravel()[0]) for i, _ in again] == list(epochs[0])  # same seed, same


def test_weighted_epochs_reject_weights_that_do_not_cover_the_classes():
    y = np.repeat(np.arange(3), 5)
    x = np.zeros((15, 2, 2, 1), np.uint8)
    with pytest.raises(ConfigError, match="one positive weight per class"):
        weighted_epochs(x, y, [1.0, 2.0], seed=0)
    with pytest.raises(ConfigError, match="one positive weight per class"):
        train_dataset(x, y, 3, batch_size=4, seed=0, class_weights=[1.0, 0.0, 1.0])


@pytest.fixture(scope="module")
def small_mnist(sample_mnist):
    """600 training images of the shipped MNIST sample, 60 per class."""
    keep = np.concatenate([np.flatnonzero(sample_mnist.y_train == c)[:60] for c in range(10)])
    return from_arrays(
        sample_mnist.x_train[keep],
        sample_mnist.y_train[keep],
        sample_mnist.x_test[:300],
        sample_mnist.y_test[:300],
        class_names=sample_mnist.class_names,
        name="mnist_small",
        augmentations=sample_mnist.augmentations,
        seed=0,
    )


@pytest.mark.parametrize("method", ["oversample", "loss_weight"])
def test_train_with_a_class_boost_learns_and_records_it(small_mnist, method):
    model = build_model("custom", small_mnist.input_shape, small_mnist.num_classes)
    boost = ClassBoost((4, 9), method=method)
    run = train(model, small_mnist, epochs=3, augment=True, class_boost=boost, verbose=0)
    assert run.config["class_boost"] == {"classes": [4, 9], "factor": 2.0, "method": method}
    assert run.history["val_accuracy"][-1] > 0.3  # learns (10 classes: chance is 0.1)


def test_train_checks_the_boost_against_the_dataset_before_training(small_mnist, monkeypatch):
    model = build_model("custom", small_mnist.input_shape, small_mnist.num_classes)
    monkeypatch.setattr(model, "fit", None)  # any training attempt would fail differently
    with pytest.raises(ConfigError, match=r"classes \[10\] are not labels"):
        train(model, small_mnist, epochs=1, class_boost=ClassBoost((3, 10)))
    with pytest.raises(ConfigError, match="boosts every class"):
        train(model, small_mnist, epochs=1, class_boost=ClassBoost(tuple(range(10))))
    with pytest.raises(ConfigError, match="class_boost must be None or"):
        train(model, small_mnist, epochs=1, class_boost={"classes": (1,)})
