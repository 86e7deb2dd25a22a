"""Tests of the model registry and builders (``cnnbench.models``)."""

import keras
import numpy as np
import pytest

from cnnbench.errors import InputShapeError, ModelError
from cnnbench.models import (
    alexnet,
    build_model,
    count_params,
    custom_v1,
    describe_models,
    list_models,
    mobilenet,
)

# Overrides that keep a model cheap on a CPU (alexnet_classic at its default 227x227 is slow).
FAST = {"alexnet_classic": {"resize": 67}}
# Models of this package's own modules with the smallest side they accept, and the overrides
# under which that limit applies (alexnet_classic resizes any input unless resize=None).
LIMITS = {
    "custom": ({}, 9),
    "custom_v1": ({}, 4),
    "custom_v2": ({}, 4),
    "custom_v3": ({}, 4),
    "alexnet": ({}, 8),
    "alexnet_classic": ({"resize": None}, 67),
    "mobilenet": ({}, 16),
}
SHAPES = [((32, 32, 3), 10), ((28, 28, 1), 10), ((40, 24, 3), 7)]


def _pixels(shape, n=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape)).astype(np.uint8)


def _build(name, input_shape=(32, 32, 3), num_classes=10, **overrides):
    return build_model(name, input_shape, num_classes, **{**FAST.get(name, {}), **overrides})


def test_registry_lists_every_model():
    assert list_models() == [
        "custom",
        "custom_v1",
        "custom_v2",
        "custom_v3",
        "alexnet",
        "alexnet_classic",
        "mobilenet",
    ]


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("custom_v1", 545_098),
        ("custom_v2", 2_175_626),
        ("custom_v3", 2_309_770),
        ("alexnet", 611_210),
        ("custom", 830_136),
    ],
)
def test_parameter_counts(name, params):
    assert count_params(build_model(name, (32, 32, 3), 10)) == params


@pytest.mark.parametrize(("input_shape", "num_classes"), SHAPES)
@pytest.mark.parametrize("name", list_models())
def test_builds_and_outputs_probabilities(name, input_shape, num_classes):
    model = _build(name, input_shape, num_classes)
    assert isinstance(model.layers[1], keras.layers.Rescaling)
    assert model.layers[1].scale == pytest.approx(1 / 255)
    probs = model(_pixels(input_shape), training=False)
    assert probs.dtype == "float32"
    probs = np.asarray(probs)
    assert probs.shape == (3, num_classes)
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("name", list(LIMITS))
def test_features_classifier_grouping(name):
    model = _build(name)
    features, classifier = model.get_layer("features"), model.get_layer("classifier")
    assert isinstance(features, keras.Sequential)
    assert isinstance(classifier, keras.Sequential)
    assert model.layers[-2:] == [features, classifier]
    assert count_params(features) + count_params(classifier) == count_params(model)
    head = classifier.layers[-1]  # a softmax Dense, or custom's softmax after its logit scale
    assert isinstance(head, keras.layers.Dense | keras.layers.Activation)
    assert head.dtype_policy.name == "float32"
    assert head.activation is keras.activations.softmax


@pytest.mark.parametrize(("name", "kernel"), [("custom_v1", 3), ("custom_v2", 3), ("custom_v3", 5)])
def test_original_custom_kernel_sizes(name, kernel):
    convs = [
        layer
        for layer in build_model(name, (32, 32, 3), 10).get_layer("features").layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    assert len(convs) == 2
    assert all(conv.kernel_size == (kernel, kernel) for conv in convs)
    assert all(conv.padding == "same" for conv in convs)


@pytest.mark.parametrize("name", list(LIMITS))
def test_smallest_input_builds_and_one_less_is_rejected(name):
    overrides, side = LIMITS[name]
    assert _build(name, (side, side, 3), 10, **overrides).output_shape == (None, 10)
    with pytest.raises(
        InputShapeError, match=rf"{name}.*at least {side}x{side}.*got {side}x{side - 1}"
    ):
        _build(name, (side, side - 1, 3), 10, **overrides)


@pytest.mark.parametrize("name", list_models())
def test_tiny_input_is_rejected_by_every_model(name):
    overrides = LIMITS.get(name, ({}, None))[0]
    with pytest.raises(InputShapeError, match="at least"):
        _build(name, (1, 1, 3), 10, **overrides)


def test_four_pixel_input_is_rejected_with_the_needed_size():
    with pytest.raises(InputShapeError, match=r"alexnet needs inputs of at least 8x8 .*got 4x4"):
        build_model("alexnet", (4, 4, 3), 10)
    with pytest.raises(InputShapeError, match="mobilenet needs inputs of at least 16x16"):
        build_model("mobilenet", (4, 4, 3), 10)


def test_alexnet_classic_resizes_inside_the_model():
    model = build_model("alexnet_classic", (28, 28, 1), 10)
    assert model.get_layer("resizing").output.shape == (None, 227, 227, 1)
    assert model.get_layer("features").output.shape == (None, 6, 6, 256)
    assert _build("alexnet_classic", (28, 28, 1)).get_layer("resizing").output.shape[1:3] == (
        67,
        67,
    )


def test_alexnet_classic_call_without_training_is_inference():
    # Keras' Resizing defaults to training=True and would otherwise switch on the Dropout and
    # BatchNorm after it when the model is called as model(x).
    model = _build("alexnet_classic", dropout=0.5)
    x = _pixels((32, 32, 3))
    inference = np.asarray(model(x, training=False))
    np.testing.assert_array_equal(np.asarray(model(x)), inference)
    assert not np.allclose(np.asarray(model(x, training=True)), inference)


def test_mobilenet_width_multiplier():
    full, half = _build("mobilenet", alpha=1.0), _build("mobilenet")  # half width by default
    assert full.get_layer("features").layers[-3].filters == 1024
    assert half.get_layer("features").layers[-3].filters == 512
    assert count_params(half) < count_params(full) / 3
    bns = [
        layer
        for layer in full.get_layer("features").layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert len(bns) == 1 + 2 * 13
    assert all(bn.momentum == 0.9 for bn in bns)


def test_unknown_model_lists_valid_names():
    with pytest.raises(ModelError, match="unknown model 'resnet'") as info:
        build_model("resnet", (32, 32, 3), 10)
    assert all(name in str(info.value) for name in list_models())


@pytest.mark.parametrize("num_classes", [1, 0, 2.5, True, "10"])
def test_bad_num_classes(num_classes):
    with pytest.raises(ModelError, match="num_classes must be an int >= 2"):
        build_model("custom_v1", (32, 32, 3), num_classes)


@pytest.mark.parametrize("builder", [custom_v1, alexnet, mobilenet])
def test_builders_reject_one_class_when_called_directly(builder):
    with pytest.raises(ModelError, match="num_classes must be an int >= 2, got 1"):
        builder((32, 32, 3), 1)


@pytest.mark.parametrize(
    "input_shape", [(32, 32), (0, 32, 3), (32, 32, 3, 1), (32.0, 32, 3), (-1, 32, 3), "32x32x3"]
)
def test_bad_input_shape(input_shape):
    with pytest.raises(InputShapeError, match="three positive ints"):
        build_model("alexnet", input_shape, 10)


def test_input_shape_may_be_a_list_of_numpy_ints():
    model = build_model("custom_v1", [np.int64(28), np.int64(28), np.int64(1)], np.int64(10))
    assert model.input_shape == (None, 28, 28, 1)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("mobilenet", "alpha, dropout"),
        ("alexnet_classic", "resize, dropout"),
        ("custom_v2", "dropout"),
    ],
)
def test_unknown_override_lists_valid_ones(name, valid):
    with pytest.raises(
        ModelError, match=f"unknown override.*{name}: widht; valid overrides: {valid}"
    ):
        build_model(name, (32, 32, 3), 10, widht=2)


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        ("custom_v3", {"dropout": 1.0}, r"dropout must be a float in \[0, 1\), got 1.0"),
        ("alexnet", {"dropout": -0.1}, r"dropout must be a float in \[0, 1\)"),
        ("mobilenet", {"alpha": 0}, "alpha must be a float > 0, got 0"),
        ("mobilenet", {"alpha": "wide"}, "alpha must be a float > 0"),
        ("alexnet_classic", {"resize": 50}, "resize must be None or an int >= 67 .*got 50"),
        ("alexnet_classic", {"resize": 128.0}, "resize must be None or an int >= 67"),
    ],
)
def test_bad_override_values(name, overrides, message):
    with pytest.raises(ModelError, match=message):
        build_model(name, (32, 32, 3), 10, **overrides)


def test_describe_models_matches_count_params():
    rows = describe_models((28, 28, 1), 10)
    assert [row["name"] for row in rows] == list_models()
    for row in rows:
        assert set(row) == {"name", "description", "params"}
        assert row["description"] and "\n" not in row["description"]
        assert row["params"] == count_params(build_model(row["name"], (28, 28, 1), 10))


def test_describe_models_marks_models_that_cannot_take_the_shape():
    params = {row["name"]: row["params"] for row in describe_models((8, 8, 3), 10)}
    assert params["mobilenet"] is None
    assert params["alexnet"] == count_params(build_model("alexnet", (8, 8, 3), 10))


def test_count_params_rejects_non_models():
    with pytest.raises(ModelError, match="expects a keras.Model"):
        count_params([1, 2, 3])


@pytest.mark.parametrize("name", list_models())
def test_mixed_precision_keeps_float32_probabilities(name):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = _build(name)
        convs = [
            layer
            for group in model.layers
            for layer in getattr(group, "layers", [group])
            if isinstance(layer, keras.layers.Conv2D | keras.layers.DepthwiseConv2D)
        ]
        assert convs and all(conv.compute_dtype == "bfloat16" for conv in convs)
        probs = model(_pixels((32, 32, 3)), training=False)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert probs.dtype == "float32"
    np.testing.assert_allclose(np.asarray(probs).sum(axis=1), 1.0, atol=1e-5)


def test_outline_reads_the_layers_from_the_model():
    from cnnbench.models import outline

    text = outline(build_model("custom", (32, 32, 3), 10))
    assert text.startswith(
        "rescale -> features: conv 24 2x2+gelu, conv 64 3x3, maxpool 2x2+batchnorm+gelu, "
        "conv 64 3x3+batchnorm+gelu, conv 128 3x3"
    )
    assert text.endswith("-> classifier: global max pool, dense 10, scale x0.111, softmax")
    alexnet = outline(build_model("alexnet", (32, 32, 3), 10))
    assert "maxpool 2x2, 2x conv 128 3x3 relu, conv 64 3x3 relu" in alexnet  # 5 convs
    assert "dense 256 relu, dropout 0.5" in alexnet
    # repeated depthwise-separable blocks are written once, with their count
    mobilenet = outline(build_model("mobilenet", (32, 32, 3), 10))
    block = "depthwiseconv 3x3+batchnorm+relu, conv 256 1x1+batchnorm+relu"
    assert f"6x ({block})" in mobilenet and mobilenet.count("depthwiseconv") == 5
    with pytest.raises(ModelError, match="expects a keras.Model"):
        outline("custom")


# --- a user's own builder -----------------------------------------------------------------


def tiny_cnn(input_shape, num_classes, *, width=4):
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(width, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x))


def test_registered_builder_builds_validated_like_the_built_in_ones(registry):
    registry.register_model("tiny_cnn", tiny_cnn, "a 1-conv CNN for the tests")
    assert "tiny_cnn" in registry.list_models()
    model = registry.build_model("tiny_cnn", (20, 24, 1), 3, width=2)
    assert model.output_shape == (None, 3)
    with pytest.raises(ModelError, match="unknown override.*depth.*valid overrides: width"):
        registry.build_model("tiny_cnn", (20, 24, 1), 3, depth=2)
    with pytest.raises(ModelError, match="already registered"):
        registry.register_model("tiny_cnn", tiny_cnn, "again")
    registry.register_model("tiny_cnn", tiny_cnn, "again", replace=True)


def test_a_builder_that_ignores_its_arguments_is_caught_when_built(registry):
    registry.register_model("ten_out", lambda shape, n: tiny_cnn(shape, 10), "always 10 outputs")
    with pytest.raises(ModelError, match=r"made a model from \(8, 8, 3\) images to 10 outputs"):
        registry.build_model("ten_out", (8, 8, 3), 4)
    registry.register_model("not_keras", lambda shape, n: "a string", "no model")
    with pytest.raises(ModelError, match="returned str, not a keras.Model"):
        registry.build_model("not_keras", (8, 8, 3), 4)


@pytest.mark.parametrize(
    ("name", "builder", "description", "match"),
    [
        ("alexnet", tiny_cnn, "mine", "is a built-in model"),
        ("my cnn", tiny_cnn, "mine", "must be an identifier"),
        ("mine", 42, "mine", "must be callable"),
        ("mine", lambda shape: None, "mine", r"must take \(input_shape, num_classes\)"),
        ("mine", tiny_cnn, " ", "needs a one-line description"),
    ],
)
def test_register_model_refuses_bad_registrations(registry, name, builder, description, match):
    with pytest.raises(ModelError, match=match):
        registry.register_model(name, builder, description)


def test_custom_logit_scale_is_airbench_s_up_to_ten_classes_and_grows_beyond():
    from cnnbench.models.custom import LOGIT_SCALE, logit_scale_for

    def scale(num_classes, **kw):
        model = build_model("custom", (32, 32, 3), num_classes, **kw)
        return model.get_layer("classifier").get_layer("logit_scale").scale

    assert scale(2) == scale(10) == pytest.approx(LOGIT_SCALE) == pytest.approx(1 / 9)
    assert scale(100) == pytest.approx(logit_scale_for(100)) == pytest.approx(10**0.5 / 9)
    assert scale(100, logit_scale=1.0) == 1.0
    with pytest.raises(ModelError, match="custom: logit_scale must be a number > 0"):
        build_model("custom", (32, 32, 3), 10, logit_scale=0)
