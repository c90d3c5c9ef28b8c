#!/bin/bash
# Evaluation of stage 11 (cpu_stage11.sh): stage_eval.sh (like-for-like render), then the sharp render too.
set -e
"$(dirname "$0")/stage_eval.sh" 11 stage10_model
cd "$(dirname "$0")/../.."
. .venv/bin/activate
SHA=$(python -c "import json; print(json.load(open('/tmp/h17_work/stage11_model/config.json'))['sha256'][:8])")
python scripts/evaluate_real_data.py --weights /tmp/h17_work/stage11_model --jobs 2 --render-blur 0 \
    --out scripts/results/real_data_stage11_${SHA}_sharprender.json
