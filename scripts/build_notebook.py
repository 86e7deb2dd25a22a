"""Build ``CNN_vs_AlexNet.ipynb`` from its source, ``CNN_vs_AlexNet.py`` (jupytext percent format).

    python scripts/build_notebook.py            # the notebook without outputs
    CNNBENCH_DATA_DIR=../shared/data python scripts/build_notebook.py --execute
                                                # with the outputs of a real run, as committed

The repository URL lives in ``[project.urls]`` of ``pyproject.toml``: building writes it into
the notebook's setup cell and Colab badge (in the source too) and into the README's badge.
``--execute`` runs the notebook as it is (its parameters cell unchanged, nothing injected) in
the repository root, then drops saved widget state, so the committed outputs are a real run's.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "CNN_vs_AlexNet.py"
NOTEBOOK = ROOT / "CNN_vs_AlexNet.ipynb"
README = ROOT / "README.md"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
WIDGET_NOTE = "[interactive explorer: run the notebook to use it]"
PROGRESS_NOTE = "[progress bar with its ETA: a live widget while the notebook runs]"
# The lines of the source and README that carry the repository URL, and how to rewrite them.
REPO_LINE = re.compile(r'(os\.environ\.get\("CNNBENCH_REPO_URL", )"[^"]*"\)')
BADGE_LINE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")


def repository_url() -> str:
    """``[project.urls] Repository`` of pyproject.toml."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"]


def colab_url(repository: str | None = None) -> str:
    """Where Colab opens the committed notebook of a GitHub ``repository``."""
    repository = repository or repository_url()
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", repository)
    if match is None:
        raise SystemExit(f"[project.urls] Repository must be a GitHub URL, got {repository!r}")
    owner, name = match.groups()
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/main/{NOTEBOOK.name}"


def badge() -> str:
    return f"[![Open In Colab]({BADGE})]({colab_url()})"


def with_urls(text: str) -> str:
    """``text`` (the source or the README) with the repository URL and badge from pyproject."""
    text = REPO_LINE.sub(lambda m: f'{m.group(1)}"{repository_url()}")', text)
    return BADGE_LINE.sub(lambda _: badge(), text)


def build() -> nbformat.NotebookNode:
    """The notebook, without outputs, from the source (with the URLs from pyproject)."""
    nb = jupytext.reads(with_urls(SOURCE.read_text()), fmt="py:percent")
    nb.metadata.pop("jupytext", None)  # the pairing is this script's job
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        cell.metadata.pop("lines_to_next_cell", None)
    return nb


def execute(nb: nbformat.NotebookNode, timeout: int) -> nbformat.NotebookNode:
    """Run ``nb`` in the repository root as it is; drop saved widget state and timings."""
    from nbclient import NotebookClient

    NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    ).execute()
    return drop_widget_views(nb)


def drop_widget_views(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Widget views are empty without their saved state (which would weigh hundreds of kB), and
    a widget's text is its first frame (a progress bar's reads 0/N): say what each stood for."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if data.pop("application/vnd.jupyter.widget-view+json", None) is None:
                continue
            explorer = str(data.get("text/plain", "")).startswith(("VBox(", "HBox("))
            data["text/plain"] = WIDGET_NOTE if explorer else PROGRESS_NOTE
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="run it and keep the outputs")
    # the study cell of a CPU run (quick profile) takes about an hour on a shared 2-core machine
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in (SOURCE, README):
        path.write_text(with_urls(path.read_text()))
    nb = build()
    if args.execute:
        nb = execute(nb, args.timeout)
    nbformat.write(nb, NOTEBOOK)
    print(f"wrote {NOTEBOOK.name} ({NOTEBOOK.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
