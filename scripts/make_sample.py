"""Regenerate the shipped sample in ``cnnbench/sample_data/`` from the offline data folder.

Usage (from the repository root)::

    python scripts/make_sample.py                       # reads ../shared/data
    python scripts/make_sample.py --data-dir DIR --out cnnbench/sample_data

Reads ``mnist.npz`` (lossless) and ``cifar10_lossless_subset.npz`` (original CIFAR-10 pixels for
train 0-3999 and test 0-999; the full ``cifar10.npz`` is JPEG-derived and never used here), checks
their sha256 against the values in the data folder's SOURCES.md, and writes a class-balanced
sample of each: the same number of images per class, chosen by a seeded per-class permutation and
kept in official order. ``idx_train``/``idx_test`` hold the official indices of the chosen images.
The archives are written with fixed zip timestamps, so the same inputs and seed reproduce the
files byte for byte (and the sha256 values listed in ``sample_data/README.md``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent

# name: (source file, its sha256 from SOURCES.md, train images per class, test images per class)
SAMPLES = {
    "mnist": (
        "mnist.npz",
        "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",
        600,
        100,
    ),
    "cifar10": (
        "cifar10_lossless_subset.npz",
        "62edef4b12ec2528b9f2942ba4d5cb466eb6f3eb5e1eea0d3d02486fc8726902",
        100,
        30,
    ),
}
SEED = 20240601


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def balanced_indices(y: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """``per_class`` random positions of each class in ``y``, sorted (official order kept)."""
    chosen = []
    for c in range(int(y.max()) + 1):
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise SystemExit(f"class {c} has only {len(members)} images, need {per_class}")
        chosen.append(rng.permutation(members)[:per_class])
    return np.sort(np.concatenate(chosen))


def save_npz_reproducibly(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed`` but with fixed zip timestamps, so bytes are reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def make_sample(name: str, data_dir: Path, out_dir: Path, seed: int) -> Path:
    file, expected_sha, train_per_class, test_per_class = SAMPLES[name]
    source = data_dir / file
    if sha256(source) != expected_sha:
        raise SystemExit(f"{source} does not match the sha256 in SOURCES.md; refusing to cut")
    rng = np.random.default_rng(seed)
    with np.load(source, allow_pickle=False) as src:
        idx_train = src["idx_train"] if "idx_train" in src.files else np.arange(len(src["y_train"]))
        idx_test = src["idx_test"] if "idx_test" in src.files else np.arange(len(src["y_test"]))
        train = balanced_indices(src["y_train"], train_per_class, rng)
        test = balanced_indices(src["y_test"], test_per_class, rng)
        arrays = {
            "x_train": src["x_train"][train],
            "y_train": src["y_train"][train].astype(np.uint8),
            "x_test": src["x_test"][test],
            "y_test": src["y_test"][test].astype(np.uint8),
            "idx_train": idx_train[train].astype(np.int32),
            "idx_test": idx_test[test].astype(np.int32),
        }
    out = out_dir / f"{name}.npz"
    save_npz_reproducibly(out, arrays)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "cnnbench" / "sample_data")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in SAMPLES:
        out = make_sample(name, args.data_dir, args.out, args.seed)
        with np.load(out) as npz:
            shapes = ", ".join(f"{k} {npz[k].shape}" for k in npz.files)
        print(f"{out.name}: {out.stat().st_size:,} bytes, sha256 {sha256(out)}\n  {shapes}")


if __name__ == "__main__":
    main()
