#!/bin/bash
# Evaluation of stage 9 (cpu_stage9.sh) as a candidate for the bundled weights: see stage_eval.sh.
exec "$(dirname "$0")/stage_eval.sh" 9 stage8_model
