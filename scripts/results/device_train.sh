#!/bin/bash
# The GPU run that trained the realistic-scene stages (one H200, 16 cores, python3 with torch, no astropy/sunpy).
# Run 1 (STAGE=1): three variants in parallel on one GPU, each its own process: A fine-tunes the previous default
# weights (lr 5e-4), B trains the same architecture from scratch, C fine-tunes with more render augmentation.
# Run 2 (STAGE=2): P continues B (made a model directory with --finalize into .realistic/stageB), Q fine-tunes
# the previous default weights with a gentler learning rate (1e-4).
# Needs .realistic/ (bank.npz, jets.npy) from:
#   python scripts/train_default_weights.py --scenes realistic --prepare-only --workdir .realistic
# OUT is the folder the states and logs go to.
set -u
OUT=${OUT:-/tmp/realistic_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=4
nvidia-smi -L || true
common="scripts/train_default_weights.py --scenes realistic --workdir .realistic --init sunpy_jets/data/default
        --device cuda --batch-pairs 32 --val-pairs 256 --eval-every 100 --time-budget ${BUDGET:-330} --hard-limit ${HARD:-450}"
if [ "${STAGE:-2}" = 1 ]; then
(python3 $common --lr 5e-4 --seed 11 --render-p 0.5 --state-out "$OUT/A" 2>&1 | sed -u 's/^/A /' >> "$OUT/runs.log") &
(python3 $common --lr 1e-3 --seed 12 --render-p 0.5 --from-scratch --state-out "$OUT/B" 2>&1 | sed -u 's/^/B /' >> "$OUT/runs.log") &
(python3 $common --lr 5e-4 --seed 13 --render-p 0.8 --state-out "$OUT/C" 2>&1 | sed -u 's/^/C /' >> "$OUT/runs.log") &
else
common2="${common/--init sunpy_jets\/data\/default/}"
(python3 $common2 --init .realistic/stageB --lr 5e-4 --warmup 20 --seed 21 --render-p 0.5 --state-out "$OUT/P" 2>&1 | sed -u 's/^/P /' >> "$OUT/runs.log") &
(python3 $common2 --init sunpy_jets/data/default --lr 1e-4 --warmup 100 --seed 22 --render-p 0.5 --state-out "$OUT/Q" 2>&1 | sed -u 's/^/Q /' >> "$OUT/runs.log") &
fi
wait
grep -v Warning "$OUT/runs.log" | tail -n 40
