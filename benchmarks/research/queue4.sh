. ../../.venv/bin/activate
while pgrep -f "original.py 20" >/dev/null; do sleep 2; done
python train.py --custom --subset 1.0 --epochs 6 --aug fliptrans --tag r5_full_custom_fliptrans_6ep > r5.log 2>&1
