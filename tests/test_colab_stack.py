"""Colab's preinstalled library versions: the floors, and an environment built from them.

``constraints/colab.txt`` pins Colab's runtime; ``constraints/colab-tools.txt`` the test tools
CI adds to it. Every floor in ``pyproject.toml`` and ``requirements*.txt`` must be one of those
pins (so some CI environment installs each floor, and none is above Colab's). In the Colab
environment ``.ci/run`` builds (``CNNBENCH_COLAB_PINS`` set to the constraints file), the
installed versions must still be the pins after cnnbench was installed, and pip must find
nothing to change when asked to install the project again.
"""

import json
import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
COLAB = ROOT / "constraints" / "colab.txt"
TOOLS = ROOT / "constraints" / "colab-tools.txt"
IN_COLAB_ENV = os.environ.get("CNNBENCH_COLAB_PINS")


def _lines(path: Path) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-r")]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in _lines(path):
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{path.name}: {line!r} is not an exact pin"
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def _floors(requirements: list[str]) -> dict[str, str]:
    floors = {}
    for line in requirements:
        req = Requirement(line)
        specs = [s for s in req.specifier if s.operator == ">="]
        assert len(specs) == 1, f"{line!r} must have one floor (>=) and no cap"
        floors[canonicalize_name(req.name)] = specs[0].version
    return floors


def _project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def test_every_floor_is_a_pinned_version():
    pins = {**_pins(COLAB), **_pins(TOOLS)}
    project = _project()
    declared = {
        "pyproject dependencies": _floors(project["dependencies"]),
        "pyproject dev extra": _floors(project["optional-dependencies"]["dev"]),
        "requirements.txt": _floors(_lines(ROOT / "requirements.txt")),
        "requirements-dev.txt": _floors(_lines(ROOT / "requirements-dev.txt")),
    }
    for where, floors in declared.items():
        for name, floor in floors.items():
            assert name in pins, f"{where}: {name} has a floor but no pin in constraints/"
            assert floor == pins[name], f"{where}: {name}>={floor}, but CI pins {pins[name]}"
    # requirements.txt says the same as pyproject
    assert declared["requirements.txt"] == declared["pyproject dependencies"]
    assert declared["requirements-dev.txt"] == declared["pyproject dev extra"]  # after -r


def test_the_python_floor_is_one_ci_runs():
    assert _project()["requires-python"] == ">=3.11"  # .ci/run: 3.11 (newest) and 3.13 (Colab)


@pytest.mark.skipif(not IN_COLAB_ENV, reason="only in the Colab environment .ci/run builds")
def test_installed_versions_are_colab_pins():
    pins = {**_pins(COLAB), **_pins(TOOLS)}
    installed = {name: metadata.version(name) for name in pins}
    assert installed == pins
    assert metadata.version("cnnbench")  # installed on top


@pytest.mark.skipif(not IN_COLAB_ENV, reason="only in the Colab environment .ci/run builds")
def test_installing_cnnbench_would_change_no_pinned_version(tmp_path):
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet"]
    command += ["--report", str(report), "-e", str(ROOT)]
    subprocess.run(command, check=True, cwd=tmp_path)
    wanted = {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    moved = {name: (pin, wanted[name]) for name, pin in _pins(COLAB).items() if name in wanted}
    assert not moved, f"pip would replace Colab's versions (pinned, wanted): {moved}"
