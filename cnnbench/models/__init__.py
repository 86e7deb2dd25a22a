"""Model registry: every architecture cnnbench can build, by name.

Each builder has the signature ``builder(input_shape, num_classes, **overrides) -> keras.Model``
and returns an uncompiled model that takes raw pixels in ``[0, 255]`` (its first layer is
``Rescaling(1/255)``) and outputs softmax probabilities computed in ``float32``.
:func:`build_model` is the validated entry point: it checks the name, the input shape, the class
count and the override names before calling the builder, which checks what is specific to its
architecture (smallest input, override values).
"""

import inspect
import re

import keras

from cnnbench.checks import check_int, is_int
from cnnbench.errors import InputShapeError, ModelError
from cnnbench.models.alexnet import alexnet, alexnet_classic
from cnnbench.models.custom import custom
from cnnbench.models.mobilenet import mobilenet
from cnnbench.models.original_custom import custom_v1, custom_v2, custom_v3

# name -> (builder, one-line description), in the order the study presents them.
_MODELS = {
    "custom": (custom, "The study's own lightweight CNN, a modern take on the original custom CNN"),
    "custom_v1": (
        custom_v1,
        "Original study's custom CNN: 2 conv (32/64 filters, 3x3), dense 128, dropout 0.25",
    ),
    "custom_v2": (
        custom_v2,
        "Original study's custom CNN: 2 conv (64/128 filters, 3x3), dense 256, dropout 0.25",
    ),
    "custom_v3": (
        custom_v3,
        "Original study's custom CNN: 2 conv (64/128 filters, 5x5), dense 256, dropout 0.4",
    ),
    "alexnet": (
        alexnet,
        "Original study's AlexNet for small images: 5 conv (32-64-128-128-64, 3x3), dense 256/128",
    ),
    "alexnet_classic": (
        alexnet_classic,
        "AlexNet as in 2012 (11x11/4 stem, 96-384 filters, 2x4096 dense), input resized to 227",
    ),
    "mobilenet": (
        mobilenet,
        "MobileNet v1: depthwise-separable blocks, half width (alpha 0.5), stride-1 stem",
    ),
}


BUILT_IN = tuple(_MODELS)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def register_model(name, builder, description, *, replace=False):
    """Make ``builder`` buildable by name, like the built-in models, for ``build_model``, the
    study runner and the CLI of this Python process.

    ``builder(input_shape, num_classes, **overrides)`` must return a ``keras.Model`` taking
    ``input_shape`` images of raw ``[0, 255]`` pixels and giving ``num_classes`` softmax
    probabilities (:func:`build_model` checks both each time it builds one). Keyword-only
    parameters of the builder become its overrides.

    Raises:
        ModelError: a name that is not an identifier, a built-in name, a name already registered
            (unless ``replace=True``), a builder that is not callable with ``(input_shape,
            num_classes)``, or an empty description.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ModelError(f"model name must be an identifier such as 'my_cnn', got {name!r}")
    if name in BUILT_IN:
        raise ModelError(f"{name!r} is a built-in model; register yours under another name")
    if name in _MODELS and not replace:
        raise ModelError(f"model {name!r} is already registered; pass replace=True to replace it")
    if not callable(builder):
        raise ModelError(f"builder for {name!r} must be callable, got {type(builder).__name__}")
    try:
        inspect.signature(builder).bind(None, None)
    except TypeError as err:
        raise ModelError(
            f"builder for {name!r} must take (input_shape, num_classes) positionally ({err})"
        ) from None
    if not isinstance(description, str) or not description.strip():
        raise ModelError(f"model {name!r} needs a one-line description")
    _MODELS[name] = (builder, description.strip())


def list_models():
    """Names of every registered model, in the order the study presents them."""
    return list(_MODELS)


def _check_name(name):
    if not isinstance(name, str) or name not in _MODELS:
        raise ModelError(f"unknown model {name!r}; valid models: {', '.join(_MODELS)}")


def _check_input_shape(input_shape):
    """Return ``input_shape`` as a tuple of 3 ints, or raise :class:`InputShapeError`."""
    if (
        not isinstance(input_shape, (tuple, list))
        or len(input_shape) != 3
        or not all(is_int(d, 1) for d in input_shape)
    ):
        raise InputShapeError(
            f"input_shape must be (height, width, channels), three positive ints, "
            f"got {input_shape!r}"
        )
    return tuple(int(d) for d in input_shape)


def _check_num_classes(num_classes):
    """Return ``num_classes`` as an int, or raise :class:`ModelError`."""
    return check_int("num_classes", num_classes, min_value=2, noun="int", error=ModelError)


def _check_overrides(name, builder, overrides):
    valid = [
        p.name
        for p in inspect.signature(builder).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        allowed = f"valid overrides: {', '.join(valid)}" if valid else "it takes no overrides"
        raise ModelError(f"unknown override(s) for {name}: {', '.join(unknown)}; {allowed}")


def build_model(name, input_shape, num_classes, **overrides):
    """Build the registered model ``name``, uncompiled.

    Args:
        name: one of :func:`list_models`.
        input_shape: ``(height, width, channels)`` of the images, three positive ints.
        num_classes: number of output classes (>= 2).
        **overrides: builder-specific hyperparameters (see each builder's docstring), e.g.
            ``dropout=0.3`` or, for ``mobilenet``, ``alpha=0.5``.

    Raises:
        ModelError: unknown name, ``num_classes`` < 2, or an unknown or invalid override.
        InputShapeError: ``input_shape`` malformed or too small for this model.
    """
    _check_name(name)
    input_shape = _check_input_shape(input_shape)
    num_classes = _check_num_classes(num_classes)
    builder, _ = _MODELS[name]
    _check_overrides(name, builder, overrides)
    model = builder(input_shape, num_classes, **overrides)
    _check_built(name, model, input_shape, num_classes)
    return model


def _check_built(name, model, input_shape, num_classes):
    """A builder's model takes ``input_shape`` images and gives ``num_classes`` outputs."""
    if not isinstance(model, keras.Model):
        raise ModelError(f"builder of {name!r} returned {type(model).__name__}, not a keras.Model")
    got_in, got_out = tuple(model.input_shape[1:]), model.output_shape[-1]
    if got_in != input_shape or got_out != num_classes:
        raise ModelError(
            f"builder of {name!r} made a model from {got_in} images to {got_out} outputs; "
            f"asked for {input_shape} images and {num_classes} classes"
        )


def count_params(model):
    """Total number of parameters (trainable and not) of a built Keras model."""
    if not isinstance(model, keras.Model):
        raise ModelError(f"count_params expects a keras.Model, got {type(model).__name__}")
    if not model.built:
        raise ModelError(f"count_params needs a built model; {model.name!r} is not built yet")
    return int(model.count_params())


def describe_models(input_shape, num_classes):
    """One row per registered model: ``{"name", "description", "params"}``.

    ``params`` is the parameter count for ``input_shape`` and ``num_classes``, or ``None`` for a
    model that cannot take ``input_shape`` (too small). Builds every model once, so it takes a
    few seconds (``alexnet_classic`` alone has about 58 million parameters).
    """
    input_shape = _check_input_shape(input_shape)
    num_classes = _check_num_classes(num_classes)
    rows = []
    for name, (_, description) in _MODELS.items():
        try:
            params = count_params(build_model(name, input_shape, num_classes))
        except InputShapeError:
            params = None
        rows.append({"name": name, "description": description, "params": params})
    return rows


def _layer_word(layer) -> str:
    """One layer in a few characters: ``conv 32 3x3``, ``maxpool 2x2``, ``dense 10``..."""
    kind = type(layer).__name__
    if isinstance(layer, keras.layers.SeparableConv2D | keras.layers.DepthwiseConv2D):
        return f"{kind.removesuffix('2D').lower()} {'x'.join(map(str, layer.kernel_size))}"
    if isinstance(layer, keras.layers.Conv2D):
        stride = "" if layer.strides == (1, 1) else f"/{layer.strides[0]}"
        kernel = "x".join(map(str, layer.kernel_size))
        return f"conv {layer.filters} {kernel}{stride}{_activation(layer)}"
    if isinstance(layer, keras.layers.Dense):
        return f"dense {layer.units}{_activation(layer)}"
    if isinstance(layer, keras.layers.MaxPooling2D | keras.layers.AveragePooling2D):
        return f"{kind[:3].lower()}pool {'x'.join(map(str, layer.pool_size))}"
    if isinstance(layer, keras.layers.Dropout):
        return f"dropout {layer.rate:g}"
    if isinstance(layer, keras.layers.Activation):
        return getattr(layer.activation, "__name__", "activation")
    if isinstance(layer, keras.layers.Rescaling) and layer.scale != 1 / 255:
        return f"scale x{layer.scale:.3g}"  # e.g. custom's logit temperature
    words = {
        "BatchNormalization": "batchnorm",
        "ReLU": "relu",
        "GlobalMaxPooling2D": "global max pool",
        "GlobalAveragePooling2D": "global average pool",
        "Flatten": "flatten",
        "Rescaling": "rescale",
        "Resizing": "resize",
    }
    return words.get(kind, kind)


def _activation(layer) -> str:
    """`` relu`` for a layer with a built-in activation, nothing for a linear one."""
    name = getattr(layer.activation, "__name__", "linear")
    return "" if name == "linear" else f" {name}"


def outline(model) -> str:
    """The layer sequence of a built model in one line, from the model object itself, e.g.
    ``"rescale -> features: conv 16 3x3+batchnorm+relu, maxpool 2x2, ... -> classifier: global
    max pool, dense 10"``. Sub-models (``features``/``classifier``) are named with their
    layers; a BatchNorm, ReLU or GELU is joined to the layer it follows with ``+``."""
    if not isinstance(model, keras.Model):
        raise ModelError(f"outline expects a keras.Model, got {type(model).__name__}")
    parts = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            parts.append(f"{layer.name}: {_joined(layer.layers)}")
        else:
            parts.append(_joined([layer]))
    return " -> ".join(parts)


def _joined(layers) -> str:
    words = []
    for layer in layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        word = _layer_word(layer)
        if words and word in ("batchnorm", "relu", "gelu"):
            words[-1] += f"+{word}"
        else:
            words.append(word)
    return ", ".join(_repeats(words))


def _repeats(words: list[str]) -> list[str]:
    """Consecutive repeats of one layer or of a pair of layers (a depthwise-separable block)
    written once with their count: ``"5x (depthwiseconv 3x3, conv 256 1x1)"``, so a deep
    network's outline stays one readable line."""
    out, i = [], 0
    while i < len(words):
        best = (1, 1)  # (period, repeats)
        for period in (1, 2):
            unit, n = words[i : i + period], 1
            while words[i + n * period : i + (n + 1) * period] == unit:
                n += 1
            if n > 1 and period * n > best[0] * best[1]:
                best = (period, n)
        period, n = best
        unit = ", ".join(words[i : i + period])
        out.append(unit if n == 1 else f"{n}x ({unit})" if period > 1 else f"{n}x {unit}")
        i += period * n
    return out


__all__ = [
    "alexnet",
    "alexnet_classic",
    "build_model",
    "count_params",
    "custom",
    "custom_v1",
    "custom_v2",
    "custom_v3",
    "describe_models",
    "list_models",
    "mobilenet",
    "outline",
]
