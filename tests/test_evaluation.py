"""evaluate(): metrics checked against independent computations on a real trained model."""

import json

import numpy as np
import pytest

from cnnbench import build_model, count_flops, evaluate, from_arrays, set_seed, train
from cnnbench.data import AUGMENTATIONS
from cnnbench.errors import ConfigError
from cnnbench.evaluation import predict_proba


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)

    def make(n):
        y = np.arange(n) % 4
        x = (rng.integers(0, 50, (n, 16, 16, 1)) + 60 * y[:, None, None, None]).astype(np.uint8)
        return x, y

    (x, y), (xt, yt) = make(200), make(80)
    ds = from_arrays(x, y, xt, yt, class_names=["a", "b", "c", "d"], name="toy")
    set_seed(0)
    model = build_model("custom_v1", ds.input_shape, ds.num_classes)
    train(model, ds, epochs=2, batch_size=32, verbose=0)
    return model, ds


def test_metrics_match_an_independent_computation(trained):
    model, ds = trained
    ev = evaluate(model, ds)
    proba = model.predict(ds.x_test.astype("float32"), verbose=0)
    pred = proba.argmax(1)
    assert ev.accuracy == pytest.approx((pred == ds.y_test).mean())
    expected_loss = -np.mean(np.log(proba[np.arange(len(pred)), ds.y_test]))
    assert ev.loss == pytest.approx(expected_loss, rel=1e-3)
    assert ev.confusion_matrix.sum() == len(ds.y_test)
    assert np.trace(ev.confusion_matrix) == (pred == ds.y_test).sum()
    for c in range(ds.num_classes):
        mask = ds.y_test == c
        assert ev.per_class_accuracy[c] == pytest.approx((pred[mask] == c).mean())
        assert ev.report[ds.class_names[c]]["support"] == mask.sum()
    frame = ev.report_frame()
    assert list(frame.index) == list(ds.class_names)
    assert list(frame.columns) == ["precision", "recall", "f1-score", "support", "accuracy"]
    assert ev.params == model.count_params()


def test_speed_is_measured_and_serialisable(trained):
    model, ds = trained
    ev = evaluate(model, ds)
    assert ev.latency_ms > 0 and ev.throughput_ips > 0
    summary = json.loads(json.dumps(ev.to_dict()))
    assert summary["accuracy"] == ev.accuracy and "y_true" not in summary
    assert len(ev.to_dict(include_predictions=True)["y_pred"]) == len(ds.y_test)
    quiet = evaluate(model, ds, split="val", timing=False)
    assert quiet.latency_ms is None and quiet.split == "val"
    assert quiet.confusion_matrix.sum() == len(ds.y_val)


def test_flops_of_custom_v2_counted_by_hand():
    model = build_model("custom_v2", (32, 32, 3), 10)
    conv1 = 2 * 32 * 32 * (3 * 3 * 3 * 64)
    conv2 = 2 * 16 * 16 * (3 * 3 * 64 * 128)
    dense = 2 * (8 * 8 * 128 * 256 + 256 * 10)
    assert count_flops(model) == conv1 + conv2 + dense


def test_bad_evaluation_requests(trained):
    model, ds = trained
    with pytest.raises(ConfigError, match="split"):
        evaluate(model, ds, split="holdout")
    other = from_arrays(
        np.zeros((20, 8, 8, 1), np.uint8),
        np.arange(20) % 4,
        np.zeros((8, 8, 8, 1), np.uint8),
        np.arange(8) % 4,
        name="small",
    )
    with pytest.raises(ConfigError, match="takes inputs of shape"):
        evaluate(model, other)


def test_tta_averages_the_mirror_images(trained):
    model, _ = trained
    rng = np.random.default_rng(3)
    x = rng.integers(0, 255, (40, 16, 16, 1)).astype(np.uint8)
    y = np.arange(40) % 4
    flippable = from_arrays(
        x,
        y,
        x[:12],
        y[:12],
        name="toy",
        class_names=list("abcd"),
        augmentations=("horizontal_flip",),
    )
    ev = evaluate(model, flippable, timing=False, tta=True)
    plain = model.predict(x[:12].astype("float32"), verbose=0)
    mirror = model.predict(x[:12, :, ::-1].astype("float32"), verbose=0)
    assert np.allclose(ev.probabilities, (plain + mirror) / 2, atol=1e-6)
    assert ev.to_dict()["tta"] == "flip"
    digits = from_arrays(x, y, x[:12], y[:12], name="digits")  # no horizontal_flip
    with pytest.raises(ConfigError, match=r"needs \['horizontal_flip'\]"):
        evaluate(model, digits, tta=True)


def test_translate_tta_is_airbenchs_six_views(trained):
    """flip_translate: half the flip average, half the flip averages one pixel up-left and
    down-right (edges reflected); computed here view by view, by hand."""
    model, _ = trained
    rng = np.random.default_rng(4)
    x = rng.integers(0, 255, (12, 16, 16, 1)).astype(np.uint8)
    y = np.arange(12) % 4
    toy = from_arrays(x, y, x, y, name="toy", class_names=list("abcd"), augmentations=AUGMENTATIONS)

    def p(images):
        return model.predict(images.astype("float32"), verbose=0)

    def mirrored(images):
        return (p(images) + p(images[:, :, ::-1])) / 2

    up_left = np.concatenate([x[:, 1:2], x[:, :-1]], axis=1)  # row -1 reflects to row 1
    up_left = np.concatenate([up_left[:, :, 1:2], up_left[:, :, :-1]], axis=2)
    down_right = np.concatenate([x[:, 1:], x[:, -2:-1]], axis=1)
    down_right = np.concatenate([down_right[:, :, 1:], down_right[:, :, -2:-1]], axis=2)
    both = evaluate(model, toy, timing=False, tta="flip_translate").probabilities
    expected = mirrored(x) / 2 + (mirrored(up_left) + mirrored(down_right)) / 4
    assert np.allclose(both, expected, atol=1e-6)
    shift = evaluate(model, toy, timing=False, tta="translate").probabilities
    assert np.allclose(shift, p(x) / 2 + (p(up_left) + p(down_right)) / 4, atol=1e-6)
    assert np.allclose(both.sum(axis=1), 1, atol=1e-6)
    still = from_arrays(x, y, x, y, name="still", augmentations=("horizontal_flip",))
    with pytest.raises(ConfigError, match=r"needs \['translation'\], but 'still' labels"):
        evaluate(model, still, tta="flip_translate")
    with pytest.raises(ConfigError, match="tta must be False, True or one of"):
        evaluate(model, toy, tta="mirror")
    with pytest.raises(ConfigError, match="tta must be False, True or one of"):
        predict_proba(model, x, tta="flp")  # a typo is refused, not read as no TTA
