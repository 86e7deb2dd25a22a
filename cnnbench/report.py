"""Comparison tables rebuilt from a study's artifacts alone: no training, no dataset needed.

:func:`write_report` writes, next to the artifacts, ``comparison.md``/``.csv`` (the README's
results table), ``variants.md``/``.csv``, ``per_class.md``/``.csv``, ``targeted.md``/``.csv``
(no, uniform and targeted augmentation) and ``summary.md``. Each Markdown file opens with a
line naming the profile, seed, hardware and data variant, so a number is never shown without
what it was measured on. Markdown is written by :func:`markdown_table` (no ``tabulate``
dependency).
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

from cnnbench.artifacts import write_text
from cnnbench.discussion import header, summary_markdown
from cnnbench.errors import ConfigError
from cnnbench.plan import display_name, label
from cnnbench.results import Study
from cnnbench.stats import format_p
from cnnbench.store import STUDY_FILE, load_study
from cnnbench.tables import (
    augmentation_table,
    comparison_table,
    confused_pairs_table,
    interaction_table,
    paired_tests_table,
    per_class_table,
    targeted_table,
    variant_table,
)

# How each numeric column is shown in Markdown (CSV files keep full precision).
FORMATS = {
    "val acc (%)": "{:.2f}",
    "test acc (%)": "{:.2f}",
    "test loss": "{:.4f}",
    "params": "{:,}",
    "MFLOPs/image": "{:.1f}",
    "train time (s)": "{:.1f}",
    "s/epoch": "{:.2f}",
    "latency (ms)": "{:.2f}",
    "train-val gap (pp)": "{:+.2f}",
    "val acc std (pp)": "{:.2f}",
    "val acc 95% CI low (%)": "{:.2f}",
    "val acc 95% CI high (%)": "{:.2f}",
    "test acc std (pp)": "{:.2f}",
    "test acc 95% CI low (%)": "{:.2f}",
    "test acc 95% CI high (%)": "{:.2f}",
    "test acc + aug (%)": "{:.2f}",
    "effect (pp)": "{:+.2f}",
    "train-val gap + aug (pp)": "{:+.2f}",
    "effect on first (pp)": "{:+.2f}",
    "effect on second (pp)": "{:+.2f}",
    "difference (pp)": "{:+.2f}",
    "val F1 + aug": "{:.3f}",
    "val F1": "{:.3f}",
    "test F1": "{:.3f}",
    "test F1 + aug": "{:.3f}",
    "change": "{:+.3f}",
    "test F1 oversample": "{:.3f}",
    "test F1 loss weight": "{:.3f}",
    "test macro F1": "{:.3f}",
    "boosted F1": "{:.3f}",
    "vs uniform (pp)": "{:+.2f}",
    "p exact": format_p,
    "p t-test": format_p,
}


def _cell(value, fmt: str | None) -> str:
    """One Markdown cell: booleans as yes/no, missing values as a dash, pipes escaped."""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if value is None or (isinstance(value, Real) and math.isnan(value)):
        return "–"
    if callable(fmt):
        return fmt(value)
    if fmt is not None and isinstance(value, Real):
        return fmt.format(value)
    if isinstance(value, Integral):
        return f"{value:,}"
    if isinstance(value, Real):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(frame: pd.DataFrame, formats: dict | None = None, index: bool = False) -> str:
    """A GitHub-flavoured Markdown table; numeric columns are right-aligned.

    ``formats`` maps column names to ``str.format`` patterns or functions (default
    :data:`FORMATS`);
    ``index=True`` adds the index as the first column.
    """
    formats = FORMATS if formats is None else formats
    if index:
        frame = frame.reset_index()
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    header = [_cell(str(c), None) for c in frame.columns]
    rows = [
        [_cell(v, formats.get(c)) for c, v in zip(frame.columns, row, strict=True)]
        for row in frame.itertuples(index=False)
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if num else "---" for num in numeric) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    return "\n".join(lines) + "\n"


def comparison_markdown(study: Study) -> str:
    """The comparison table under its header line, ready for the README."""
    return f"_{header(study)}_\n\n{markdown_table(comparison_table(study))}"


def headline_table(study: Study) -> pd.DataFrame:
    """The comparison in a README's width: accuracies as ``mean ± std`` over the seeds with the
    test accuracy's 95% interval, cost columns as means, and each cell's hardware when the cells
    ran on more than one machine."""
    table = comparison_table(study)

    def spread(split: str) -> pd.Series:
        return table.apply(
            lambda r: (
                f"{r[f'{split} acc (%)']:.2f} ± {r[f'{split} acc std (pp)']:.2f}"
                if r["seeds"] > 1
                else f"{r[f'{split} acc (%)']:.2f}"
            ),
            axis=1,
        )

    frame = pd.DataFrame(
        {
            "dataset": table["dataset"],
            "model": table["model"],
            "val acc (%)": spread("val"),
            "test acc (%)": spread("test"),
            "test 95% CI (%)": table.apply(
                lambda r: (
                    f"{r['test acc 95% CI low (%)']:.2f}–{r['test acc 95% CI high (%)']:.2f}"
                    if r["seeds"] > 1
                    else "–"
                ),
                axis=1,
            ),
            "params": table["params"],
            "MFLOPs/image": table["MFLOPs/image"],
            "train time (s)": table["train time (s)"],
            "latency (ms)": table["latency (ms)"],
            "seeds": table["seeds"],
        }
    )
    if table["hardware"].nunique() > 1:  # a resumed run moved machines: say which cell ran where
        frame["hardware"] = table["hardware"]
    return frame


def headline_markdown(study: Study) -> str:
    """The README's one table: each compared model's test accuracy without and with augmentation
    per dataset (means over the seeds) and its parameters, under the header line."""
    augmentation = augmentation_table(study)
    if not len(augmentation):
        raise ConfigError(f"study {str(study.path)!r} has no model with both conditions finished")
    params = comparison_table(study).set_index(["dataset", "model"])["params"]
    first = augmentation["dataset"].iloc[0]  # parameters differ a little with the input shape
    rows = {}
    for _, r in augmentation.iterrows():
        row = rows.setdefault(r["model"], {"model": r["model"]})
        if r["dataset"] == first:
            row[f"params ({first})"] = int(params.loc[(first, r["model"])])
        row[f"{r['dataset']} (%)"] = r["test acc (%)"]
        row[f"{r['dataset']} + aug (%)"] = r["test acc + aug (%)"]
    frame = pd.DataFrame(list(rows.values()))
    formats = {c: "{:.2f}" for c in frame.columns if c.endswith("(%)")}
    return f"_{header(study)}_\n\n{markdown_table(frame, formats)}"


def readme_markdown(study: Study, k: int = 3) -> str:
    """The README's results block: the headline table, augmentation's effect per model with the
    overfitting gaps, the generated findings and every paired test, under the header line."""
    parts = [f"_{header(study)}_", "", markdown_table(headline_table(study))]
    augmentation = augmentation_table(study)
    if len(augmentation):
        parts += [
            "Augmentation per model (same epochs, batch, recipe and seeds on both sides; "
            "`train-val gap`: last epoch's training minus validation accuracy):",
            "",
            markdown_table(augmentation.drop(columns=["p exact", "p t-test"])),
        ]
    summary = summary_markdown(study, k, level=4, with_header=False)  # said once, above
    parts += [summary, paired_tests_markdown(study)]
    return "\n".join(parts)


def paired_tests_markdown(study: Study) -> str:
    """Every paired test of the findings, with one sentence on what significance needs."""
    table = paired_tests_table(study)
    if not len(table):
        return ""
    if study.seeds < 2:
        return (
            "Differences between the cells (one seed: no paired test; `--seeds 3` or more for "
            "one):\n\n" + markdown_table(table.drop(columns=["p exact", "p t-test"]))
        )
    floor = 2 / 2**study.seeds
    return (
        f"Paired tests over the {study.seeds} seeds (test accuracy; `p exact`: two-sided exact "
        f"sign-flip test, judged at 0.05, whose smallest possible value with {study.seeds} "
        f"seeds is {floor:.3g}; `p t-test` for reference):\n\n" + markdown_table(table)
    )


def variants_markdown(study: Study) -> str:
    """The variant-selection table under its header line."""
    place = display_name(study.selection_dataset)
    return (
        f"_{header(study)}_\n\nCustom variants on {place}, chosen by (mean) validation "
        "accuracy, each trained with the compared runs' recipe over the shorter selection "
        f"budget:\n\n{markdown_table(variant_table(study))}"
    )


def per_class_markdown(study: Study, k: int = 3) -> str:
    """Per dataset: per-class F1 of the best augmented model without and with augmentation."""
    parts = [f"_{header(study)}_\n"]
    for dataset in _complete_datasets(study):
        best = study.best_key(dataset, augment=True)
        weakest = ", ".join(study.weakest_classes(best, k).index)
        parts.append(
            f"**{display_name(dataset)}**: {label(best)} (highest validation accuracy with "
            f"augmentation), per-class F1; weakest on validation: {weakest}.\n\n"
            + markdown_table(per_class_table(study, dataset), index=True)
        )
    return "\n".join(parts)


def targeted_markdown(study: Study) -> str:
    """The augmentation comparison (none, uniform, targeted) under its header line."""
    return (
        f"_{header(study)}_\n\nThe best augmented model per dataset without augmentation, with "
        "uniform augmentation and with augmentation targeted at its weakest classes on "
        "validation (same epochs, batch, recipe and seeds); p values are paired over the seeds "
        "against uniform augmentation.\n\n" + markdown_table(targeted_table(study))
    )


def _complete_datasets(study: Study) -> list[str]:
    """Datasets whose compared models and augmented retrain have all finished."""
    missing = set(study.missing())
    return [d for d in study.datasets if not any(k.startswith(f"{d}/") for k in missing)]


def write_report(study: Study | str | os.PathLike, k: int = 3) -> dict[str, Path]:
    """Write the report files into the study's folder; returns ``{file name: path}``.

    ``study`` is a :class:`~cnnbench.results.Study` or its artifacts folder. ``k`` is how many
    weakest classes to name.
    """
    if not isinstance(study, Study):
        study = load_study(study)
    if not study.results:
        raise ConfigError(f"study {str(study.path)!r} has no finished experiment to report")
    per_class = {display_name(d): per_class_table(study, d) for d in _complete_datasets(study)}
    files = {
        "comparison.md": comparison_markdown(study),
        "comparison.csv": comparison_table(study).to_csv(index=False),
        "variants.md": variants_markdown(study),
        "variants.csv": variant_table(study).to_csv(index=False),
        "per_class.md": per_class_markdown(study, k),
        "per_class.csv": pd.concat(per_class, names=["dataset"]).to_csv() if per_class else "",
        "targeted.md": targeted_markdown(study),
        "targeted.csv": targeted_table(study).to_csv(index=False),
        "augmentation.csv": augmentation_table(study).to_csv(index=False),
        "interaction.csv": interaction_table(study).to_csv(index=False),
        "confusions.csv": confused_pairs_table(study).to_csv(index=False),
        "tests.md": f"_{header(study)}_\n\n{paired_tests_markdown(study)}",
        "tests.csv": paired_tests_table(study).to_csv(index=False),
        "summary.md": summary_markdown(study, k),
    }
    return {name: write_text(study.path / name, text) for name, text in files.items()}


def find_studies(path: str | os.PathLike) -> list[Path]:
    """``path`` itself if it is a study folder, else its study subfolders (sorted)."""
    root = Path(path)
    if (root / STUDY_FILE).is_file():
        return [root]
    found = sorted(p.parent for p in root.glob(f"*/{STUDY_FILE}"))
    if not found:
        raise ConfigError(
            f"no study under {str(root)!r}: expected {STUDY_FILE} in it or in one of its "
            "subfolders (run `python -m cnnbench run` first)"
        )
    return found
