. ../../.venv/bin/activate
while pgrep -f "queue2.sh" >/dev/null; do sleep 2; done
python bench_registry.py custom_v1,custom_v2,custom_v3,alexnet,custom > registry.log 2>&1
python original.py 20 > orig20.log 2>&1
