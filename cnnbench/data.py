"""Datasets: loading, stratified sampling, train/val/test splits and provenance.

:func:`load_dataset`, :func:`from_arrays` and :func:`from_directory` all end in one builder, so
validation, sampling and splitting behave identically whatever the data came from. Each
:class:`Dataset` records where its pixels came from (``source``, ``source_path``, ``variant``) and
the indices it took, so a run can be reproduced and its numbers labelled honestly.
"""

from __future__ import annotations

import hashlib
import math
import os
import zipfile
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from cnnbench.checks import check_fraction, check_int, is_int
from cnnbench.errors import DatasetError, DataSourceError

AUGMENTATIONS = ("rotation", "translation", "zoom", "horizontal_flip")
# A mirrored digit is a different (or no) digit, so digits are never flipped.
_NO_FLIP = ("rotation", "translation", "zoom")

SOURCES = ("auto", "keras", "data_dir", "sample")
DATA_DIR_ENV = "CNNBENCH_DATA_DIR"
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
SAMPLE_DIR = Path(__file__).resolve().parent / "sample_data"
SAMPLE_NAMES = ("mnist", "cifar10")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")  # what Keras's image loader reads

KERAS_VARIANT = "official (keras.datasets)"
SAMPLE_VARIANT = "cnnbench shipped sample (original pixels)"
UNKNOWN_FILE_VARIANT = "user-supplied file (unverified)"
ARRAYS_VARIANT = "user-supplied arrays (unverified)"
DIRECTORY_VARIANT = "user-supplied image folder (unverified)"

# sha256 of data files whose provenance was checked (see the data folder's SOURCES.md).
KNOWN_FILES = {
    "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64": (
        "official MNIST (lossless, complete, official order)"
    ),
    "2d272e8812ecd24d1ae79a1796702033f14117b252d024dbbbdc74567d6c45f4": (
        "JPEG-derived copy of CIFAR-10 (lossy pixels, exact labels)"
    ),
    "62edef4b12ec2528b9f2942ba4d5cb466eb6f3eb5e1eea0d3d02486fc8726902": (
        "CIFAR-10 lossless subset (original pixels; train 0-3999, test 0-999)"
    ),
}


# fmt: off
_CIFAR100_CLASSES = (  # keras fine labels, in label order (alphabetical)
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar",
    "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile",
    "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster",
    "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster",
    "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange",
    "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy",
    "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal",
    "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar",
    "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
    "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman",
    "worm",
)

# name -> class names (in label order) and the augmentations that keep each label true.
DATASETS = {
    "mnist": {
        "class_names": tuple(str(d) for d in range(10)),
        "augmentations": _NO_FLIP,
    },
    "fashion_mnist": {
        "class_names": (
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
        "augmentations": AUGMENTATIONS,
    },
    "cifar10": {
        "class_names": (
            "airplane", "automobile", "bird", "cat", "deer",
            "dog", "frog", "horse", "ship", "truck",
        ),
        "augmentations": AUGMENTATIONS,
    },
    "cifar100": {"class_names": _CIFAR100_CLASSES, "augmentations": AUGMENTATIONS},
}
# fmt: on


@dataclass(frozen=True, eq=False, kw_only=True)
class Dataset:
    """Train/val/test arrays plus everything needed to reproduce and label them.

    Images are ``uint8`` ``(n, H, W, C)``; labels are ``int64`` ``(n,)``. The index arrays point
    into the source's original train (``train_indices``, ``val_indices``) and test arrays.
    """

    name: str
    x_train: np.ndarray = field(repr=False)
    x_val: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    y_val: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    class_names: tuple[str, ...]
    source: str
    source_path: str | None
    variant: str
    seed: int
    sample_fraction: float
    val_fraction: float
    test_fraction: float
    train_indices: np.ndarray = field(repr=False)
    val_indices: np.ndarray = field(repr=False)
    test_indices: np.ndarray = field(repr=False)
    val_strategy: str
    augmentations: tuple[str, ...]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of one image."""
        height, width, channels = self.x_train.shape[1:]
        return int(height), int(width), int(channels)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def describe(self) -> dict:
        """JSON-serialisable summary: provenance, fractions, sizes and per-class counts."""

        def counts(y: np.ndarray) -> list[int]:
            return np.bincount(y, minlength=self.num_classes).tolist()

        return {
            "name": self.name,
            "source": self.source,
            "source_path": self.source_path,
            "variant": self.variant,
            "seed": self.seed,
            "sample_fraction": self.sample_fraction,
            "val_fraction": self.val_fraction,
            "test_fraction": self.test_fraction,
            "val_strategy": self.val_strategy,
            "sizes": {
                "train": len(self.y_train),
                "val": len(self.y_val),
                "test": len(self.y_test),
            },
            "class_counts": {
                "train": counts(self.y_train),
                "val": counts(self.y_val),
                "test": counts(self.y_test),
            },
            "input_shape": list(self.input_shape),
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "augmentations": list(self.augmentations),
        }


# ---------------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------------


def load_dataset(
    name: str,
    sample_fraction: float = 0.25,
    seed: int = 42,
    data_dir: str | os.PathLike | None = None,
    source: str = "auto",
    test_fraction: float = 1.0,
    val_fraction: float = 0.1,
) -> Dataset:
    """Load a named dataset, take a stratified training sample and split off validation.

    Args:
        name: one of :data:`DATASETS` (``"mnist"``, ``"cifar10"``, ``"fashion_mnist"``,
            ``"cifar100"``).
        sample_fraction: fraction of each class's training images to keep, in ``(0, 1]``.
        seed: seeds every random choice; the same seed gives the same indices.
        data_dir: folder holding ``<name>.npz`` (keys ``x_train, y_train, x_test, y_test``).
        source: ``"auto"`` (``data_dir``, else ``$CNNBENCH_DATA_DIR``, else a Keras download),
            ``"keras"``, ``"data_dir"`` or ``"sample"`` (the shipped mnist/cifar10 sample, whose
            train part is the training set).
        test_fraction: stratified fraction of the official test set to keep, in ``(0, 1]``.
        val_fraction: per-class validation size as a fraction of the class's training images,
            in ``(0, 1)``; drawn from images outside the sample, or carved from the training
            set when ``sample_fraction == 1``.

    Raises:
        DatasetError: an invalid name or parameter, or a fraction that empties a class.
        DataSourceError: the data file is missing/corrupt, or the download failed.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; valid names: {sorted(DATASETS)}")
    seed = _check_split_params(sample_fraction, seed, val_fraction, test_fraction)
    if source not in SOURCES:
        raise DatasetError(f"unknown source {source!r}; valid sources: {list(SOURCES)}")
    if data_dir is not None and source in ("keras", "sample"):
        raise DatasetError(
            f"data_dir={str(data_dir)!r} is ignored by source={source!r}; "
            "use source='auto' or 'data_dir' to read it, or drop data_dir"
        )
    arrays, used_source, path, variant = _read_named(name, source, data_dir)
    return _build(
        *arrays,
        name=name,
        class_names=DATASETS[name]["class_names"],
        augmentations=DATASETS[name]["augmentations"],
        source=used_source,
        source_path=path,
        variant=variant,
        sample_fraction=float(sample_fraction),
        seed=seed,
        val_fraction=float(val_fraction),
        test_fraction=float(test_fraction),
    )


def from_arrays(
    x_train,
    y_train,
    x_test,
    y_test,
    *,
    class_names=None,
    name: str = "custom",
    sample_fraction: float = 1.0,
    seed: int = 42,
    val_fraction: float = 0.1,
    test_fraction: float = 1.0,
    augmentations=_NO_FLIP,
) -> Dataset:
    """Build a :class:`Dataset` from your own arrays (grayscale or RGB, any size, >= 2 classes).

    Images must be ``uint8`` or whole numbers in ``[0, 255]`` (cast to ``uint8``), shaped
    ``(n, H, W)`` or ``(n, H, W, C)`` with ``C`` 1 or 3. Labels are integers in
    ``[0, num_classes)``, shaped ``(n,)`` or ``(n, 1)``; every class needs training images.
    ``class_names`` defaults to ``"0", "1", ...``. ``augmentations`` defaults to the ones that
    preserve any label (no horizontal flip); add ``"horizontal_flip"`` when mirroring does.
    The split parameters are as in :func:`load_dataset`.
    """
    seed = _check_split_params(sample_fraction, seed, val_fraction, test_fraction)
    if not isinstance(name, str) or not name:
        raise DatasetError(f"name must be a non-empty string, got {name!r}")
    return _build(
        x_train,
        y_train,
        x_test,
        y_test,
        name=name,
        class_names=class_names,
        augmentations=_check_augmentations(augmentations),
        source="arrays",
        source_path=None,
        variant=ARRAYS_VARIANT,
        sample_fraction=float(sample_fraction),
        seed=seed,
        val_fraction=float(val_fraction),
        test_fraction=float(test_fraction),
    )


def from_directory(
    path: str | os.PathLike,
    *,
    image_size: tuple[int, int] = (32, 32),
    color_mode: str = "rgb",
    name: str | None = None,
    sample_fraction: float = 1.0,
    seed: int = 42,
    val_fraction: float = 0.1,
    test_fraction: float = 1.0,
    test_split: float = 0.2,
    augmentations=_NO_FLIP,
) -> Dataset:
    """Build a :class:`Dataset` from a folder of images, in either of two layouts:

    - ``path/<class>/*``, the layout ``keras.utils.image_dataset_from_directory`` reads: a
      stratified ``test_split`` of each class's images (drawn with ``seed``) is the test set,
      the rest the training images;
    - ``path/train/<class>/*`` and ``path/test/<class>/*``, already split (``test/`` may lack
      some classes but not add any).

    Class names are the sorted class folder names. Images (png, jpg, jpeg, bmp, gif; any case)
    are read from each class folder and its subfolders, decoded with Pillow, converted to
    ``color_mode`` (``"rgb"`` or ``"grayscale"``) and resized to ``image_size`` ``(H, W)``.
    Hidden files and folders (``.ipynb_checkpoints``, ``.DS_Store``, ``__MACOSX``) and other
    files are skipped. A folder without class folders, a class folder without images, an image
    that cannot be decoded and a test class missing from training are refused, by name, before
    anything is returned. ``name`` defaults to the folder name; the rest is as in
    :func:`from_arrays`.
    """
    seed = _check_split_params(sample_fraction, seed, val_fraction, test_fraction)
    check_fraction("test_split", test_split, error=DatasetError)
    if test_split == 1.0:
        raise DatasetError("test_split must be below 1 (the training images are the rest)")
    augmentations = _check_augmentations(augmentations)
    if color_mode not in ("rgb", "grayscale"):
        raise DatasetError(f"color_mode must be 'rgb' or 'grayscale', got {color_mode!r}")
    if (
        not isinstance(image_size, tuple | list)
        or len(image_size) != 2
        or not all(is_int(s, 1) for s in image_size)
    ):
        raise DatasetError(
            f"image_size must be (height, width) of positive ints, got {image_size!r}"
        )
    root = Path(path).expanduser()
    if not root.is_dir():
        raise DataSourceError(f"image folder {str(root)!r} does not exist or is not a folder")
    size = (int(image_size[0]), int(image_size[1]))
    split = (root / "train").is_dir() or (root / "test").is_dir()
    if split:
        for part in ("train", "test"):
            if not (root / part).is_dir():
                raise DataSourceError(
                    f"{str(root)!r} has a {'test' if part == 'train' else 'train'}/ folder but "
                    f"no {part}/: give both train/<class>/ and test/<class>/, or put the class "
                    f"folders directly in {str(root)!r} to carve a test split from them"
                )
        class_names = _class_folders(root / "train")
        test_classes = _class_folders(root / "test")
        extra = sorted(set(test_classes) - set(class_names))
        if extra:
            raise DataSourceError(
                f"{root / 'test'} has class folders {extra} that {root / 'train'} lacks; "
                "every test class must also be a training class"
            )
        x_train, y_train = _read_images(root / "train", class_names, size, color_mode)
        x_test, y_test = _read_images(root / "test", class_names, size, color_mode)
    else:
        class_names = _class_folders(root)
        x_all, y_all = _read_images(root, class_names, size, color_mode)
        counts = np.bincount(y_all, minlength=len(class_names))
        if counts.min() < 2:
            few = [c for c, n in zip(class_names, counts, strict=True) if n < 2]
            raise DataSourceError(
                f"class folder(s) {few} of {str(root)!r} hold a single image: carving a test "
                "split needs at least 2 images per class"
            )
        test_idx = _sample(y_all, test_split, seed, class_names, "test_split", "images")
        train_mask = np.ones(len(y_all), dtype=bool)
        train_mask[test_idx] = False
        x_train, y_train = x_all[train_mask], y_all[train_mask]
        x_test, y_test = x_all[test_idx], y_all[test_idx]
    return _build(
        x_train,
        y_train,
        x_test,
        y_test,
        name=name if name is not None else root.resolve().name,
        class_names=class_names,
        augmentations=augmentations,
        source="directory",
        source_path=str(root),
        variant=DIRECTORY_VARIANT,
        sample_fraction=float(sample_fraction),
        seed=seed,
        val_fraction=float(val_fraction),
        test_fraction=float(test_fraction),
    )


def stratified_sample(y, fraction: float, seed: int = 42, *, class_names=None) -> np.ndarray:
    """Sorted indices of a per-class sample of ``y``: ``round(fraction * count)`` per class.

    Rounding is half up (``floor(fraction * count + 0.5)``). Each class is permuted once with
    ``np.random.default_rng(seed)`` and its first images are taken, so a smaller fraction's
    sample is contained in a larger one's under the same seed. A class that would keep no image
    raises :class:`DatasetError` naming it (``class_names`` gives its name).
    """
    check_fraction("fraction", fraction, error=DatasetError)
    seed = check_int("seed", seed, min_value=0, error=DatasetError)
    labels = _as_labels(y, "y", None)
    if labels.size == 0:
        raise DatasetError("y is empty; need at least one label to sample from")
    num_classes = int(labels.max()) + 1
    names = _default_names(num_classes) if class_names is None else tuple(class_names)
    if len(names) < num_classes:
        raise DatasetError(f"y has label {num_classes - 1} but only {len(names)} class_names")
    return _sample(labels, fraction, seed, names, "fraction", "images")


# ---------------------------------------------------------------------------------------------
# Parameter checks
# ---------------------------------------------------------------------------------------------


def _check_split_params(sample_fraction, seed, val_fraction, test_fraction) -> int:
    check_fraction("sample_fraction", sample_fraction, error=DatasetError)
    check_fraction("val_fraction", val_fraction, high_closed=False, error=DatasetError)
    check_fraction("test_fraction", test_fraction, error=DatasetError)
    return check_int("seed", seed, min_value=0, error=DatasetError)


def _check_augmentations(augmentations) -> tuple[str, ...]:
    if isinstance(augmentations, str):
        raise DatasetError(
            f"augmentations must be a tuple of names, got the string {augmentations!r}"
        )
    augmentations = tuple(augmentations)
    unknown = [a for a in augmentations if a not in AUGMENTATIONS]
    if unknown:
        raise DatasetError(f"unknown augmentations {unknown}; allowed: {list(AUGMENTATIONS)}")
    if len(set(augmentations)) != len(augmentations):
        raise DatasetError(f"augmentations has duplicates: {list(augmentations)}")
    return augmentations


# ---------------------------------------------------------------------------------------------
# Reading sources
# ---------------------------------------------------------------------------------------------


def _read_named(name: str, source: str, data_dir):
    """Return ``(arrays, source, source_path, variant)`` for a named dataset."""
    if source == "sample":
        if name not in SAMPLE_NAMES:
            raise DataSourceError(
                f"no shipped sample for {name!r}; samples exist for {list(SAMPLE_NAMES)}. "
                f"Use data_dir= / {DATA_DIR_ENV} or source='keras' instead"
            )
        path = SAMPLE_DIR / f"{name}.npz"
        return _read_npz(path), "sample", str(path), SAMPLE_VARIANT
    folder = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    if source in ("auto", "data_dir") and folder is not None:
        path = Path(folder).expanduser() / f"{name}.npz"
        arrays = _read_npz(path)
        return arrays, "data_dir", str(path), KNOWN_FILES.get(_sha256(path), UNKNOWN_FILE_VARIANT)
    if source == "data_dir":
        raise DataSourceError(
            f"source='data_dir' needs a data folder: pass data_dir= or set {DATA_DIR_ENV} to a "
            f"folder holding {name}.npz with keys {list(NPZ_KEYS)}"
        )
    return _download(name), "keras", None, KERAS_VARIANT


def _read_npz(path: Path) -> tuple[np.ndarray, ...]:
    expected = f"an .npz archive with keys {list(NPZ_KEYS)} (uint8 images, integer labels)"
    if not path.is_file():
        raise DataSourceError(f"data file {str(path)!r} not found; expected {expected}")
    unreadable = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)
    try:
        npz = np.load(path, allow_pickle=False)
    except unreadable as err:
        raise DataSourceError(f"cannot read {str(path)!r} ({err}); expected {expected}") from err
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise DataSourceError(f"{str(path)!r} holds a single array, not {expected}")
    with npz:
        missing = [k for k in NPZ_KEYS if k not in npz.files]
        if missing:
            raise DataSourceError(
                f"{str(path)!r} lacks keys {missing} (has {sorted(npz.files)}); expected {expected}"
            )
        try:
            return tuple(npz[k] for k in NPZ_KEYS)
        except unreadable as err:
            raise DataSourceError(f"{str(path)!r} is corrupt ({err}); expected {expected}") from err


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(name: str) -> tuple[np.ndarray, ...]:
    try:
        import keras  # deferred: importing TensorFlow costs seconds and only downloads need it

        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    except Exception as err:  # keras raises a bare Exception when the URL fetch fails
        raise DataSourceError(
            f"could not download {name!r} via keras.datasets ({err}). Offline? Pass "
            f"data_dir= (or set {DATA_DIR_ENV}) to a folder holding {name}.npz with keys "
            f"{list(NPZ_KEYS)}, or use source='sample' for the shipped sample "
            f"({', '.join(SAMPLE_NAMES)})"
        ) from err
    return x_train, y_train, x_test, y_test


def _hidden(path: Path) -> bool:
    """Files and folders that tools leave beside images (.ipynb_checkpoints, __MACOSX, ...)."""
    return path.name.startswith(".") or path.name == "__MACOSX"


def _class_folders(folder: Path) -> tuple[str, ...]:
    layouts = "expected <folder>/<class>/*.png|jpg, or <folder>/train/<class>/ and test/<class>/"
    if not folder.is_dir():
        raise DataSourceError(f"missing folder {str(folder)!r}; {layouts}")
    names = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir() and not _hidden(p)))
    if not names:
        raise DataSourceError(f"{str(folder)!r} has no class subfolders; {layouts}")
    return names


def _image_files(class_dir: Path) -> list[Path]:
    """The images of a class folder and its subfolders, in sorted order, hidden ones skipped."""
    return sorted(
        p
        for p in class_dir.rglob("*")
        if p.is_file()
        and p.suffix.lower() in IMAGE_EXTENSIONS
        and not any(_hidden(part) for part in p.relative_to(class_dir).parents if part.name)
        and not _hidden(p)
    )


def _read_images(folder: Path, class_names, size, color_mode):
    from PIL import Image, UnidentifiedImageError

    mode = "RGB" if color_mode == "rgb" else "L"
    images, labels = [], []
    for label, cls in enumerate(class_names):
        class_dir = folder / cls
        if not class_dir.is_dir():
            continue  # a test split may lack a class
        files = _image_files(class_dir)
        if not files:
            raise DataSourceError(
                f"class folder {str(class_dir)!r} holds no {'/'.join(IMAGE_EXTENSIONS)} images"
            )
        for file in files:
            try:
                with Image.open(file) as img:
                    img = img.convert(mode)
                    if img.size != (size[1], size[0]):  # PIL sizes are (width, height)
                        img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                    images.append(np.asarray(img, dtype=np.uint8))
            except (OSError, UnidentifiedImageError) as err:
                raise DataSourceError(f"cannot decode image {str(file)!r} ({err})") from err
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# The shared builder: validate arrays, sample, split
# ---------------------------------------------------------------------------------------------


def _build(
    x_train,
    y_train,
    x_test,
    y_test,
    *,
    name,
    class_names,
    augmentations,
    source,
    source_path,
    variant,
    sample_fraction,
    seed,
    val_fraction,
    test_fraction,
) -> Dataset:
    x_train = _as_images(x_train, "x_train")
    x_test = _as_images(x_test, "x_test")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(
            f"train and test images differ in shape: {x_train.shape[1:]} vs {x_test.shape[1:]}"
        )
    y_train = _as_labels(y_train, "y_train", len(x_train))
    y_test = _as_labels(y_test, "y_test", len(x_test))
    class_names = _check_class_names(class_names, y_train, y_test)

    train_idx, val_idx, val_strategy = _split_train_val(
        y_train, sample_fraction, val_fraction, seed, class_names
    )
    if test_fraction == 1.0:
        test_idx = np.arange(len(y_test))
    else:
        test_idx = _sample(y_test, test_fraction, seed, class_names, "test_fraction", "test images")

    return Dataset(
        name=name,
        x_train=x_train[train_idx],
        x_val=x_train[val_idx],
        x_test=x_test[test_idx],
        y_train=y_train[train_idx],
        y_val=y_train[val_idx],
        y_test=y_test[test_idx],
        class_names=class_names,
        source=source,
        source_path=source_path,
        variant=variant,
        seed=seed,
        sample_fraction=sample_fraction,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        train_indices=train_idx,
        val_indices=val_idx,
        test_indices=test_idx,
        val_strategy=val_strategy,
        augmentations=tuple(augmentations),
    )


def _as_images(x, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., np.newaxis]  # grayscale: add the channel axis models expect
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or 0 in x.shape:
        raise DatasetError(
            f"{what} must be non-empty images shaped (n, H, W) or (n, H, W, C) with C 1 or 3, "
            f"got shape {x.shape}"
        )
    if x.dtype == np.uint8:
        return x
    if np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating):
        lo, hi = x.min(), x.max()
        whole = np.issubdtype(x.dtype, np.integer) or bool(np.all(np.mod(x, 1) == 0))
        if whole and lo >= 0 and hi <= 255:
            return x.astype(np.uint8)
        raise DatasetError(
            f"{what} must hold raw pixel values: uint8, or whole numbers in [0, 255]; got "
            f"{x.dtype} in [{lo}, {hi}]" + (" (already scaled to [0, 1]?)" if hi <= 1 else "")
        )
    raise DatasetError(f"{what} must be uint8 (or whole numbers in [0, 255]), got dtype {x.dtype}")


def _as_labels(y, what: str, n: int | None) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DatasetError(f"{what} must be integer labels shaped (n,) or (n, 1), got {y.shape}")
    if n is not None and len(y) != n:
        x_what = "x_" + what.removeprefix("y_")
        raise DatasetError(f"{x_what} has {n} images but {what} has {len(y)} labels")
    integral = np.issubdtype(y.dtype, np.integer) or (
        np.issubdtype(y.dtype, np.floating) and bool(np.all(np.mod(y, 1) == 0))
    )
    if not integral:
        raise DatasetError(f"{what} must hold integer class labels, got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise DatasetError(f"{what} has negative label {y.min()}; labels are 0..num_classes-1")
    return y.astype(np.int64)


def _default_names(num_classes: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(num_classes))


def _check_class_names(class_names, y_train, y_test) -> tuple[str, ...]:
    top = int(max(y_train.max(), y_test.max()))
    if class_names is None:
        class_names = _default_names(top + 1)
    elif isinstance(class_names, str):
        raise DatasetError(f"class_names must be a sequence of names, got {class_names!r}")
    class_names = tuple(str(c) for c in class_names)
    num_classes = len(class_names)
    if num_classes < 2:
        raise DatasetError(f"need at least 2 classes, got {num_classes}: {list(class_names)}")
    if len(set(class_names)) != num_classes:
        raise DatasetError(f"class_names has duplicates: {list(class_names)}")
    if top >= num_classes:
        raise DatasetError(
            f"label {top} is out of range for {num_classes} classes; labels must be in "
            f"[0, {num_classes})"
        )
    counts = np.bincount(y_train, minlength=num_classes)
    empty = [f"{class_names[c]!r} (label {c})" for c in np.flatnonzero(counts == 0)]
    if empty:
        raise DatasetError(
            f"no training images for class {', '.join(empty)}; every class needs some"
        )
    return class_names


def _class_permutations(y: np.ndarray, num_classes: int, seed: int) -> list[np.ndarray]:
    """One random permutation of each class's indices, classes in label order."""
    rng = np.random.default_rng(seed)
    order = np.argsort(y, kind="stable")
    counts = np.bincount(y, minlength=num_classes)
    groups = np.split(order, np.cumsum(counts)[:-1])
    return [rng.permutation(g) for g in groups]


def _round_half_up(value: float) -> int:
    return int(np.floor(value + 0.5))


def _per_class_sizes(groups, fraction, class_names, param: str, what: str) -> list[int]:
    """``round(fraction * count)`` per class; raise if a non-empty class would get none."""
    sizes = [_round_half_up(fraction * len(g)) for g in groups]
    for c, (g, k) in enumerate(zip(groups, sizes, strict=True)):
        if len(g) and k == 0:
            smallest = min(len(g) for g in groups if len(g))
            # Rounded up to 4 decimals so the advice always works.
            needed = math.ceil(round(0.5 / smallest * 1e4, 6)) / 1e4
            raise DatasetError(
                f"{param}={fraction} leaves class {class_names[c]!r} (label {c}, {len(g)} {what}) "
                f"with 0 images; use {param} >= {needed:g} so every class keeps one"
            )
    return sizes


def _sample(y, fraction, seed, class_names, param: str, what: str) -> np.ndarray:
    """Sorted indices: the head of each class's permutation, ``round(fraction * count)`` long."""
    groups = _class_permutations(y, len(class_names), seed)
    keep = _per_class_sizes(groups, fraction, class_names, param, what)
    return np.sort(np.concatenate([g[:k] for g, k in zip(groups, keep, strict=True)]))


def _split_train_val(y, sample_fraction, val_fraction, seed, class_names):
    """Per class: the sample is the head of a permutation, validation its tail.

    The tail is the same images for every ``sample_fraction`` (unless capped by a large sample),
    so runs at different fractions are validated on the same images.
    """
    groups = _class_permutations(y, len(class_names), seed)
    keep = _per_class_sizes(groups, sample_fraction, class_names, "sample_fraction", "images")
    carve = sample_fraction == 1.0
    train, val = [], []
    for c, (g, k) in enumerate(zip(groups, keep, strict=True)):
        n = len(g)
        n_val = max(1, _round_half_up(val_fraction * n))  # at least one per class
        if carve:
            k = n - n_val
            if k < 1:
                raise DatasetError(
                    f"class {class_names[c]!r} (label {c}) has {n} training image(s): too few to "
                    "carve a validation image and keep one for training"
                )
        else:
            n_val = min(n_val, n - k)
            if n_val < 1:
                raise DatasetError(
                    f"sample_fraction={sample_fraction} uses all {n} training images of class "
                    f"{class_names[c]!r} (label {c}), leaving none for validation; lower it or "
                    "use sample_fraction=1.0 to carve validation from the sample"
                )
        train.append(g[:k])
        val.append(g[n - n_val :])
    strategy = "carved from training sample" if carve else "held-out remainder"
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val)), strategy


def train_subset(ds: Dataset, fraction: float, seed: int = 42) -> Dataset:
    """``ds`` trained on ``fraction`` of each class's training images (validation and test
    unchanged): :func:`stratified_sample` with ``seed``, so a smaller share's images are among a
    larger one's. ``fraction=1`` returns ``ds`` itself."""
    check_fraction("fraction", fraction, error=DatasetError)
    if fraction == 1:
        return ds
    keep = stratified_sample(ds.y_train, fraction, seed, class_names=ds.class_names)
    return replace(
        ds,
        x_train=ds.x_train[keep],
        y_train=ds.y_train[keep],
        train_indices=ds.train_indices[keep],
        sample_fraction=ds.sample_fraction * fraction,
    )
