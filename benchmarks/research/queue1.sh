. ../../.venv/bin/activate
while pgrep -f "tag r2_full" >/dev/null; do sleep 2; done
K='{"stem":16,"widths":[32,64,128]}'
# dtype / XLA / threads throughput on real training (2 epochs of the 25% sample, aug crop)
python train.py --custom --kw "$K" --subset 0.25 --epochs 2 --tag tp_fp32 > tp_fp32.log 2>&1
python train.py --custom --kw "$K" --subset 0.25 --epochs 2 --bf16 --tag tp_bf16 > tp_bf16.log 2>&1
python train.py --custom --kw "$K" --subset 0.25 --epochs 2 --xla --tag tp_xla > tp_xla.log 2>&1
python train.py --custom --kw "$K" --subset 0.25 --epochs 2 --intra 0 --inter 0 --tag tp_fp32_defaultthreads > tp_def.log 2>&1
python original.py 3 > orig.log 2>&1
python train.py --custom --kw "$K" --data mnist --subset 1.0 --epochs 2 --aug none --tag mnist_custom16_2ep > mnist.log 2>&1
