. ../../.venv/bin/activate
while pgrep -f "queue1.sh" >/dev/null; do sleep 2; done
python train.py --custom --subset 0.25 --epochs 12 --tag r4_25pct_custom_12ep > r4.log 2>&1
python aug_bench.py > aug_bench2.log 2>&1
