"""The study's findings in English, generated from its results: every number is computed.

:func:`header` is the line naming what the numbers were measured with (profile, seed, hardware,
data); :func:`summary_markdown` is the discussion the notebook ends with and ``summary.md``.
:class:`~cnnbench.study.Study` keeps same-named methods that call these functions.
"""

from __future__ import annotations

import pandas as pd

from cnnbench.config import PROFILES, TARGETED_FACTOR
from cnnbench.errors import ConfigError
from cnnbench.stats import paired_test
from cnnbench.study import AUGMENTED, COMPARED, TARGETED, Study, display_name, mean_f1
from cnnbench.tables import TRAININGS, per_class_table, variant_table


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


def summary_markdown(study: Study, k: int = 3) -> str:
    """The study's findings in Markdown; every number is computed from the results.

    ``k`` is how many weakest classes to name per dataset.
    """
    lines = ["## Summary", "", f"_{header(study)}_", ""]
    runs = [r for by_seed in study.runs.values() for r in by_seed.values()]
    total = sum(r["timings"]["total_s"] for r in runs)
    per_seed = f" ({len(runs)} runs over {study.seeds} seeds)" if study.seeds > 1 else ""
    lines += [
        f"{len(study.results)} experiments{per_seed} took {total / 60:.1f} min of training and "
        "evaluation in all."
        + (" Numbers are means over the seeds; comparisons are paired by seed." if per_seed else "")
        + _floor_sentence(study),
        "",
    ]
    lines += _sample_caveat(study) + _variant_sentence(study)
    for dataset in study.datasets:
        lines += _dataset_summary(study, dataset, k) + [""]
    missing = study.missing()
    if missing:
        lines.append(
            f"_Incomplete: {len(missing)} of {len(study.expected_keys())} experiments not "
            f"finished ({', '.join(missing)}); rerun the study to complete it._"
        )
    return "\n".join(lines).rstrip() + "\n"


def _describe(test, name_a: str, name_b: str) -> str:
    """A paired comparison in the discussion: the floor of the exact p is said once, above."""
    return test.describe(name_a, name_b, floor_note=False)


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.2f}%"


def _epochs(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


def _floor_sentence(study: Study) -> str:
    """With few seeds no exact paired test can reach 5%: say so once, for every comparison."""
    floor = 2 / 2**study.seeds
    if study.seeds < 2 or floor <= 0.05:
        return ""
    return (
        f" With {study.seeds} seeds the exact sign-flip test's smallest two-sided p is "
        f"{floor:.3g}, so no difference below can be significant at 5% (that needs 6 seeds); "
        "the paired t-test's p, which assumes normally distributed differences, is given beside it."
    )


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
    epochs = study.profile.epochs[study.selection_dataset].variants
    mean = f"mean over {study.seeds} seeds of " if study.seeds > 1 else ""
    return [
        f"**Variant selection** ({mean}{display_name(study.selection_dataset)} validation "
        f"accuracy, {_epochs(epochs)} each): {chosen['model']} was kept with "
        f"{chosen['val acc (%)']:.2f}% (vs {others}).",
        "",
    ]


def _dataset_summary(study: Study, dataset: str, k: int) -> list[str]:
    name = display_name(dataset)
    keys = [f"{dataset}/{c}" for c in COMPARED]
    if any(k not in study.results for k in keys):
        return [f"**{name}**: the compared models have not all finished yet."]
    best_key = study.best_key(dataset)
    lines = [f"**{name}**: {_winner_sentence(study, dataset, best_key)}", ""]
    weakest = study.weakest_classes(dataset, k)
    lines.append(
        "- Weakest classes on validation: "
        + ", ".join(f"{c} (F1 {v:.3f})" for c, v in weakest.items())
        + "."
    )
    if f"{dataset}/{AUGMENTED}" in study.results:
        lines.append(_augmentation_sentence(study, dataset, best_key, weakest))
        if all(f"{dataset}/{name}" in study.results for name in TARGETED):
            lines.append(_targeted_sentence(study, dataset))
    return lines


def _mean(study: Study, key: str, *path: str) -> float:
    """The mean over the seeds of ``result[path[0]][path[1]]...`` of a finished experiment."""
    values = []
    for result in study.seed_results(key):
        for part in path:
            result = result[part]
        values.append(result)
    return sum(values) / len(values)


def _winner_sentence(study: Study, dataset: str, best_key: str) -> str:
    best = study.result(best_key)
    model = best["config"]["model"]
    acc = {k: _mean(study, k, "test", "accuracy") for k in (f"{dataset}/{c}" for c in COMPARED)}
    parts = []
    for key in acc:
        if key == best_key:
            continue
        other = study.result(key)
        test = paired_test(study.accuracies(best_key, "test"), study.accuracies(key, "test"))
        params = best["test"]["params"] / other["test"]["params"]
        times = (
            _mean(study, best_key, "train", "train_time_s"),
            _mean(study, key, "train", "train_time_s"),
        )
        parts.append(
            f"vs {other['config']['model']} ({_pct(acc[key])} on test): "
            f"{_describe(test, model, other['config']['model'])}, with {params:.2f}x its "
            f"parameters ({best['test']['params']:,} vs {other['test']['params']:,}) and "
            f"{times[0] / times[1]:.2f}x its training time ({times[0]:.1f} s vs {times[1]:.1f} s)"
        )
    sentence = (
        f"{model} had the highest validation accuracy "
        f"({_pct(_mean(study, best_key, 'val', 'accuracy'))}) of the compared models; on test it "
        f"reaches {_pct(acc[best_key])}: " + "; ".join(parts) + "."
    )
    top = max(acc, key=acc.get)
    if acc[top] > acc[best_key]:
        sentence += (
            f" On test, {study.result(top)['config']['model']} scored higher "
            f"({_pct(acc[top])}): the validation ranking did not hold."
        )
    return sentence


def _augmentation_sentence(study: Study, dataset: str, best_key: str, weakest: pd.Series) -> str:
    """The augmented retrain against the same model without augmentation: same epochs, batch,
    recipe and seeds, so the per-seed differences are a paired comparison."""
    after_key = f"{dataset}/{AUGMENTED}"
    model = study.result(best_key)["config"]["model"]
    change = per_class_table(study, dataset)["change"].round(3)  # as shown: +0.000 is no change
    test = paired_test(study.accuracies(after_key, "test"), study.accuracies(best_key, "test"))
    accs = (_mean(study, best_key, "test", "accuracy"), _mean(study, after_key, "test", "accuracy"))
    macro = (
        _mean(study, best_key, "test", "report", "macro avg", "f1-score"),
        _mean(study, after_key, "test", "report", "macro avg", "f1-score"),
    )
    budget = study.result(after_key)["config"]["epochs"]
    ran = sorted({r["train"]["epochs_run"] for r in study.seed_results(after_key)})
    stopped = (
        "" if ran == [budget] else f" (early stopping ended it after {'/'.join(map(str, ran))})"
    )
    moves = []
    for word, mask, pick in (("rose", change > 0, "idxmax"), ("fell", change < 0, "idxmin")):
        count = int(mask.sum())
        if count:
            cls = getattr(change, pick)()
            moves.append(f"{word} for {count} (most: {cls} {change[cls]:+.3f})")
    moves = " and ".join(moves) or "did not change for any"
    weak = ", ".join(f"{c} {change[c]:+.3f}" for c in weakest.index)
    seeds = "the same seed" if study.seeds == 1 else f"the same {study.seeds} seeds"
    return (
        f"- Retrained with augmentation (same {_epochs(budget)} budget{stopped}, batch, recipe and "
        f"{seeds} as without): test accuracy {_pct(accs[0])} -> {_pct(accs[1])}; "
        f"{_describe(test, f'{model} with augmentation', f'{model} without augmentation')}; "
        "macro F1 "
        f"{macro[0]:.3f} -> {macro[1]:.3f}; per-class test F1 {moves} of {len(change)} classes; "
        f"on the weakest classes: {weak}."
    )


def _targeted_sentence(study: Study, dataset: str) -> str:
    """Each targeted augmentation against uniform augmentation: same model, epochs, batch,
    recipe and seeds; on overall test accuracy (paired test) and on the boosted classes' F1."""
    uniform_key = f"{dataset}/{AUGMENTED}"
    boosted = study.targeted_classes(dataset)

    def boosted_f1(key: str) -> float:
        """Test F1 of the boosted classes, averaged over them and the seeds."""
        return sum(mean_f1(study.seed_results(key), "test", boosted)) / len(boosted)

    parts = []
    for name in TARGETED:
        key = f"{dataset}/{name}"
        label = TRAININGS[name].removeprefix("targeted augmentation, ")
        test = paired_test(study.accuracies(key, "test"), study.accuracies(uniform_key, "test"))
        parts.append(
            f"{label}: test accuracy {_pct(_mean(study, key, 'test', 'accuracy'))}, "
            f"{_describe(test, label, 'uniform augmentation')}; boosted classes' "
            "mean test F1 "
            f"{boosted_f1(uniform_key):.3f} -> {boosted_f1(key):.3f}"
        )
    classes = ", ".join(boosted[:-1]) + f" and {boosted[-1]}" if len(boosted) > 1 else boosted[0]
    return (
        f"- Targeted augmentation of the weakest classes on validation ({classes}: "
        f"{TARGETED_FACTOR:g}x the weight of the others; same budget, batch, recipe and seeds as "
        f"uniform augmentation, which reached {_pct(_mean(study, uniform_key, 'test', 'accuracy'))}"
        " on test): " + "; ".join(parts) + "."
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
            f"; the exact paired test's smallest two-sided p is {floor:.3g}, so no difference is "
            "called significant at 5% with fewer than 6 seeds (the paired t-test's p is given "
            "beside it, under its normality assumption)."
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
        "networks with BatchNorm train with one-cycle SGD, plain ones with one-cycle AdamW (SGD "
        "at that rate leaves them at chance), so an architecture comparison includes its recipe. "
        "No per-model hyperparameter search was made."
    )
    hardware = "; ".join(dict.fromkeys(r["environment"]["hardware"] for r in results))
    lines.append(
        f"- **Hardware.** Times and latencies were measured on {hardware}. Their ratios change "
        "on a GPU, where FLOPs matter less than on a CPU and small models leave it idle; latency "
        "is one image at a time through Keras."
    )
    lines.append(
        "- **Not shown.** Robustness to other data (corruptions, other datasets), calibration, "
        "memory at inference and energy; the weakest classes are chosen on validation by the "
        "best model without augmentation and may differ for the others."
    )
    return "\n".join(lines) + "\n"
