"""Atomic writes: a file either exists complete or not at all.

Each writer saves to a temporary file in the target's folder, then ``os.replace``-s it into
place (atomic on POSIX and Windows), so a process killed mid-write leaves no half file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path`` (same suffix, so writers that check extensions,
    like Keras, accept it); on success move it onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp.", suffix=path.suffix)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; artifacts are meant to be shared
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _json_default(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_json(path: str | os.PathLike, data) -> Path:
    """Write ``data`` as indented JSON atomically (NumPy values converted)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n")
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def save_model(model, path: str | os.PathLike) -> Path:
    """Save a Keras model (``.keras``) atomically."""
    with atomic_path(path) as tmp:
        model.save(tmp)
    return Path(path)


def read_json(path: str | os.PathLike):
    return json.loads(Path(path).read_text())


def replace_block(path: str | os.PathLike, name: str, content: str) -> Path:
    """Replace the text between ``<!-- cnnbench:NAME:start -->`` and ``<!-- cnnbench:NAME:end
    -->`` in a Markdown file (e.g. the README's generated results), atomically."""
    from cnnbench.errors import ConfigError

    path = Path(path)
    start, end = f"<!-- cnnbench:{name}:start -->", f"<!-- cnnbench:{name}:end -->"
    text = path.read_text()
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ConfigError(f"{str(path)!r} needs exactly one {start} ... {end} block")
    head, rest = text.split(start)
    tail = rest.split(end)[1]
    return write_text(path, f"{head}{start}\n{content.strip()}\n{end}{tail}")
