"""Reports rebuilt from artifacts alone, the Markdown formatter, and the run/report commands."""

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cnnbench import cli
from cnnbench import runner as study_module
from cnnbench.discussion import header, summary_markdown
from cnnbench.errors import ConfigError
from cnnbench.plan import label
from cnnbench.report import find_studies, markdown_table, write_report
from cnnbench.store import load_study
from cnnbench.tables import comparison_table

TINY_FLAGS = [
    "--profile", "demo", "--datasets", "cifar10", "--epochs", "1", "--sample-fraction", "0.05",
    "--val-fraction", "0.02", "--test-fraction", "0.2", "--batch-size", "32", "--verbose", "0",
    "--no-estimate",
]  # fmt: skip
REPORT_FILES = [
    "comparison.md",
    "comparison.csv",
    "variants.md",
    "variants.csv",
    "per_class.md",
    "per_class.csv",
    "targeted.md",
    "targeted.csv",
    "augmentation.csv",
    "interaction.csv",
    "confusions.csv",
    "tests.md",
    "tests.csv",
    "summary.md",
]


def _main(argv):
    """Run the CLI, returning (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """``python -m cnnbench run`` on a tiny configuration of the shipped CIFAR-10 sample."""
    root = tmp_path_factory.mktemp("artifacts")
    code, out, err = _main(["run", *TINY_FLAGS, "--artifacts", str(root)])
    assert code == 0, err
    return root, out


def _generated(text: str, name: str) -> str:
    """The text of a file's ``<!-- cnnbench:NAME:start/end -->`` block, as replace_block wrote."""
    return text.split(f"<!-- cnnbench:{name}:start -->\n")[1].split(
        f"\n<!-- cnnbench:{name}:end -->"
    )[0]


def _block_training_and_data(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a report must not load data or train")

    monkeypatch.setattr(study_module, "load_dataset", refuse)
    monkeypatch.setattr(study_module, "train", refuse)


def test_run_command_runs_the_study_and_writes_its_report(cli_run):
    root, out = cli_run
    folder = root / "demo"
    assert load_study(folder).missing() == []
    for name in REPORT_FILES:
        assert (folder / name).is_file()
    assert "| dataset | model | augmented |" in out
    assert "## Summary" in out and "report written to" in out
    best = load_study(folder).best_key("cifar10", augment=True)
    assert "[9/13] cifar10/custom+aug: done in" in out
    assert f"[13/13] {best}+loss_weight: done in" in out


def test_rerunning_the_command_skips_finished_experiments(cli_run):
    root, _ = cli_run
    code, out, _ = _main(["run", *TINY_FLAGS, "--artifacts", str(root)])
    assert code == 0
    assert "13 seed runs, 13 finished earlier and kept" in out and ": training " not in out


def test_report_rebuilds_the_tables_from_artifacts_alone(cli_run, monkeypatch):
    root, _ = cli_run
    folder = root / "demo"
    study = load_study(folder)
    for name in REPORT_FILES:
        (folder / name).unlink()
    _block_training_and_data(monkeypatch)

    code, out, err = _main(["report", str(root)])  # the artifacts root: finds the study in it
    assert code == 0, err
    assert all((folder / name).is_file() for name in REPORT_FILES)
    table = pd.read_csv(folder / "comparison.csv")
    pd.testing.assert_frame_equal(table, comparison_table(study), check_dtype=False)
    assert (folder / "summary.md").read_text() == summary_markdown(study)
    assert str(folder) in out and "| CIFAR-10 |" in out


def test_markdown_opens_with_profile_hardware_data_and_seed(cli_run):
    root, _ = cli_run
    study = load_study(root / "demo")
    result = study.results["cifar10/alexnet"]
    for name in ("comparison.md", "variants.md", "per_class.md", "summary.md"):
        text = (root / "demo" / name).read_text()
        header = next(line for line in text.splitlines() if line.startswith("_"))
        assert "profile `demo` (customised)" in header  # the flags changed the demo profile
        assert "seed 42" in header
        assert result["environment"]["hardware"] in header
        assert result["dataset"]["variant"] in header
        assert "50/20/60 train/val/test images" in header


def test_comparison_markdown_is_a_clean_table(cli_run):
    root, _ = cli_run
    lines = (root / "demo" / "comparison.md").read_text().splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert len(table) == 2 + 8  # header, alignment, 4 models without and with augmentation
    # dataset, model, augmented | 10 numbers, 6 of accuracy spread, seeds | recipe, hardware
    assert table[1] == "|---|---|---|" + "---:|" * 17 + "---|---|"
    assert len({line.count("|") for line in table}) == 1
    study = load_study(root / "demo")
    params = comparison_table(study)["params"].iloc[0]
    assert f"| {params:,} |" in table[2]


def test_per_class_report_lists_every_class(cli_run):
    root, _ = cli_run
    text = (root / "demo" / "per_class.md").read_text()
    assert (
        "| class | val F1 + aug | test F1 | test F1 + aug | change | test F1 oversample "
        "| test F1 loss weight |"
    ) in text
    names = load_study(root / "demo").result("cifar10/custom")["test"]["class_names"]
    assert sum(line.startswith(f"| {c} |") for c in names for line in text.splitlines()) == 10
    frame = pd.read_csv(root / "demo" / "per_class.csv", index_col=[0, 1])
    assert frame.index.names == ["dataset", "class"] and len(frame) == 10


def test_write_report_accepts_a_study_or_its_folder(cli_run, monkeypatch):
    root, _ = cli_run
    _block_training_and_data(monkeypatch)
    paths = write_report(root / "demo", k=2)
    assert sorted(paths) == sorted(REPORT_FILES)
    assert find_studies(root) == find_studies(root / "demo") == [root / "demo"]


def test_markdown_table_formats_escapes_and_aligns():
    frame = pd.DataFrame(
        {
            "name": ["a|b", "c"],
            "flag": [True, False],
            "params": [1234567, 89],
            "test acc (%)": [91.23456, np.nan],
            "ratio": [0.123456, 2.0],
        }
    )
    text = markdown_table(frame)
    assert text.splitlines() == [
        "| name | flag | params | test acc (%) | ratio |",
        "|---|---|---:|---:|---:|",
        "| a\\|b | yes | 1,234,567 | 91.23 | 0.1235 |",
        "| c | no | 89 | – | 2 |",
    ]
    indexed = markdown_table(frame.set_index("name")[["params"]], index=True)
    assert indexed.splitlines()[0] == "| name | params |"


def test_report_and_run_reject_bad_input(tmp_path, capsys):
    code, _, err = _main(["report", str(tmp_path)])
    assert code == 2 and "no study under" in err
    code, _, err = _main(["run", "--profile", "demo", "--datasets", "svhn"])
    assert (
        code == 2 and "datasets must be distinct names among ['cifar10', 'mnist', 'images']" in err
    )
    code, _, err = _main(["run", "--profile", "demo", "--study", "classic_alexnet"])
    assert code == 2 and "pass images=DIR (--images DIR)" in err
    code, _, err = _main(["run", "--profile", "demo", "--models", "custom,resnet"])
    assert code == 2 and "unknown model 'resnet'" in err
    with pytest.raises(SystemExit):
        cli.main(["run", "--profile", "huge"])
    assert "invalid choice: 'huge'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # the study does no test-time augmentation: no such flag
        cli.main(["run", "--tta"])
    assert "unrecognized arguments: --tta" in capsys.readouterr().err


def test_train_rejects_tta_on_digits_before_training(tmp_path, monkeypatch):
    import cnnbench.training

    def no_training(*args, **kwargs):
        raise AssertionError("train() ran before the --tta check")

    monkeypatch.setattr(cnnbench.training, "train", no_training)
    for flag in (["--tta"], ["--tta", "flip_translate"]):
        code, _, err = _main(
            ["train", "--source", "sample", "--dataset", "mnist", *flag, "--output",
             str(tmp_path / "r.json")]
        )  # fmt: skip
        assert code == 2 and "needs ['horizontal_flip'], but 'mnist' labels do not" in err


def test_train_says_which_tta_scored_the_test_set(tmp_path):
    import json

    out = tmp_path / "r.json"
    code, text, _ = _main(
        ["train", "--source", "sample", "--dataset", "mnist", "--model", "custom_v1", "--epochs",
         "1", "--tta", "translate", "--verbose", "0", "--output", str(out)]
    )  # fmt: skip
    assert code == 0 and "(translate TTA)" in text
    assert json.loads(out.read_text())["evaluation"]["tta"] == "translate"


def test_readme_first_command_trains_a_working_model(tmp_path):
    """The README's first command (on the shipped MNIST sample) ends far above chance."""
    import json
    import re

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    command = re.search(r"python -m cnnbench (train [^\n`]*)", readme).group(1).split()
    out = tmp_path / "first.json"
    code, text, _ = _main([*command, "--verbose", "0", "--output", str(out)])
    assert code == 0
    accuracy = json.loads(out.read_text())["evaluation"]["accuracy"]
    assert accuracy > 0.9, text  # the README promises about 98-99%
    assert "recipe: auto -> fast" in text and "warning:" not in text


def test_train_says_when_the_model_learnt_nothing(tmp_path):
    # alexnet (no BatchNorm) after 15 steps on the 900-image sample: still at chance.
    import warnings

    from cnnbench.errors import TrainingWarning

    out = tmp_path / "alexnet.json"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, text, _ = _main(
            ["train", "--source", "sample", "--dataset", "cifar10", "--model", "alexnet",
             "--sample-fraction", "1.0", "--epochs", "1", "--verbose", "0", "--output", str(out)]
        )  # fmt: skip
    assert code == 0  # stated once, in the summary, not also as a Python warning
    assert not [w for w in caught if issubclass(w.category, TrainingWarning)]
    assert "\n  warning: the model learnt nothing: its best validation accuracy, " in text
    assert "It had 15 optimizer steps" in text and "without BatchNorm" in text


def test_replace_block_rewrites_only_the_marked_text(tmp_path):
    from cnnbench.artifacts import replace_block

    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- cnnbench:results:start -->\nold\n<!-- cnnbench:results:end -->\noutro\n"
    )
    replace_block(readme, "results", "| new | table |")
    assert readme.read_text() == (
        "intro\n<!-- cnnbench:results:start -->\n| new | table |\n"
        "<!-- cnnbench:results:end -->\noutro\n"
    )
    with pytest.raises(ConfigError, match="cnnbench:bench:start"):
        replace_block(readme, "bench", "x")


def test_report_readme_writes_the_headline_targeted_table_and_summary(cli_run, tmp_path):
    from cnnbench.report import headline_table

    root, _ = cli_run
    readme = tmp_path / "README.md"
    readme.write_text("<!-- cnnbench:results:demo:start -->\n<!-- cnnbench:results:demo:end -->\n")
    code, out, _ = _main(["report", str(root / "demo"), "--readme", str(readme)])
    assert code == 0 and "results:demo block of" in out
    text = readme.read_text()
    study = load_study(root / "demo")
    assert text.count(header(study)) == 1  # said once, above the tables
    assert "| dataset | model | val acc (%) | test acc (%) | test 95% CI (%) |" in text
    assert "#### Summary" in text and "##### Findings\n\n1. **Which model wins**" in text
    assert "| dataset | comparison | difference (pp) |" in text
    table = headline_table(study)
    assert len(table.columns) <= 10
    best = study.best_key("cifar10")
    row = table[table["model"] == label(best)].iloc[0]
    assert row["test acc (%)"] == f"{100 * study.result(best)['test']['accuracy']:.2f}"  # no ±
    assert row["test 95% CI (%)"] == "–"


ROOT = Path(__file__).parents[1]
COMMITTED = sorted(p.name for p in (ROOT / "benchmarks" / "results" / "studies").glob("*/"))
# The standard study takes about 4 hours a seed on the 2-core CPU, longer than a working
# session: it is committed cell by cell as it runs, and its block says how much is missing.
MAY_BE_PARTIAL = {"standard"}


def test_the_headline_study_is_committed():
    assert "quick" in COMMITTED


@pytest.mark.parametrize("name", COMMITTED)
def test_results_blocks_are_the_committed_studies(name):
    """docs/results.md holds the committed studies' results as `report --readme` writes them:
    a rerun that is not committed, or a hand edit, shows here. The headline (quick) has 3 seeds."""
    from cnnbench.report import readme_markdown

    study = load_study(ROOT / "benchmarks" / "results" / "studies" / name)
    assert study.seeds >= (3 if name == "quick" else 1)
    if name not in MAY_BE_PARTIAL:
        assert study.missing() == []
    readme = (ROOT / "docs" / "results.md").read_text()
    assert _generated(readme, f"results:{name}") == readme_markdown(study).strip()


def test_report_headline_writes_the_readmes_one_table(cli_run, tmp_path):
    from cnnbench.report import headline_markdown

    root, _ = cli_run
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- cnnbench:headline:start -->\n<!-- cnnbench:headline:end -->\n")
    code, out, _ = _main(["report", str(root / "demo"), "--headline", str(readme)])
    assert code == 0 and "headline block of" in out
    block = _generated(readme.read_text(), "headline")
    assert block == headline_markdown(load_study(root / "demo")).strip()
    assert "| model | params (" in block and " + aug (%) |" in block


def test_readmes_headline_table_is_the_committed_quick_study():
    from cnnbench.report import headline_markdown

    study = load_study(ROOT / "benchmarks" / "results" / "studies" / "quick")
    readme = (ROOT / "README.md").read_text()
    block = _generated(readme, "headline")
    assert block == headline_markdown(study).strip()
    custom = next(line for line in block.splitlines() if line.startswith("| custom |"))
    plain, augmented = (
        study.accuracies("cifar10/custom", "test"),
        study.accuracies("cifar10/custom+aug", "test"),
    )
    assert f"| {100 * plain.mean():.2f} | {100 * augmented.mean():.2f} |" in custom


def test_readme_is_a_user_guide_and_the_results_live_in_docs():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    assert "cnnbench:results:" not in readme and "cnnbench:bench:" not in readme
    results = (ROOT / "docs" / "results.md").read_text()
    for block in ("results:quick", "bench", "small_data"):
        assert f"<!-- cnnbench:{block}:start -->" in results


def test_a_study_resumed_on_another_machine_says_which_cell_ran_where(cli_run, tmp_path):
    """Times compare only on one machine: when a resumed study's cells ran on two, the README
    table gains a hardware column and the limitations say so; on one machine neither appears."""
    import json
    import shutil

    from cnnbench.discussion import limitations_markdown
    from cnnbench.report import headline_table

    root, _ = cli_run
    one = load_study(root / "demo")
    assert "hardware" not in headline_table(one).columns
    assert "machines" not in limitations_markdown(one)

    shutil.copytree(root / "demo", tmp_path / "demo")
    moved = sorted((tmp_path / "demo").glob("*/alexnet/seed_*/result.json"))[0]
    result = json.loads(moved.read_text())
    result["environment"]["hardware"] = "2-core other CPU (no GPU)"
    moved.write_text(json.dumps(result))

    two = load_study(tmp_path / "demo")
    table = headline_table(two)
    by_model = dict(zip(table["model"], table["hardware"], strict=True))
    assert by_model["alexnet"] == "2-core other CPU (no GPU)"
    assert by_model["custom"] == one.runs["cifar10/custom"][42]["environment"]["hardware"]
    assert "The cells ran on 2 machines" in limitations_markdown(two)
