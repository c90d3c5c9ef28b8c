#!/bin/bash
# Stage 3 of the default weights on one CPU thread (see README.md); rerun to resume after a kill.
set -e
cd "$(dirname "$0")/../.."
. .venv/bin/activate  # the repository's environment (torch CPU, the package installed editable)
[ -f /tmp/h17_work/bank.npz ] || python scripts/train_default_weights.py --scenes realistic --prepare-only --workdir /tmp/h17_work
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python scripts/train_default_weights.py --scenes realistic \
    --init sunpy_jets/data/default --workdir /tmp/h17_work --state-out /tmp/h17_work/stage3 --resume \
    --device cpu --threads 1 --jobs 1 --seed 17 --batch-pairs 4 --procedural-fraction 0.5 \
    --n-procedural 240 --n-procedural-val 48 --val-pairs 16 --eval-every 40 --lr 2e-4 --lr-min 1e-5 \
    --warmup 10 --time-schedule --time-budget 2400 --hard-limit 2600 >> scripts/results/cpu_stage3.log 2>&1 &
echo $! > /tmp/h17_work/stage3.pid
