#!/bin/bash
# Evaluation of stage 6 (cpu_stage6.sh) as a candidate for the bundled weights: finalize, the threshold rule
# (scripts/real_validation.py --rule recall, fixed before the evaluation), the real-data evaluation at that
# threshold, the held-out procedural test, and the card's figures. About 15 minutes on 2 cores.
set -e
cd "$(dirname "$0")/../.."
. .venv/bin/activate
W=/tmp/h17_work
R=scripts/results
python scripts/train_default_weights.py --scenes realistic --finalize $W/stage6 --init $W/stage5_model --workdir $W \
    --output $W/stage6_pre --threshold 0.5
python scripts/real_validation.py --model $W/stage6_pre --rule recall --json $R/threshold_stage6.json
T=$(python -c "import json; print(json.load(open('$R/threshold_stage6.json'))['summary']['threshold'])")
python scripts/train_default_weights.py --scenes realistic --finalize $W/stage6 --init $W/stage5_model --workdir $W \
    --output $W/stage6_model --threshold "$T"
SHA=$(python -c "import json; print(json.load(open('$W/stage6_model/config.json'))['sha256'][:8])")
python scripts/evaluate_real_data.py --weights $W/stage6_model --jobs 2 --out $R/real_data_stage6_$SHA.json
python scripts/evaluate_default_weights.py --model $W/stage6_model --jobs 2 --workdir $W --json $R/synthetic_test_stage6_$SHA.json
python scripts/card_metrics.py --real $R/real_data_stage6_$SHA.json --test $R/synthetic_test_stage6_$SHA.json \
    --validation $R/threshold_stage6.json --out $R/metrics_stage6_$SHA.json
# the model directory with its card's figures (sunpy_jets/data/default, if adopted, is a copy of it)
python scripts/train_default_weights.py --scenes realistic --finalize $W/stage6 --init $W/stage5_model --workdir $W \
    --output $W/stage6_model --threshold "$T" --metrics $R/metrics_stage6_$SHA.json
echo "stage 6 weights $SHA at threshold $T"
