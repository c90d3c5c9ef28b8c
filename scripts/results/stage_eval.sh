#!/bin/bash
# Evaluation of a CPU training stage as a candidate for the bundled weights: finalize, the threshold rule
# (scripts/real_validation.py --rule recall, fixed before the evaluation), the real-data evaluation at that
# threshold (non-jets rendered as sharp as the subjects, evaluate_real_data.py's default: blurred by 0.6″ since the ninth session, and once
# more rendered sharp as the reports of stages 4-9 had them), the held-out procedural test, and the card's figures.
# 5 to 18 minutes on 2 cores.
# Usage: stage_eval.sh N INIT, with the stage's state in /tmp/h17_work/stageN and INIT the model directory (under
# /tmp/h17_work) the stage started from; writes /tmp/h17_work/stageN_model and the reports beside this script.
set -e
N=${1:?stage number}
INIT=${2:?model directory the stage started from}
cd "$(dirname "$0")/../.."
. .venv/bin/activate
W=/tmp/h17_work
R=scripts/results
python scripts/train_default_weights.py --scenes realistic --finalize $W/stage$N --init $W/$INIT --workdir $W \
    --output $W/stage${N}_pre --threshold 0.5
python scripts/real_validation.py --model $W/stage${N}_pre --rule recall --json $R/threshold_stage$N.json
T=$(python -c "import json; print(json.load(open('$R/threshold_stage$N.json'))['summary']['threshold'])")
python scripts/train_default_weights.py --scenes realistic --finalize $W/stage$N --init $W/$INIT --workdir $W \
    --output $W/stage${N}_model --threshold "$T"
SHA=$(python -c "import json; print(json.load(open('$W/stage${N}_model/config.json'))['sha256'][:8])")
python scripts/evaluate_real_data.py --weights $W/stage${N}_model --jobs 2 --out $R/real_data_stage${N}_$SHA.json
python scripts/evaluate_real_data.py --weights $W/stage${N}_model --jobs 2 --render-blur 0 \
    --out $R/real_data_stage${N}_${SHA}_sharprender.json
python scripts/evaluate_default_weights.py --model $W/stage${N}_model --jobs 2 --workdir $W --json $R/synthetic_test_stage${N}_$SHA.json
python scripts/card_metrics.py --real $R/real_data_stage${N}_$SHA.json --test $R/synthetic_test_stage${N}_$SHA.json \
    --validation $R/threshold_stage$N.json --out $R/metrics_stage${N}_$SHA.json
# the model directory with its card's figures (sunpy_jets/data/default, if adopted, is a copy of it)
python scripts/train_default_weights.py --scenes realistic --finalize $W/stage$N --init $W/$INIT --workdir $W \
    --output $W/stage${N}_model --threshold "$T" --metrics $R/metrics_stage${N}_$SHA.json
echo "stage $N weights $SHA at threshold $T"
