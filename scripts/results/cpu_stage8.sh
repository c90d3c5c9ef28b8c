#!/bin/bash
# Stage 8 of the default weights on the 2-core CPU machine (see README.md): stage 7 continued with the
# same options (the realistic half learning only the bundled 088a3d33 weights' probabilities, the procedural half
# its labels): stage 7 met the injected-jet AUC (0.96) but not the rendered dynamic non-jets (see README.md).
# 45 minutes on one thread, lr 1e-4 -> 1e-5. Rerun to resume after a kill.
set -e
cd "$(dirname "$0")/../.."
. .venv/bin/activate  # the repository's environment (torch CPU, the package installed editable)
W=/tmp/h17_work
[ -f $W/bank.npz ] || python scripts/train_default_weights.py --scenes realistic --prepare-only --workdir $W
[ -d $W/stage7_model ] || { echo "stage 7's model directory is needed first: see cpu_stage7.sh and stage7_eval.sh"; exit 1; }
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python scripts/train_default_weights.py --scenes realistic \
    --init $W/stage7_model --distill sunpy_jets/data/default --distill-weight 1.0 --workdir $W --state-out $W/stage8 \
    --resume --device cpu --threads 1 --jobs 1 --seed 22 --batch-pairs 4 --procedural-fraction 0.5 \
    --n-procedural 1000 --n-procedural-val 96 --val-pairs 16 --eval-every 50 --lr 1e-4 --lr-min 1e-5 \
    --warmup 20 --time-schedule --time-budget 2700 --hard-limit 2900 >> scripts/results/cpu_stage8.log 2>&1 &
echo $! > $W/stage8.pid
