#!/bin/bash
# One CPU training stage of the default weights (stages 5 on, see README.md): continues the model directory INIT
# on half-and-half batches of realistic and cached make_sequence scenes, the realistic half learning
# DISTILL_WEIGHT of the bundled 088a3d33 weights' probabilities (--distill) and the rest from its labels; one
# thread, so that other work can share the machine; runs in the background and resumes after a kill.
# Usage: stage_train.sh N INIT DISTILL_WEIGHT SEED LR TIME_BUDGET HARD_LIMIT [RENDER_P [RENDER_BLUR [SMOOTHING]]], with INIT a model directory
# under /tmp/h17_work (written by stage_eval.sh or rebuild_stage_models.sh) and RENDER_P the fraction of realistic
# scenes rendered (default 0.5) and RENDER_BLUR the fraction of rendered ones blurred first (default 0); the state goes to /tmp/h17_work/stageN, the log to cpu_stageN.log.
set -e
N=${1:?stage number}
INIT=${2:?model directory the stage starts from}
DISTILL=${3:?distill weight}
SEED=${4:?seed}
LR=${5:?peak learning rate}
BUDGET=${6:?time budget in seconds}
LIMIT=${7:?hard limit in seconds}
RENDER_P=${8:-0.5}
RENDER_BLUR=${9:-0}
SMOOTHING=${10:-}  # arcsec: the network's own smoothing of every frame (--smoothing); empty keeps INIT's
BLUR_SIGMA=${BLUR_SIGMA:-0.6 1.4}  # model pixels: the range of the render blur's sigma (--render-blur-sigma)
cd "$(dirname "$0")/../.."
. .venv/bin/activate  # the repository's environment (torch CPU, the package installed editable)
W=/tmp/h17_work
P=$((N - 1))
[ -f $W/bank.npz ] || python scripts/train_default_weights.py --scenes realistic --prepare-only --workdir $W
[ -d $W/$INIT ] || { echo "$INIT is needed first: see rebuild_stage_models.sh, or cpu_stage$P.sh and stage${P}_eval.sh"; exit 1; }
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 nohup python scripts/train_default_weights.py --scenes realistic \
    --init $W/$INIT --distill sunpy_jets/data/default --distill-weight $DISTILL --workdir $W --state-out $W/stage$N \
    --resume --device cpu --threads 1 --jobs ${JOBS:-1} --seed $SEED --batch-pairs 4 --procedural-fraction 0.5 \
    --n-procedural 1000 --n-procedural-val 96 --val-pairs 16 --eval-every 50 --lr $LR --lr-min 1e-5 \
    --warmup 20 --render-p $RENDER_P --render-blur $RENDER_BLUR --render-blur-sigma $BLUR_SIGMA ${SMOOTHING:+--smoothing $SMOOTHING} --time-schedule --time-budget $BUDGET --hard-limit $LIMIT >> scripts/results/cpu_stage$N.log 2>&1 &
echo $! > $W/stage$N.pid
