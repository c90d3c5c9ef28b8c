#!/bin/bash
# Evaluation of stage 10 (cpu_stage10.sh) as a candidate for the bundled weights: see stage_eval.sh.
exec "$(dirname "$0")/stage_eval.sh" 10 stage9_model
