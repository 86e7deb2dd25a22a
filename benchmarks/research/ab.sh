. ../../.venv/bin/activate
for rep in 1 2; do
 for opts in "" "--bf16" "--intra 2 --inter 1" "--bf16 --intra 2 --inter 1" "--bf16 --xla"; do
  timeout 200 python model_bench.py ab16_32_64_128_pf,ab24_48_96_192_pf,ab24_64_128_256_pf --steps 25 $opts 2>&1 | grep RESULT
 done
done
