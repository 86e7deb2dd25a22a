"""Tests for cnnbench.data: sampling arithmetic, splits, provenance, sources and bad input."""

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from cnnbench import data
from cnnbench.data import (
    AUGMENTATIONS,
    DATASETS,
    KNOWN_FILES,
    NPZ_KEYS,
    SAMPLE_DIR,
    from_arrays,
    from_directory,
    load_dataset,
    stratified_sample,
)
from cnnbench.errors import DatasetError, DataSourceError

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist.npz"
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def arrays(train_counts, test_counts=None, shape=(2, 2)):
    """Tiny images whose first pixel is the image's index mod 256 (to check which were taken)."""
    test_counts = train_counts if test_counts is None else test_counts

    def split(counts):
        y = np.repeat(np.arange(len(counts)), counts)
        x = np.zeros((len(y), *shape), dtype=np.uint8)
        x.reshape(len(y), -1)[:, 0] = np.arange(len(y)) % 256
        return x, y

    return (*split(train_counts), *split(test_counts))


def write_npz(folder, name="mnist", **overrides):
    x_train, y_train, x_test, y_test = arrays([3] * 10, [1] * 10, shape=(4, 4))
    content = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    content.update(overrides)
    content = {k: v for k, v in content.items() if v is not None}
    path = Path(folder) / f"{name}.npz"
    np.savez_compressed(path, **content)
    return path


def per_class(y, num_classes):
    return np.bincount(y, minlength=num_classes).tolist()


# --- sampling arithmetic -------------------------------------------------------------------


def test_stratified_sample_rounds_each_class_half_up():
    y = np.repeat(np.arange(4), [10, 7, 3, 5])
    idx = stratified_sample(y, 0.5, seed=0)
    # 5, 3.5 -> 4, 1.5 -> 2, 2.5 -> 3 (half up, not banker's rounding)
    assert per_class(y[idx], 4) == [5, 4, 2, 3]
    assert np.all(np.diff(idx) > 0)


def test_cifar_like_quarter_keeps_1250_per_class():
    y = np.repeat(np.arange(10), 5000)
    idx = stratified_sample(y, 0.25, seed=42)
    assert len(idx) == 12_500
    assert per_class(y[idx], 10) == [1250] * 10


def test_mnist_like_quarter_uses_per_class_rounding():
    y = np.repeat(np.arange(10), MNIST_TRAIN_COUNTS)
    counts = per_class(y[stratified_sample(y, 0.25)], 10)
    assert counts == [int(np.floor(0.25 * n + 0.5)) for n in MNIST_TRAIN_COUNTS]
    assert sum(counts) == 15_002


def test_smaller_fraction_sample_is_nested_in_larger():
    y = np.repeat(np.arange(3), [40, 50, 60])
    small, large = stratified_sample(y, 0.2, seed=3), stratified_sample(y, 0.6, seed=3)
    assert set(small) <= set(large)


def test_from_arrays_cifar_like_split_sizes():
    x_train, y_train, x_test, y_test = arrays([5000] * 10, [1000] * 10, shape=(1, 1))
    ds = from_arrays(x_train, y_train, x_test, y_test, sample_fraction=0.25)
    assert per_class(ds.y_train, 10) == [1250] * 10
    assert per_class(ds.y_val, 10) == [500] * 10
    assert len(ds.y_test) == 10_000
    assert ds.val_strategy == "held-out remainder"


# --- splits --------------------------------------------------------------------------------


def test_held_out_val_is_outside_sample_and_rows_match_indices():
    x_train, y_train, x_test, y_test = arrays([30, 20, 40], [10, 10, 10])
    ds = from_arrays(x_train, y_train, x_test, y_test, sample_fraction=0.3, seed=7)
    train, val = set(ds.train_indices), set(ds.val_indices)
    assert not train & val
    assert train | val < set(range(len(y_train)))
    assert per_class(ds.y_train, 3) == [9, 6, 12]
    assert per_class(ds.y_val, 3) == [3, 2, 4]
    np.testing.assert_array_equal(ds.x_train, x_train[..., None][ds.train_indices])
    np.testing.assert_array_equal(ds.y_val, y_train[ds.val_indices])
    np.testing.assert_array_equal(ds.x_test[:, 0, 0, 0], np.arange(30))
    np.testing.assert_array_equal(
        ds.train_indices, stratified_sample(y_train, 0.3, seed=7), strict=True
    )


def test_full_fraction_carves_val_from_training_set():
    x_train, y_train, x_test, y_test = arrays([30, 20, 40])
    ds = from_arrays(x_train, y_train, x_test, y_test, sample_fraction=1.0)
    assert ds.val_strategy == "carved from training sample"
    assert not set(ds.train_indices) & set(ds.val_indices)
    assert sorted([*ds.train_indices, *ds.val_indices]) == list(range(90))
    assert per_class(ds.y_val, 3) == [3, 2, 4]


def test_val_is_the_same_images_for_every_fraction():
    x_train, y_train, x_test, y_test = arrays([100, 80])
    vals = [
        from_arrays(x_train, y_train, x_test, y_test, sample_fraction=f, seed=5).val_indices
        for f in (0.1, 0.5, 1.0)
    ]
    np.testing.assert_array_equal(vals[0], vals[1])
    np.testing.assert_array_equal(vals[0], vals[2])


def test_val_is_capped_by_the_remainder():
    x_train, y_train, x_test, y_test = arrays([10, 10])
    ds = from_arrays(x_train, y_train, x_test, y_test, sample_fraction=0.8, val_fraction=0.3)
    assert per_class(ds.y_train, 2) == [8, 8] and per_class(ds.y_val, 2) == [2, 2]


def test_same_seed_same_indices_other_seed_different():
    x_train, y_train, x_test, y_test = arrays([50, 50, 50], [20, 20, 20])

    def build(seed):
        return from_arrays(
            x_train, y_train, x_test, y_test, sample_fraction=0.4, test_fraction=0.5, seed=seed
        )

    a, b, c = build(1), build(1), build(2)
    for split in ("train_indices", "val_indices", "test_indices"):
        np.testing.assert_array_equal(getattr(a, split), getattr(b, split))
    assert not np.array_equal(a.train_indices, c.train_indices)
    assert not np.array_equal(a.test_indices, c.test_indices)


def test_test_fraction_is_stratified():
    x_train, y_train, x_test, y_test = arrays([10, 10], [40, 22])
    ds = from_arrays(x_train, y_train, x_test, y_test, test_fraction=0.25)
    assert per_class(ds.y_test, 2) == [10, 6]  # 5.5 rounds up
    assert set(ds.test_indices) <= set(range(62))


# --- array handling ------------------------------------------------------------------------


def test_grayscale_gets_channel_axis_and_dtypes_are_fixed(tiny_dataset):
    x_train, y_train, x_test, y_test = arrays([10, 10], shape=(5, 6))
    ds = from_arrays(x_train, y_train[:, None], x_test, y_test)
    assert ds.x_train.shape[1:] == ds.x_val.shape[1:] == ds.x_test.shape[1:] == (5, 6, 1)
    assert ds.input_shape == (5, 6, 1)
    assert ds.x_train.dtype == ds.x_val.dtype == ds.x_test.dtype == np.uint8
    assert ds.y_train.dtype == ds.y_test.dtype == np.int64 and ds.y_train.ndim == 1
    assert tiny_dataset.input_shape == (32, 32, 3) and tiny_dataset.num_classes == 3
    assert tiny_dataset.x_train.dtype == np.uint8


def test_whole_number_images_are_cast_to_uint8():
    x_train, y_train, x_test, y_test = arrays([10, 10])
    ds = from_arrays(x_train.astype(np.float32), y_train.astype(np.float64), x_test, y_test)
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.full((20, 2, 2), 0.5, dtype=np.float32), r"whole numbers.*scaled to \[0, 1\]"),
        (np.full((20, 2, 2), 300, dtype=np.int32), r"\[0, 255\]"),
        (np.zeros((20, 2, 2, 2), dtype=np.uint8), "C 1 or 3"),
        (np.zeros((20, 4), dtype=np.uint8), r"\(n, H, W\)"),
    ],
)
def test_bad_images_rejected(x, match):
    _, y_train, x_test, y_test = arrays([10, 10])
    with pytest.raises(DatasetError, match=match):
        from_arrays(x, y_train, x_test, y_test)


def test_length_mismatch_names_both_lengths():
    x_train, y_train, x_test, y_test = arrays([10, 10])
    with pytest.raises(DatasetError, match="x_train has 20 images but y_train has 19 labels"):
        from_arrays(x_train, y_train[:-1], x_test, y_test)


def test_labels_out_of_range_and_negative():
    x_train, y_train, x_test, y_test = arrays([10, 10, 10])
    with pytest.raises(DatasetError, match=r"label 2 is out of range for 2 classes.*\[0, 2\)"):
        from_arrays(x_train, y_train, x_test, y_test, class_names=("a", "b"))
    with pytest.raises(DatasetError, match="negative label -1"):
        from_arrays(x_train, y_train - 1, x_test, y_test)


def test_single_class_and_missing_class_rejected():
    x_train, y_train, x_test, y_test = arrays([10])
    with pytest.raises(DatasetError, match="at least 2 classes"):
        from_arrays(x_train, y_train, x_test, y_test)
    x_train, y_train, x_test, y_test = arrays([10, 0, 10], [2, 2, 2])
    with pytest.raises(DatasetError, match=r"no training images for class '1' \(label 1\)"):
        from_arrays(x_train, y_train, x_test, y_test)


def test_train_test_shape_mismatch_rejected():
    x_train, y_train, _, y_test = arrays([10, 10])
    with pytest.raises(DatasetError, match="differ in shape"):
        from_arrays(x_train, y_train, np.zeros((20, 3, 3), np.uint8), y_test)


# --- parameter validation ------------------------------------------------------------------


def test_unknown_name_lists_valid_names():
    with pytest.raises(DatasetError, match=r"'imagenet'.*\['cifar10', 'cifar100', 'fashion_mnist'"):
        load_dataset("imagenet", source="sample")


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, float("nan"), True, "0.5"])
def test_bad_sample_fraction_rejected(fraction):
    with pytest.raises(DatasetError, match=r"sample_fraction must be a number in \(0, 1\]"):
        load_dataset("mnist", sample_fraction=fraction, source="sample")
    with pytest.raises(DatasetError, match="fraction must be a number"):
        stratified_sample([0, 1, 1], fraction)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"val_fraction": 1.0}, r"val_fraction must be a number in \(0, 1\)"),
        ({"val_fraction": 0}, "val_fraction"),
        ({"test_fraction": 0}, r"test_fraction must be a number in \(0, 1\]"),
        ({"seed": -1}, "seed must be a non-negative int"),
        ({"seed": 1.5}, "seed must be a non-negative int"),
        ({"source": "web"}, r"unknown source 'web'.*'sample'"),
        ({"source": "keras", "data_dir": "."}, "ignored by source='keras'"),
    ],
)
def test_bad_load_parameters_rejected(kwargs, match):
    with pytest.raises(DatasetError, match=match):
        load_dataset("mnist", **kwargs)


def test_fraction_too_small_for_a_class_names_it():
    x_train, y_train, x_test, y_test = arrays([100, 3, 100])
    with pytest.raises(DatasetError, match=r"leaves class 'b' \(label 1, 3 images\).*>= 0.1667 "):
        from_arrays(
            x_train, y_train, x_test, y_test, class_names=("a", "b", "c"), sample_fraction=0.1
        )
    with pytest.raises(DatasetError, match="test_fraction=0.1 leaves class"):
        from_arrays(x_train, y_train, x_test, y_test, test_fraction=0.1)
    advised = from_arrays(x_train, y_train, x_test, y_test, sample_fraction=0.1667)
    assert per_class(advised.y_train, 3) == [17, 1, 17]


def test_too_few_images_for_validation_rejected():
    x_train, y_train, x_test, y_test = arrays([10, 1])
    with pytest.raises(DatasetError, match=r"'1' \(label 1\) has 1 training image"):
        from_arrays(x_train, y_train, x_test, y_test)
    x_train, y_train, x_test, y_test = arrays([10, 10])
    with pytest.raises(DatasetError, match="leaving none for validation"):
        from_arrays(x_train, y_train, x_test, y_test, sample_fraction=0.99)


def test_bad_augmentations_rejected():
    x_train, y_train, x_test, y_test = arrays([10, 10])
    with pytest.raises(DatasetError, match=r"unknown augmentations \['flip'\]"):
        from_arrays(x_train, y_train, x_test, y_test, augmentations=("flip",))


# --- data folder, provenance ---------------------------------------------------------------


def test_missing_data_file_named_with_expected_keys(tmp_path):
    with pytest.raises(DataSourceError, match="cifar10.npz") as err:
        load_dataset("cifar10", data_dir=tmp_path)
    assert all(key in str(err.value) for key in NPZ_KEYS)


def test_npz_missing_keys_rejected(tmp_path):
    write_npz(tmp_path, y_test=None)
    with pytest.raises(DataSourceError, match=r"lacks keys \['y_test'\].*x_train"):
        load_dataset("mnist", data_dir=tmp_path)


@pytest.mark.parametrize("content", [b"definitely not a zip archive" * 10, b""])
def test_corrupt_npz_rejected(tmp_path, content):
    (tmp_path / "mnist.npz").write_bytes(content)
    with pytest.raises(DataSourceError, match=r"cannot read .*mnist.npz.*x_train"):
        load_dataset("mnist", data_dir=tmp_path)


def test_truncated_npz_rejected(tmp_path):
    path = write_npz(tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataSourceError, match="mnist.npz"):
        load_dataset("mnist", data_dir=tmp_path)


def test_env_var_data_dir_is_used_and_unknown_file_is_unverified(tmp_path, monkeypatch):
    path = write_npz(tmp_path)
    monkeypatch.setenv("CNNBENCH_DATA_DIR", str(tmp_path))
    ds = load_dataset("mnist", sample_fraction=1.0)
    assert (ds.source, ds.source_path) == ("data_dir", str(path))
    assert ds.variant == "user-supplied file (unverified)"
    assert ds.class_names == DATASETS["mnist"]["class_names"]
    assert ds.input_shape == (4, 4, 1)


def test_data_dir_argument_overrides_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNBENCH_DATA_DIR", str(tmp_path / "nowhere"))
    path = write_npz(tmp_path)
    assert load_dataset("mnist", sample_fraction=1.0, data_dir=tmp_path).source_path == str(path)


def test_source_data_dir_without_folder_rejected(monkeypatch):
    monkeypatch.delenv("CNNBENCH_DATA_DIR", raising=False)
    with pytest.raises(DataSourceError, match="data_dir= or set CNNBENCH_DATA_DIR"):
        load_dataset("mnist", source="data_dir")


def test_known_hash_gives_its_variant(tmp_path, monkeypatch):
    path = write_npz(tmp_path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setitem(KNOWN_FILES, sha, "checked test file")
    assert load_dataset("mnist", sample_fraction=1.0, data_dir=tmp_path).variant == (
        "checked test file"
    )


def test_known_files_label_the_lossy_cifar10_copy():
    label = KNOWN_FILES["2d272e8812ecd24d1ae79a1796702033f14117b252d024dbbbdc74567d6c45f4"]
    assert "lossy" in label and "JPEG" in label


@pytest.mark.skipif(not SHARED_MNIST.is_file(), reason="no ../shared/data/mnist.npz")
def test_shared_mnist_loads_through_data_dir():
    ds = load_dataset("mnist", data_dir=SHARED_MNIST.parent)
    assert ds.variant.startswith("official MNIST (lossless")
    assert len(ds.y_train) == 15_002 and len(ds.y_test) == 10_000
    assert ds.x_train.shape[1:] == (28, 28, 1)


# --- keras source (never touches the network) ----------------------------------------------


def test_failed_download_explains_offline_options(monkeypatch):
    keras = pytest.importorskip("keras")

    def offline():
        raise Exception("URL fetch failure: no network")  # what keras raises offline

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.delenv("CNNBENCH_DATA_DIR", raising=False)
    with pytest.raises(DataSourceError) as err:
        load_dataset("mnist")
    message = str(err.value)
    assert "data_dir=" in message and "CNNBENCH_DATA_DIR" in message
    assert "source='sample'" in message and "no network" in message


def test_keras_source_labels_official(monkeypatch):
    keras = pytest.importorskip("keras")
    x_train, y_train, x_test, y_test = arrays([10] * 10, [2] * 10, shape=(32, 32, 3))

    def fake_download():  # keras gives CIFAR labels shaped (n, 1)
        return (x_train, y_train[:, None]), (x_test, y_test[:, None])

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", fake_download)
    ds = load_dataset("cifar10", source="keras", sample_fraction=0.5)
    assert (ds.source, ds.source_path, ds.variant) == ("keras", None, "official (keras.datasets)")
    assert per_class(ds.y_train, 10) == [5] * 10


# --- shipped sample ------------------------------------------------------------------------


def test_sample_mnist(sample_mnist):
    ds = sample_mnist
    assert (ds.source, ds.variant) == ("sample", data.SAMPLE_VARIANT)
    assert ds.input_shape == (28, 28, 1) and ds.num_classes == 10
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (5400, 600, 1000)
    assert "horizontal_flip" not in ds.augmentations


def test_sample_cifar10(sample_cifar10):
    ds = sample_cifar10
    assert ds.input_shape == (32, 32, 3) and ds.class_names[0] == "airplane"
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (900, 100, 300)
    assert per_class(ds.y_test, 10) == [30] * 10
    assert ds.augmentations == AUGMENTATIONS


def test_sample_with_default_fraction():
    ds = load_dataset("cifar10", source="sample")
    assert per_class(ds.y_train, 10) == [25] * 10 and per_class(ds.y_val, 10) == [10] * 10


def test_sample_exists_only_for_mnist_and_cifar10():
    with pytest.raises(DataSourceError, match=r"no shipped sample for 'cifar100'"):
        load_dataset("cifar100", source="sample")


def test_sample_readme_lists_the_shipped_hashes():
    readme = (SAMPLE_DIR / "README.md").read_text()
    listed = dict(re.findall(r"\| `(\w+\.npz)` \|.*\| `([0-9a-f]{64})` \|", readme))
    actual = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SAMPLE_DIR.glob("*.npz")}
    assert listed == actual and set(actual) == {"mnist.npz", "cifar10.npz"}


# --- from_directory ------------------------------------------------------------------------


def write_images(root, layout, size=(10, 12)):
    from PIL import Image

    for split, classes in layout.items():
        for cls, n in classes.items():
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(n):
                pixels = np.full((*size, 3), 40 * i, dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")


def test_from_directory_reads_sorted_classes_and_resizes(tmp_path):
    write_images(tmp_path, {"train": {"dog": 4, "cat": 3}, "test": {"cat": 2, "dog": 1}})
    ds = from_directory(tmp_path, image_size=(8, 8), name="pets")
    assert ds.class_names == ("cat", "dog") and ds.name == "pets"
    assert (ds.source, ds.source_path) == ("directory", str(tmp_path))
    assert ds.input_shape == (8, 8, 3) and ds.x_train.dtype == np.uint8
    assert len(ds.y_train) + len(ds.y_val) == 7 and per_class(ds.y_test, 2) == [2, 1]
    gray = from_directory(tmp_path, image_size=(8, 8), color_mode="grayscale")
    assert gray.input_shape == (8, 8, 1)


@pytest.mark.parametrize(
    ("layout", "match"),
    [
        ({"train": {"cat": 2, "dog": 2}}, r"has a train/ folder but no test/"),
        ({"train": {"cat": 2, "dog": 0}, "test": {"cat": 1}}, "holds no"),
        ({"train": {"cat": 2, "dog": 2}, "test": {"cow": 1}}, r"\['cow'\]"),
    ],
)
def test_from_directory_bad_layout(tmp_path, layout, match):
    write_images(tmp_path, layout)
    with pytest.raises(DataSourceError, match=match):
        from_directory(tmp_path)


def write_flat(root, counts, size=(10, 12), suffix=".png"):
    """``root/<class>/<i><suffix>``: Keras's image-folder layout."""
    from PIL import Image

    for cls, n in counts.items():
        folder = root / cls
        folder.mkdir(parents=True)
        for i in range(n):
            pixels = np.full((*size, 3), 20 * i, dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}{suffix}")


def test_from_directory_carves_a_stratified_test_split_from_class_folders(tmp_path):
    write_flat(tmp_path, {"tulip": 10, "daisy": 10, "iris": 5})
    ds = from_directory(tmp_path, image_size=(8, 8), test_split=0.2)
    assert ds.class_names == ("daisy", "iris", "tulip")
    assert per_class(ds.y_test, 3) == [2, 1, 2]  # round(0.2 x count) of each class
    assert list(np.add(per_class(ds.y_train, 3), per_class(ds.y_val, 3))) == [8, 4, 8]
    again = from_directory(tmp_path, image_size=(8, 8), test_split=0.2)
    assert np.array_equal(again.x_test, ds.x_test)  # the seed fixes the carve
    other = from_directory(tmp_path, image_size=(8, 8), test_split=0.2, seed=7)
    assert not np.array_equal(other.x_test, ds.x_test)
    with pytest.raises(DatasetError, match="test_split"):
        from_directory(tmp_path, test_split=1.0)


def test_from_directory_skips_what_tools_leave_beside_images(tmp_path):
    write_flat(tmp_path, {"cat": 4, "dog": 4}, suffix=".JPG")
    (tmp_path / ".ipynb_checkpoints").mkdir()  # Jupyter's, at the top
    (tmp_path / "__MACOSX" / "cat").mkdir(parents=True)  # a macOS zip's
    (tmp_path / "cat" / ".DS_Store").write_bytes(b"\0")
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / "cat" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "cat" / ".ipynb_checkpoints" / "0-checkpoint.png").write_bytes(b"junk")
    nested = tmp_path / "dog" / "more"  # a subfolder of a class folder is read too
    nested.mkdir()
    write_flat(nested, {"x": 2})
    ds = from_directory(tmp_path, image_size=(24, 40), color_mode="grayscale", test_split=0.25)
    assert ds.class_names == ("cat", "dog") and ds.input_shape == (24, 40, 1)
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == 4 + 6


@pytest.mark.parametrize(
    ("counts", "match"),
    [
        ({}, "has no class subfolders"),
        ({"cat": 3, "dog": 0}, r"class folder .*dog' holds no"),
        ({"cat": 3, "dog": 1}, r"\['dog'\] .* hold a single image"),
        ({"cat": 3, "dog": 2}, r"test_split=0.2 leaves class 'dog'"),
    ],
)
def test_from_directory_refuses_bad_class_folders_by_name(tmp_path, counts, match):
    write_flat(tmp_path, counts)
    with pytest.raises(DataSourceError if "test_split" not in match else DatasetError, match=match):
        from_directory(tmp_path)


def test_from_directory_undecodable_image(tmp_path):
    write_images(tmp_path, {"train": {"cat": 2, "dog": 2}, "test": {"cat": 1}})
    (tmp_path / "train" / "cat" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataSourceError, match="cannot decode image .*broken.png"):
        from_directory(tmp_path)
    write_flat(tmp_path / "flat", {"cat": 3, "dog": 3})
    (tmp_path / "flat" / "dog" / "broken.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataSourceError, match=r"cannot decode image .*flat/dog/broken.jpg"):
        from_directory(tmp_path / "flat")


# --- Dataset object, DATASETS --------------------------------------------------------------


def test_describe_is_json_and_counts_match(tiny_dataset):
    summary = json.loads(json.dumps(tiny_dataset.describe()))
    assert summary["sizes"] == {"train": 33, "val": 3, "test": 12}
    assert summary["class_counts"]["train"] == [11, 11, 11]
    assert summary["class_names"] == ["dark", "mid", "bright"]
    assert summary["input_shape"] == [32, 32, 3] and summary["source"] == "arrays"
    assert summary["val_strategy"] == "carved from training sample"


def test_dataset_is_frozen(tiny_dataset):
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny_dataset.name = "other"


def test_datasets_table():
    assert set(DATASETS) == {"mnist", "fashion_mnist", "cifar10", "cifar100"}
    assert "horizontal_flip" not in DATASETS["mnist"]["augmentations"]
    for name in ("fashion_mnist", "cifar10", "cifar100"):
        assert DATASETS[name]["augmentations"] == AUGMENTATIONS
    fine = DATASETS["cifar100"]["class_names"]
    assert len(set(fine)) == 100 and list(fine) == sorted(fine)  # keras fine labels are sorted
