#!/bin/bash
# Stage 7 of the default weights on the 2-core CPU machine (see README.md): stage 6 (b63b0404) continued with the
# same options (the realistic half learning only the bundled 088a3d33 weights' probabilities, the procedural half
# its labels), because stage 6 raised the injected-jet AUC 0.87 -> 0.92 in 40 minutes and had not levelled off.
# 75 minutes on one thread, lr 1e-4 -> 1e-5. Rerun to resume after a kill.
set -e
cd "$(dirname "$0")/../.."
. .venv/bin/activate  # the repository's environment (torch CPU, the package installed editable)
W=/tmp/h17_work
[ -f $W/bank.npz ] || python scripts/train_default_weights.py --scenes realistic --prepare-only --workdir $W
[ -d $W/stage6_model ] || { echo "stage 6's model directory is needed first: see cpu_stage6.sh and stage6_eval.sh"; exit 1; }
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python scripts/train_default_weights.py --scenes realistic \
    --init $W/stage6_model --distill sunpy_jets/data/default --distill-weight 1.0 --workdir $W --state-out $W/stage7 \
    --resume --device cpu --threads 1 --jobs 1 --seed 21 --batch-pairs 4 --procedural-fraction 0.5 \
    --n-procedural 1000 --n-procedural-val 96 --val-pairs 16 --eval-every 50 --lr 1e-4 --lr-min 1e-5 \
    --warmup 20 --time-schedule --time-budget 4500 --hard-limit 4700 >> scripts/results/cpu_stage7.log 2>&1 &
echo $! > $W/stage7.pid
