#!/bin/bash
# Stage 5 of the default weights on the 2-core CPU machine (see README.md): continues stage 4 (79a351bc) on
# realistic scenes mixed half and half with cached make_sequence scenes, and on the realistic half learns half
# from the labels and half from the bundled 088a3d33 weights' probabilities (--distill): the procedural share
# moves the weights toward the procedural test while the teacher holds them near the bundled weights on real
# backgrounds, where stages 3 and 4 lost the injected-jet AUC. One thread, so that other work can share the
# machine. Rerun to resume after a kill.
set -e
cd "$(dirname "$0")/../.."
. .venv/bin/activate  # the repository's environment (torch CPU, the package installed editable)
W=/tmp/h17_work
[ -f $W/bank.npz ] || python scripts/train_default_weights.py --scenes realistic --prepare-only --workdir $W
[ -d $W/stage4_model ] || { echo "stage 4's model directory is needed first: see cpu_stage4.sh and stage4_eval.sh"; exit 1; }
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python scripts/train_default_weights.py --scenes realistic \
    --init $W/stage4_model --distill sunpy_jets/data/default --distill-weight 0.5 --workdir $W --state-out $W/stage5 \
    --resume --device cpu --threads 1 --jobs 1 --seed 19 --batch-pairs 4 --procedural-fraction 0.5 \
    --n-procedural 1000 --n-procedural-val 96 --val-pairs 16 --eval-every 50 --lr 2e-4 --lr-min 1e-5 \
    --warmup 20 --time-schedule --time-budget 4500 --hard-limit 4800 >> scripts/results/cpu_stage5.log 2>&1 &
echo $! > $W/stage5.pid
