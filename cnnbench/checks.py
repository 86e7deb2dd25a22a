"""Validation shared by every module: checks that run before any work starts.

Each ``check_*`` helper raises the error class it is given (a
:class:`cnnbench.errors.CnnbenchError` subclass, :class:`ConfigError` by default) with a message
that names the argument, what it got and what is allowed; ``name`` may carry a prefix naming
the owner (``"custom: stem"``, ``"profile 'ci': batch_size"``). ``bool`` is never accepted
where a number is expected. NumPy integers and floats are accepted like Python ones.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

from cnnbench.errors import ConfigError


def is_int(value, min_value: int | None = None) -> bool:
    """Whether ``value`` is an integer (not a ``bool``), at least ``min_value`` if given."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        return False
    return min_value is None or value >= min_value


def is_real(value) -> bool:
    """Whether ``value`` is a finite real number (not a ``bool``)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return False
    return isinstance(value, Integral) or math.isfinite(value)


def check_int(
    name: str,
    value,
    *,
    min_value: int = 1,
    allow_none: bool = False,
    noun: str = "integer",
    error=ConfigError,
) -> int | None:
    """``value`` as an ``int``: an integer >= ``min_value``, or ``None`` when ``allow_none``.

    The message says what is allowed with ``noun`` ("integer" or "int"): "a positive integer"
    for ``min_value=1``, "a non-negative integer" for 0, else "an integer >= min_value".
    """
    if allow_none and value is None:
        return None
    if not is_int(value, min_value):
        if min_value == 1:
            allowed = f"a positive {noun}"
        elif min_value == 0:
            allowed = f"a non-negative {noun}"
        else:
            allowed = f"an {noun} >= {min_value}"
        if allow_none:
            allowed = f"None or {allowed}"
        raise error(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def check_positive_int(name: str, value, *, allow_none: bool = False, error=ConfigError):
    """``value`` is an int >= 1 (``bool`` is rejected), or ``None`` when ``allow_none``."""
    return check_int(name, value, min_value=1, allow_none=allow_none, error=error)


def check_real(
    name: str,
    value,
    *,
    min_value: float = 0.0,
    strict: bool = True,
    noun: str | None = "number",
    error=ConfigError,
) -> float:
    """``value`` as a ``float``: a finite number > ``min_value`` (>= when not ``strict``).

    The message reads "``name`` must be a ``noun`` > ``min_value``" ("number" or "float"; with
    ``noun=None``, "``name`` must be > ``min_value``").
    """
    if not is_real(value) or not (value > min_value if strict else value >= min_value):
        op = ">" if strict else ">="
        raise error(f"{name} must be {_a(noun)}{op} {min_value:g}, got {value!r}")
    return float(value)


def check_fraction(
    name: str,
    value,
    *,
    low_closed: bool = False,
    high_closed: bool = True,
    noun: str | None = "number",
    error=ConfigError,
) -> float:
    """``value`` as a ``float`` in the interval from 0 to 1; each end is in it when closed.

    The default is ``(0, 1]`` (a share that must keep something); ``low_closed=True,
    high_closed=False`` gives ``[0, 1)`` (a rate such as dropout). The message reads
    "``name`` must be a ``noun`` in [0, 1)" ("number" or "float"; ``None`` leaves it out).
    """
    ok = is_real(value) and (value > 0 or (low_closed and value == 0))
    ok = ok and (value < 1 or (high_closed and value == 1))
    if not ok:
        interval = f"{'[' if low_closed else '('}0, 1{']' if high_closed else ')'}"
        raise error(f"{name} must be {_a(noun)}in {interval}, got {value!r}")
    return float(value)


def _a(noun: str | None) -> str:
    """``"a number "`` for ``"number"``, ``""`` for ``None``: the words before a bound."""
    return f"a {noun} " if noun else ""


def check_bool(name: str, value, *, error=ConfigError) -> bool:
    """``value`` is ``True`` or ``False`` (not merely truthy: ``1`` and ``np.bool_`` fail)."""
    if not isinstance(value, bool):
        raise error(f"{name} must be True or False, got {value!r}")
    return value


def check_model_fits(model, ds) -> None:
    """``model`` takes ``ds``'s images and predicts one probability per class of ``ds``."""
    model_input = tuple(model.input_shape[1:])
    if model_input != tuple(ds.input_shape):
        raise ConfigError(
            f"model {model.name!r} takes inputs of shape {model_input}, but {ds.name!r} images "
            f"are {tuple(ds.input_shape)}; build it with build_model(name, ds.input_shape, "
            f"ds.num_classes)"
        )
    outputs = model.output_shape[-1]
    if outputs != ds.num_classes:
        raise ConfigError(
            f"model {model.name!r} predicts {outputs} classes, but {ds.name!r} has "
            f"{ds.num_classes}; build it with build_model(name, ds.input_shape, ds.num_classes)"
        )


# Test-time augmentation: mode -> the label-preserving augmentations its views need
# (``Dataset.augmentations``). True is "flip", the common choice.
TTA_MODES = {
    "flip": ("horizontal_flip",),
    "translate": ("translation",),
    "flip_translate": ("horizontal_flip", "translation"),
}


def check_tta_mode(tta) -> str | None:
    """``tta`` is False/None, True (= ``"flip"``) or a :data:`TTA_MODES` name; returns the mode
    name, or None for no test-time augmentation."""
    if tta is None or tta is False:
        return None
    mode = "flip" if tta is True else tta
    if not isinstance(mode, str) or mode not in TTA_MODES:
        raise ConfigError(f"tta must be False, True or one of {list(TTA_MODES)}, got {tta!r}")
    return mode


def check_tta(ds, tta) -> str | None:
    """:func:`check_tta_mode`, and the mode's views must keep ``ds``'s labels true."""
    mode = check_tta_mode(tta)
    if mode is None:
        return None
    missing = [a for a in TTA_MODES[mode] if a not in ds.augmentations]
    if missing:
        raise ConfigError(
            f"tta={mode!r} needs {missing}, but {ds.name!r} labels do not survive them "
            f"(its augmentations: {list(ds.augmentations)})"
        )
    return mode


def check_classes_and_dropout(model: str, num_classes, dropout) -> None:
    """A model builder's class count (an int >= 2) and dropout rate (a float in [0, 1))."""
    from cnnbench.errors import ModelError

    check_int(f"{model}: num_classes", num_classes, min_value=2, noun="int", error=ModelError)
    check_fraction(
        f"{model}: dropout",
        dropout,
        low_closed=True,
        high_closed=False,
        noun="float",
        error=ModelError,
    )
