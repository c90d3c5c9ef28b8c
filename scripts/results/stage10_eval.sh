#!/bin/bash
# Evaluation of stage 10 (cpu_stage10.sh) as a candidate for the bundled weights: see stage_eval.sh, whose real-data
# report now renders the non-jets like the subjects (evaluate_real_data.py --render-blur 1.8, the default since the
# eighth session); then the same evaluation with the render as sharp as the stages 4-9 reports had it.
set -e
"$(dirname "$0")/stage_eval.sh" 10 stage9_model
cd "$(dirname "$0")/../.."
. .venv/bin/activate
SHA=$(python -c "import json; print(json.load(open('/tmp/h17_work/stage10_model/config.json'))['sha256'][:8])")
python scripts/evaluate_real_data.py --weights /tmp/h17_work/stage10_model --jobs 2 --render-blur 0 \
    --out scripts/results/real_data_stage10_${SHA}_sharprender.json
