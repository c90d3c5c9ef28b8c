#!/bin/bash
# Stage 6 of the default weights on the 2-core CPU machine (see README.md): continues stage 5 (a4edbeff), the same
# half-and-half batches of realistic and cached make_sequence scenes, but the realistic half now learns only the
# bundled 088a3d33 weights' probabilities (--distill-weight 1.0; stage 5 took half labels, half teacher), to hold
# the injected-jet AUC that stage 5 still lost. 40 minutes on one thread, lr 1e-4. Rerun to resume after a kill.
set -e
cd "$(dirname "$0")/../.."
. .venv/bin/activate  # the repository's environment (torch CPU, the package installed editable)
W=/tmp/h17_work
[ -f $W/bank.npz ] || python scripts/train_default_weights.py --scenes realistic --prepare-only --workdir $W
[ -d $W/stage5_model ] || { echo "stage 5's model directory is needed first: see cpu_stage5.sh and stage5_eval.sh"; exit 1; }
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python scripts/train_default_weights.py --scenes realistic \
    --init $W/stage5_model --distill sunpy_jets/data/default --distill-weight 1.0 --workdir $W --state-out $W/stage6 \
    --resume --device cpu --threads 1 --jobs 1 --seed 20 --batch-pairs 4 --procedural-fraction 0.5 \
    --n-procedural 1000 --n-procedural-val 96 --val-pairs 16 --eval-every 50 --lr 1e-4 --lr-min 1e-5 \
    --warmup 20 --time-schedule --time-budget 2400 --hard-limit 2600 >> scripts/results/cpu_stage6.log 2>&1 &
echo $! > $W/stage6.pid
