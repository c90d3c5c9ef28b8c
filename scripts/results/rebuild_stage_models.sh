#!/bin/bash
# Rebuilds the model directories of CPU stages 3 to LAST in /tmp/h17_work from the states, logs, thresholds and
# card figures committed here, as the stages' evaluations left them, so that a new session can continue from
# any stage (each stage's --finalize needs the directory of the stage it started from). Usage: rebuild_stage_models.sh LAST.
# About 30 s a stage on 2 cores (the first run also prepares the background bank, a few minutes).
set -e
LAST=${1:?last stage to rebuild}
cd "$(dirname "$0")/../.."
. .venv/bin/activate
W=/tmp/h17_work
R=scripts/results
[ -f $W/bank.npz ] || python scripts/train_default_weights.py --scenes realistic --prepare-only --workdir $W
INIT=sunpy_jets/data/default
for N in $(seq 3 "$LAST"); do
    # stages 12 and 13 started from stages 10 and 11, not from the stage before them
    case $N in 12) INIT=$W/stage10_model ;; 13) INIT=$W/stage11_model ;; esac
    mkdir -p $W/stage${N}_state
    cp $R/cpu_stage${N}_state.safetensors $W/stage${N}_state/state.safetensors
    cp $R/cpu_stage${N}_train_log.json $W/stage${N}_state/train_log.json
    if [ "$N" = 3 ]; then
        OPTS="--threshold 0.4496"  # stage 3 was finalized with the bundled threshold and no figures
    else
        T=$(python -c "import json; print(json.load(open('$R/threshold_stage$N.json'))['summary']['threshold'])")
        OPTS="--threshold $T --metrics $(ls $R/metrics_stage${N}_*.json)"
    fi
    [ -d $W/stage${N}_model ] || python scripts/train_default_weights.py --scenes realistic \
        --finalize $W/stage${N}_state --init $INIT --workdir $W --output $W/stage${N}_model $OPTS
    echo "stage $N: $(python -c "import json; print(json.load(open('$W/stage${N}_model/config.json'))['sha256'][:8])")"
    INIT=$W/stage${N}_model
done
