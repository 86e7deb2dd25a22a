"""Print runs.jsonl as a markdown table."""
import json, os
rows = [json.loads(l) for l in open(os.path.join(os.path.dirname(__file__), "runs.jsonl"))]
print("| tag | arch | params | MFLOPs | n_train | epochs | bs | opt/lr | ls | aug | dtype | img/s | train s | val | test | test TTA |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    a = r["args"]
    arch = "custom" + (a["kw"] if a["kw"] != "{}" else "") if a["custom"] else a["arch"]
    print(f"| {r['tag']} | {arch} | {r['params']:,} | {r['mflops']} | {r['n_train']} | {a['epochs']} | {a['bs']} | {a['opt']} {a['lr']} {a['sched']} wd{a['wd']} | {a['ls']} | {a['aug']}@{a['aug_where']} | {'bf16' if a['bf16'] else 'fp32'}{'+xla' if a['xla'] else ''} | {r['img_s']} | {r['train_time_s']} | {r['val']:.4f} | {r['test']:.4f} | {r['test_tta']:.4f} |")
