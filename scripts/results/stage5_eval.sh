#!/bin/bash
# Evaluation of stage 5 (cpu_stage5.sh) as a candidate for the bundled weights: see stage_eval.sh.
exec "$(dirname "$0")/stage_eval.sh" 5 stage4_model
