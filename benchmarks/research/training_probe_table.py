"""Print `runs.jsonl` (the runs of `training_probe.py`) as a markdown table.

The raw data of docs/performance.md sections 3 and 4 (tags r1, r2, r4, r5, mnist_custom16_2ep,
tp_*): architecture, training set, epochs, recipe, augmentation, dtype, img/s, training seconds,
and final validation, test and test + flip-TTA accuracy of each run.

    python training_probe_table.py
"""

import json
from pathlib import Path

rows = [
    json.loads(line)
    for line in (Path(__file__).parent / "runs.jsonl").read_text().splitlines()
    if line.strip()
]
print(
    "| tag | arch | params | MFLOPs | n_train | epochs | bs | opt/lr | ls | aug | dtype | img/s "
    "| train s | val | test | test TTA |"
)
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    a = r["args"]
    arch = "custom" + (a["kw"] if a["kw"] != "{}" else "") if a["custom"] else a["arch"]
    recipe = f"{a['opt']} {a['lr']} {a['sched']} wd{a['wd']}"
    dtype = ("bf16" if a["bf16"] else "fp32") + ("+xla" if a["xla"] else "")
    print(
        f"| {r['tag']} | {arch} | {r['params']:,} | {r['mflops']} | {r['n_train']} "
        f"| {a['epochs']} | {a['bs']} | {recipe} | {a['ls']} | {a['aug']}@{a['aug_where']} "
        f"| {dtype} | {r['img_s']} | {r['train_time_s']} | {r['val']:.4f} | {r['test']:.4f} "
        f"| {r['test_tta']:.4f} |"
    )
