"""Targeted augmentation: more weight for chosen (weak) classes at the same training budget.

The original study set out to augment its weakest classes more than the others. A
:class:`ClassBoost` passed to :func:`cnnbench.training.train` gives the images of ``classes``
``factor`` times the weight of the others, in one of two ways, each keeping the number of
optimizer steps of an epoch unchanged (``len(x_train)`` images an epoch):

- ``"oversample"``: each epoch draws its images class by class with probability proportional to
  ``weight x class size``, so the boosted classes' images come back several times an epoch,
  each time differently augmented (with ``augment=True``), and the others' are partly left out;
- ``"loss_weight"``: every image once an epoch, as without a boost, with the loss of the
  boosted classes' images weighted ``factor`` times the others' (Keras ``class_weight``).

Both weightings are normalised so the mean weight per image stays 1: the learning rate means
the same as without a boost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnbench.checks import check_real, is_int
from cnnbench.config import TARGETED_FACTOR, TARGETED_METHODS
from cnnbench.errors import ConfigError


@dataclass(frozen=True)
class ClassBoost:
    """Give the images of ``classes`` (labels) ``factor`` times the others' weight in training."""

    classes: tuple[int, ...]
    factor: float = TARGETED_FACTOR
    method: str = "oversample"  # one of cnnbench.config.TARGETED_METHODS

    def __post_init__(self):
        classes = self.classes
        if isinstance(classes, str) or not hasattr(classes, "__iter__"):
            raise ConfigError(f"ClassBoost classes must be a sequence of labels, got {classes!r}")
        classes = tuple(classes)
        if not classes or not all(is_int(c, 0) for c in classes):
            raise ConfigError(
                f"ClassBoost classes must be one or more non-negative integer labels, "
                f"got {self.classes!r}"
            )
        if len(set(classes)) != len(classes):
            raise ConfigError(f"ClassBoost classes repeat a label: {self.classes!r}")
        factor = check_real("ClassBoost factor", self.factor)
        if factor <= 1:
            raise ConfigError(f"ClassBoost factor must be > 1 (a boost), got {self.factor!r}")
        if self.method not in TARGETED_METHODS:
            raise ConfigError(
                f"ClassBoost method must be one of {list(TARGETED_METHODS)}, got {self.method!r}"
            )
        object.__setattr__(self, "classes", tuple(int(c) for c in classes))
        object.__setattr__(self, "factor", float(factor))

    def check(self, num_classes: int) -> None:
        """Raise unless every boosted class is a label of a ``num_classes``-class dataset and at
        least one class is left unboosted (boosting all of them changes nothing)."""
        outside = [c for c in self.classes if c >= num_classes]
        if outside:
            raise ConfigError(
                f"ClassBoost classes {outside} are not labels of this dataset (labels 0 to "
                f"{num_classes - 1})"
            )
        if len(self.classes) == num_classes:
            raise ConfigError(
                "ClassBoost boosts every class, which weighs them all equally again; boost fewer"
            )

    def class_weights(self, y: np.ndarray, num_classes: int) -> np.ndarray:
        """Per-class weight (``factor`` for the boosted classes, 1 for the others), scaled so the
        mean weight over the images of ``y`` is 1."""
        weights = np.ones(num_classes)
        weights[list(self.classes)] = self.factor
        counts = np.bincount(y, minlength=num_classes)
        return weights * len(y) / float(counts @ weights)

    def to_dict(self) -> dict:
        return {"classes": list(self.classes), "factor": self.factor, "method": self.method}
