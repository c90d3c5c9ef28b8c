#!/bin/bash
# Evaluation of stage 4 (cpu_stage4.sh) as a candidate for the bundled weights: see stage_eval.sh.
exec "$(dirname "$0")/stage_eval.sh" 4 stage3_model
