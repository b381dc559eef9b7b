# one device call: facts for issue 25 (imports, ready time, kernels, skinny matmuls)
set -x
export PYTHONPATH=. PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv
for threads in default 1; do
  d=$(mktemp -d); export TORCHINDUCTOR_CACHE_DIR=$d/inductor TRITON_CACHE_DIR=$d/triton
  if [ $threads = 1 ]; then export TORCHINDUCTOR_COMPILE_THREADS=1; else unset TORCHINDUCTOR_COMPILE_THREADS; fi
  T0=$(python3 -c 'import time; print(time.time())') python3 .gpu/gpu_facts.py ready $OUT/p
done
unset TORCHINDUCTOR_COMPILE_THREADS
python3 .gpu/gpu_facts.py matmuls $OUT/p
python3 .gpu/gpu_facts.py kernels $OUT/p
cd $OUT && tar czf facts.tgz p && rm -rf p
