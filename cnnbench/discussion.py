"""The study's findings in English, generated from its results: every number is computed.

:func:`header` names what the numbers were measured with (profile, seeds, hardware, data);
:func:`summary_markdown` is the discussion the notebook ends with and ``summary.md``: plain
findings, with every p value in one table (:func:`cnnbench.tables.paired_tests_table`), none inside
a sentence.
"""

from __future__ import annotations

import numpy as np

from cnnbench.config import PROFILES, TARGETED_FACTOR
from cnnbench.errors import ConfigError
from cnnbench.plan import display_name, label
from cnnbench.results import Study
from cnnbench.stats import ALPHA, paired_test
from cnnbench.tables import (
    augmentation_table,
    confused_pairs,
    interaction_table,
    targeted_table,
    variant_table,
)


def header(study: Study) -> str:
    """One line saying what the numbers were measured with: profile, seed, hardware, data."""
    if not study.results:
        raise ConfigError(f"study {str(study.path)!r} has no finished experiment yet")
    results = list(study.results.values())
    customised = study.profile != PROFILES.get(study.profile.name)
    profile = f"profile `{study.profile.name}`{' (customised)' if customised else ''}"
    hardware = "; ".join(dict.fromkeys(r["environment"]["hardware"] for r in results))
    env = results[0]["environment"]
    data = []
    for d in study.datasets:
        info = study.dataset_info(d)
        if info is not None:
            sizes = info["sizes"]
            data.append(
                f"{display_name(d)}: {info['variant']}, "
                f"{sizes['train']:,}/{sizes['val']:,}/{sizes['test']:,} train/val/test images"
            )
    if study.seeds == 1:
        seeds = f"seed {study.seed}"
    else:
        seeds = f"seeds {study.seed_list[0]}-{study.seed_list[-1]} ({study.seeds})"
    return (
        f"{profile} · {seeds} · {hardware} · TensorFlow {env['tensorflow']}, "
        f"Keras {env['keras']} · data: {'; '.join(data)}"
    )


def summary_markdown(study: Study, k: int = 3, level: int = 2, with_header: bool = True) -> str:
    """The study's findings in Markdown; every number is computed from the results.

    ``k`` is how many weakest classes and confusions to name per dataset; ``level`` the heading
    level of its title ("Summary"; its "Findings" and "In detail" parts one below);
    ``with_header=False`` leaves out the :func:`header` line, for a page that shows it already.
    """
    part = "#" * (level + 1)
    lines = [f"{'#' * level} Summary", ""]
    lines += [f"_{header(study)}_", ""] if with_header else []
    lines += _sample_caveat(study)
    findings = _findings(study, k)
    if findings:
        lines += [f"{part} Findings", ""]
        lines += [f"{i}. {item}" for i, item in enumerate(findings, 1)] + [""]
        lines += [f"_{_significance_sentence(study).strip()}_", ""]
    else:
        lines += ["_No findings yet: no dataset has all its compared cells finished._", ""]
    runs = [r for by_seed in study.runs.values() for r in by_seed.values()]
    total = sum(r["timings"]["total_s"] for r in runs)
    per_seed = f" ({len(runs)} seed runs)" if study.seeds > 1 else ""
    lines += [
        f"{part} In detail",
        "",
        f"{len(study.results)} experiments{per_seed} took {total / 60:.1f} min of training and "
        "evaluation in all." + (" Numbers are means over the seeds." if per_seed else ""),
        "",
    ]
    lines += _variant_sentence(study)
    for dataset in study.datasets:
        lines += _dataset_findings(study, dataset, k) + [""]
    missing = study.missing()
    if missing:
        lines.append(
            f"_Incomplete: {len(missing)} of {len(study.expected_keys())} experiments not "
            f"finished ({', '.join(missing)}); rerun the study to complete it._"
        )
    return "\n".join(lines).rstrip() + "\n"


def _findings(study: Study, k: int) -> list[str]:
    """The opening findings: what a reader should take away, one plain sentence per question the
    study asks (winner and cost, augmentation, the interaction, overfitting, confusions, training
    size), over every dataset whose compared cells have all finished."""
    datasets = [
        d
        for d in study.datasets
        if study.compared_keys(d) and all(key in study.results for key in study.compared_keys(d))
    ]
    if not datasets:
        return []
    items = [_winner_finding(study, datasets)]
    augmentation = augmentation_table(study)
    augmentation = augmentation[augmentation["dataset"].isin([display_name(d) for d in datasets])]
    if len(augmentation):
        items.append(_augmentation_finding(augmentation))
    interaction = interaction_table(study)
    interaction = interaction[interaction["dataset"].isin([display_name(d) for d in datasets])]
    if len(interaction):
        items.append(_interaction_finding(interaction))
    if len(augmentation):
        items.append(_overfitting_finding(augmentation))
    items.append(_confusion_finding(study, datasets[0], k))
    if len(study.spec.fractions) > 1:
        items.append(_data_efficiency_finding(study, datasets[0]))
    return items


def _winner_finding(study: Study, datasets: list[str]) -> str:
    parts = []
    for dataset in datasets:
        keys = study.compared_keys(dataset)
        best = study.best_key(dataset)
        others = [key for key in keys if study.model_of(key) != study.model_of(best)]
        text = f"on {display_name(dataset)}, **{label(best)}** ({_pct(_test(study, best))} test)"
        if others:
            rival = study.argmax_val(others)
            paired = paired_test(study.accuracies(best, "test"), study.accuracies(rival, "test"))
            params = [study.result(key)["test"]["params"] for key in (best, rival)]
            times = [study.mean(key, "train", "train_time_s") for key in (best, rival)]
            verdict = _verdict(paired.p_exact if paired.n > 1 else None, paired.n)
            text += (
                f", {100 * paired.mean_difference:+.2f} points against the best other model, "
                f"{label(rival)} ({verdict}), with "
                f"{params[0]:,} parameters to its {params[1]:,} and {times[0]:,.0f} s of "
                f"training a seed to its {times[1]:,.0f} s"
            )
        parts.append(text)
    return (
        "**Which model wins** (the best cell on validation, its test accuracy): "
        + "; ".join(parts)
        + "."
    )


def _augmentation_finding(table) -> str:
    parts = []
    for dataset, rows in table.groupby("dataset", sort=False):
        effects = rows["effect (pp)"]
        up = int((effects > 0).sum())
        verdicts = [_verdict(p, n) for p, n in zip(rows["p exact"], rows["seeds"], strict=True)]
        significant, agree = verdicts.count("significant"), verdicts.count(AGREE)
        if up == 0:
            change = "lowered test accuracy for every model"
        elif up == len(rows):
            change = "raised test accuracy for every model"
        else:
            change = f"raised test accuracy for {up} of {len(rows)} models"
        tested = (
            "one seed: untested"
            if "one seed: untested" in verdicts
            else f"{significant or 'none'} significant"
            + (f"; every seed agrees for {agree} of {len(rows)}" if agree else "")
        )
        parts.append(
            f"on {dataset} it {change} ({effects.min():+.2f} to {effects.max():+.2f} points; "
            f"{tested})"
        )
    return "**Augmentation** (the original study's, at an equal budget): " + "; ".join(parts) + "."


def _interaction_finding(table) -> str:
    parts = []
    for dataset, rows in table.groupby("dataset", sort=False):
        # The original claim is about alexnet; the other models' rows are in the details.
        claim = rows[rows["comparison"].str.endswith(" vs alexnet")]
        for _, row in (claim if len(claim) else rows).iterrows():
            reference, other = row["comparison"].split(" vs ")
            diff = row["difference (pp)"]
            parts.append(
                f"on {dataset}, augmentation did {abs(diff):.2f} points "
                f"{'better' if diff >= 0 else 'worse'} for {reference} than for {other} "
                f"({_verdict(row['p exact'], row['seeds'])})"
            )
    return (
        "**Does augmentation help the lean model more** (the original's claim): "
        + "; ".join(parts)
        + "."
    )


def _overfitting_finding(table) -> str:
    worst = table.loc[table["train-val gap (pp)"].idxmax()]
    dataset, gap = worst["dataset"], worst["train-val gap (pp)"]
    with_aug = table[table["dataset"] == dataset]["train-val gap + aug (pp)"]
    aug_range = f"{with_aug.min():.1f} to {with_aug.max():.1f}"
    if gap <= 0:  # no model ends more accurate on its training images: nothing to read yet
        plain = table["train-val gap (pp)"]
        return (
            f"**Overfitting**: none measurable at this budget: without augmentation every model "
            f"ends less accurate on its training images than on validation ({plain.min():.1f} "
            f"to {plain.max():.1f} points), and with it the {dataset} gaps are {aug_range} "
            "(training accuracy is the last epoch's running mean, with dropout and augmentation "
            "on: in runs this short it lags the weights validation sees)."
        )
    return (
        f"**Overfitting**: without augmentation {worst['model']} ends {gap:.1f} points more "
        f"accurate on its training images than on validation ({dataset}, the largest gap); "
        f"with augmentation the {dataset} gaps are {aug_range} points (training accuracy is "
        "measured with dropout and augmentation on, so it can fall below validation)."
    )


def _confusion_finding(study: Study, dataset: str, k: int) -> str:
    best = study.best_key(dataset)
    names = study.result(best)["val"]["class_names"]
    weakest = list(study.weakest_classes(best, min(k, len(names))).index)
    text = (
        f"**Where it fails**: {label(best)}'s weakest {display_name(dataset)} classes on "
        f"validation are {', '.join(map(str, weakest))}"
    )
    pairs = confused_pairs(study, best, 1)
    if len(pairs):
        top = pairs.iloc[0]
        counts = study.confusion_matrix(best).to_numpy()
        errors = int(counts.sum() - np.trace(counts))
        text += (
            f"; its most frequent test confusion, {top['true']} taken for {top['predicted']}, "
            f"is {top['images']:,} of its {errors:,} test errors over the seeds"
        )
    return text + "."


def _data_efficiency_finding(study: Study, dataset: str) -> str:
    fractions = sorted(study.spec.fractions)
    cells = {}
    for e in study.experiments():
        if e.dataset == dataset and e.key in study.results:
            cells.setdefault(e.model, {})[e.fraction] = _test(study, e.key)
    models = [m for m, by in cells.items() if len(by) == len(fractions)]
    if len(models) < 2:
        return "**Training-set size**: the curve has not finished for two models yet."
    a, b = models[:2]
    lead = [100 * (cells[a][f] - cells[b][f]) for f in fractions]
    parts = ", ".join(f"{f:.0%} {d:+.1f}" for f, d in zip(fractions, lead, strict=True))
    return (
        f"**Training-set size** ({display_name(dataset)}, share of each class's images): "
        f"{a}'s test accuracy minus {b}'s is {parts} points."
    )


def _test(study: Study, key: str) -> float:
    return float(study.accuracies(key, "test").mean())


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.2f}%"


def _epochs(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


AGREE = "not significant; every seed agrees"


def _verdict(p_exact, seeds: int | None = None) -> str:
    """The one rule every comparison is judged by: the exact sign-flip test at 5%. With too few
    ``seeds`` for it to reach 5%, a difference every seed shows (the smallest p there is) says
    so, so that a large and consistent gap does not read like noise."""
    if p_exact is None or (isinstance(p_exact, float) and np.isnan(p_exact)):
        return "one seed: untested"
    if p_exact <= ALPHA:
        return "significant"
    floor = 2 / 2**seeds if seeds else 0.0
    return AGREE if floor > ALPHA and p_exact <= floor * (1 + 1e-9) else "not significant"


def _significance_sentence(study: Study) -> str:
    if study.seeds < 2:
        return " With one seed no difference is tested: run with 3 or more seeds."
    floor = 2 / 2**study.seeds
    text = (
        f" A difference is called significant when the exact paired sign-flip test over the "
        f"{study.seeds} seeds clears the {ALPHA:.0%} level (every p value is in the tests table)"
    )
    if floor > ALPHA:
        needed = next(n for n in range(2, 64) if 2 / 2**n <= ALPHA)
        text += (
            f"; with {study.seeds} seeds no difference can, however large (that needs {needed} "
            "seeds)"
        )
    return text + "."


def _sample_caveat(study: Study) -> list[str]:
    infos = [study.dataset_info(d) for d in study.datasets]
    sampled = [info for info in infos if info is not None and info["source"] == "sample"]
    if not sampled:
        return []
    sizes = ", ".join(f"{display_name(d['name'])} {d['sizes']['train']:,}" for d in sampled)
    return [
        f"These numbers come from the small sample shipped with cnnbench (training images: "
        f"{sizes}); they are not results on the full datasets.",
        "",
    ]


def _variant_sentence(study: Study) -> list[str]:
    table = variant_table(study)
    if not table["chosen"].any():
        return []
    chosen = table[table["chosen"]].iloc[0]
    others = ", ".join(
        f"{r['model']} {r['val acc (%)']:.2f}%" for _, r in table[~table["chosen"]].iterrows()
    )
    budgets = study.profile.epochs[study.selection_dataset]
    return [
        f"**Variant selection** ({display_name(study.selection_dataset)} validation accuracy, "
        f"{_epochs(budgets.variants)} each with the compared runs' recipe): "
        f"{chosen['model']} was kept with "
        f"{chosen['val acc (%)']:.2f}% (vs {others}).",
        "",
    ]


def _dataset_findings(study: Study, dataset: str, k: int) -> list[str]:
    name = display_name(dataset)
    keys = study.compared_keys(dataset)
    if not keys or any(key not in study.results for key in keys):
        return [f"**{name}**: the compared models have not all finished yet."]
    lines = [f"**{name}**", ""]
    lines.append("- " + _winner_sentence(study, dataset))
    augmentation = augmentation_table(study)
    augmentation = augmentation[augmentation["dataset"] == name]
    if len(augmentation):
        lines.append("- " + _augmentation_sentence(augmentation))
        lines.append("- " + _gap_sentence(augmentation))
    interaction = interaction_table(study)
    interaction = interaction[interaction["dataset"] == name]
    if len(interaction):
        lines.append("- " + _interaction_sentence(interaction))
    lines.append("- " + _weakness_sentence(study, dataset, k))
    targeted = targeted_table(study)
    targeted = targeted[targeted["dataset"] == name]
    if len(targeted):
        lines.append("- " + _targeted_sentence(targeted))
    if len(study.spec.fractions) > 1:
        lines.append("- " + _fraction_sentence(study, dataset))
    return lines


def _winner_sentence(study: Study, dataset: str) -> str:
    keys = study.compared_keys(dataset)
    best = study.best_key(dataset)
    test = {key: study.accuracies(key, "test").mean() for key in keys}
    runner_up = max((key for key in keys if key != best), key=lambda key: test[key], default=None)
    text = (
        f"**{label(best)}** has the best validation accuracy "
        f"({_pct(study.accuracies(best, 'val').mean())}) and reaches {_pct(test[best])} on test"
    )
    if runner_up is not None:
        paired = paired_test(study.accuracies(best, "test"), study.accuracies(runner_up, "test"))
        p_exact = paired.p_exact if paired.n > 1 else None
        text += (
            f"; the next best on test, {label(runner_up)}, {_pct(test[runner_up])} "
            f"({100 * paired.mean_difference:+.2f} points, {_verdict(p_exact, paired.n)})"
        )
    lightest = min(keys, key=lambda key: study.result(key)["test"]["params"])
    if study.model_of(lightest) != study.model_of(best):
        ratio = study.result(best)["test"]["params"] / study.result(lightest)["test"]["params"]
        times = study.mean(best, "train", "train_time_s") / study.mean(
            lightest, "train", "train_time_s"
        )
        text += (
            f". It has {ratio:.1f}x the parameters of the lightest, {study.model_of(lightest)} "
            f"({_pct(test[lightest])}), and {times:.1f}x its training time"
        )
    top = max(test, key=test.get)
    if test[top] > test[best]:
        text += f". On test {label(top)} scores higher: the validation ranking did not hold"
    return text + "."


def _augmentation_sentence(table) -> str:
    parts = [
        f"{row['model']} {row['effect (pp)']:+.2f} ({_verdict(row['p exact'], row['seeds'])})"
        for _, row in table.iterrows()
    ]
    return (
        "**Augmentation** (the original study's, same epochs, batch, recipe and seeds) changed "
        "test accuracy by " + ", ".join(parts) + " points."
    )


def _gap_sentence(table) -> str:
    parts = [
        f"{row['model']} {row['train-val gap (pp)']:.1f} -> {row['train-val gap + aug (pp)']:.1f}"
        for _, row in table.iterrows()
    ]
    return (
        "**Overfitting**: the last epoch's training minus validation accuracy, without -> with "
        "augmentation: " + ", ".join(parts) + " points."
    )


def _interaction_sentence(table) -> str:
    """Signed either way: augmentation may lower both models' accuracy, and then "helped more"
    would misread a smaller loss as a gain."""
    parts = []
    for _, row in table.iterrows():
        reference, other = row["comparison"].split(" vs ")
        diff = row["difference (pp)"]
        side = "better" if diff >= 0 else "worse"
        parts.append(
            f"{abs(diff):.2f} points {side} than for {other} "
            f"({row['effect on second (pp)']:+.2f}; {_verdict(row['p exact'], row['seeds'])})"
        )
    return (
        f"**Interaction** (the paired difference of two models' augmentation effects): for "
        f"{reference} augmentation changed test accuracy by "
        f"{table['effect on first (pp)'].iloc[0]:+.2f} points, " + "; ".join(parts) + "."
    )


def _weakness_sentence(study: Study, dataset: str, k: int) -> str:
    best = study.best_key(dataset)
    names = study.result(best)["val"]["class_names"]
    weakest = study.weakest_classes(best, min(k, len(names)))
    pairs = confused_pairs(study, best, k)
    images = int(study.result(best)["test"]["report"]["macro avg"]["support"]) * study.seeds
    confusions = ", ".join(
        f"{r.true} -> {r.predicted} ({r.images:,})" for r in pairs.itertuples(index=False)
    )
    return (
        f"**Weakest classes** of {label(best)} on validation: "
        + ", ".join(f"{c} (F1 {v:.3f})" for c, v in weakest.items())
        + (
            f"; its most frequent test confusions (over {images:,} predictions): {confusions}"
            if confusions
            else ""
        )
        + "."
    )


def _targeted_sentence(table) -> str:
    uniform = table[table["vs uniform (pp)"].isna()].iloc[-1]
    parts = [
        f"{row['model'].split(' + ')[-1]} {row['vs uniform (pp)']:+.2f} points "
        f"({_verdict(row['p exact'], row['seeds'])}), boosted classes' F1 "
        f"{uniform['boosted F1']:.3f} -> {row['boosted F1']:.3f}"
        for _, row in table.iterrows()
        if row["model"].count(" + ") == 2
    ]
    return (
        f"**Targeted augmentation** of {uniform['model']}'s weakest validation classes "
        f"({uniform['boosted classes']}, {TARGETED_FACTOR:g}x the weight of the others) against "
        "uniform augmentation: " + "; ".join(parts) + "."
    )


def _fraction_sentence(study: Study, dataset: str) -> str:
    parts = []
    for model in dict.fromkeys(e.model for e in study.experiments() if e.dataset == dataset):
        cells = [e for e in study.experiments() if e.dataset == dataset and e.model == model]
        values = [
            f"{e.fraction:.0%} {_pct(study.accuracies(e.key, 'test').mean())}"
            for e in cells
            if e.key in study.results
        ]
        if values:  # named by its cell on every image: "custom + aug", not "... (10%)"
            whole = max(cells, key=lambda e: e.fraction)
            parts.append(f"{label(whole.key)}: " + ", ".join(values))
    return (
        "**Training-set size** (share of each class's training images): " + "; ".join(parts) + "."
    )


def limitations_markdown(study: Study) -> str:
    """What the study's numbers rest on and what they do not show, from its own settings and
    results: data variant and sample, seeds, budgets, recipes, hardware."""
    if not study.results:
        raise ConfigError(f"study {str(study.path)!r} has no finished experiment yet")
    results = [r for by_seed in study.runs.values() for r in by_seed.values()]
    lines = []
    for dataset in study.datasets:
        info = study.dataset_info(dataset)
        if info is None:
            continue
        sizes = info["sizes"]
        lines.append(
            f"- **Data ({display_name(dataset)}).** {info['variant']}; {sizes['train']:,} training "
            f"images (sample fraction {study.profile.sample_fraction:g}, drawn once with seed "
            f"{study.seed}), {sizes['val']:,} validation, {sizes['test']:,} test. Another "
            "sample would move the numbers a little; the test set is used once, for reporting."
        )
    floor = 2 / 2**study.seeds
    lines.append(
        f"- **Seeds.** {study.seeds} training seed{'s' if study.seeds > 1 else ''} per experiment"
        + (
            (
                f"; with so few the exact paired test cannot call any difference significant at "
                f"{ALPHA:.0%}, however large"
                if floor > ALPHA
                else f"; differences are judged by the exact paired test at {ALPHA:.0%}"
            )
            + " (the tests table gives the paired t-test's p beside it, under its normality "
            "assumption)."
            if study.seeds > 1
            else ": no spread and no test; run with `seeds` >= 3 for intervals."
        )
    )
    budgets = "; ".join(
        f"{display_name(d)} "
        + (f"{e.variants} for the variants, " if d == study.selection_dataset else "")
        + f"{e.main} for the compared and augmented runs"
        for d, e in study.profile.epochs.items()
        if d in study.datasets
    )
    lines.append(
        f"- **Budgets.** Epochs: {budgets}; the original study trained 30 and 50. Short budgets "
        "favour models and recipes that converge fast, and augmentation makes the training "
        "task harder to fit: the ranking at the original's budgets may differ (the `standard` "
        "profile runs them)."
    )
    recipes = sorted({r["train"]["config"]["recipe"]["name"] for r in results})
    lines.append(
        f'- **Recipes.** `recipe="{study.profile.recipe}"` gave {", ".join(recipes)}: '
        "networks with BatchNorm train with one-cycle SGD, plain ones with one-cycle AdamW (one "
        "CIFAR-10 epoch of SGD at that rate left alexnet at chance: `docs/performance.md`), so "
        "an architecture comparison includes its recipe. No per-model hyperparameter search was "
        "made."
    )
    machines = list(dict.fromkeys(r["environment"]["hardware"] for r in results))
    mixed = (
        f" The cells ran on {len(machines)} machines (the comparison's hardware column): times "
        "and latencies compare only between cells measured on the same one."
        if len(machines) > 1
        else ""
    )
    lines.append(
        f"- **Hardware.** Times and latencies were measured on {'; '.join(machines)}.{mixed} "
        "Their ratios change on a GPU, where FLOPs matter less than on a CPU and small models "
        "leave it idle; latency is one image at a time through Keras."
    )
    lines.append(
        "- **Not shown.** Robustness to other data (corruptions, other datasets), calibration, "
        "memory at inference and energy; the targeted classes are the best augmented model's "
        "weakest on validation and may differ for the others."
    )
    return "\n".join(lines) + "\n"
