#!/bin/bash
# Stage 4 of the default weights on the 2-core CPU machine (see README.md): continues stage 3 (d384a91d) on
# realistic scenes mixed half and half with cached make_sequence scenes. Rerun to resume after a kill.
set -e
cd "$(dirname "$0")/../.."
. .venv/bin/activate  # the repository's environment (torch CPU, the package installed editable)
W=/tmp/h17_work
[ -f $W/bank.npz ] || python scripts/train_default_weights.py --scenes realistic --prepare-only --workdir $W
if [ ! -d $W/stage3_model ]; then
    mkdir -p $W/stage3_state
    cp scripts/results/cpu_stage3_state.safetensors $W/stage3_state/state.safetensors
    cp scripts/results/cpu_stage3_train_log.json $W/stage3_state/train_log.json
    python scripts/train_default_weights.py --scenes realistic --finalize $W/stage3_state --init sunpy_jets/data/default \
        --workdir $W --output $W/stage3_model --threshold 0.4496
fi
OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 nohup python scripts/train_default_weights.py --scenes realistic \
    --init $W/stage3_model --workdir $W --state-out $W/stage4 --resume \
    --device cpu --threads 2 --jobs 2 --seed 18 --batch-pairs 4 --procedural-fraction 0.5 \
    --n-procedural 1000 --n-procedural-val 96 --val-pairs 16 --eval-every 60 --lr 3e-4 --lr-min 1e-5 \
    --warmup 20 --time-schedule --time-budget 5400 --hard-limit 5700 >> scripts/results/cpu_stage4.log 2>&1 &
echo $! > $W/stage4.pid
