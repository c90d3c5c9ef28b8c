#!/bin/bash
# Evaluation of stage 8 (cpu_stage8.sh) as a candidate for the bundled weights: see stage_eval.sh.
exec "$(dirname "$0")/stage_eval.sh" 8 stage7_model
