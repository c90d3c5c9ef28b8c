#!/bin/bash
# Evaluation of stage 6 (cpu_stage6.sh) as a candidate for the bundled weights: see stage_eval.sh.
exec "$(dirname "$0")/stage_eval.sh" 6 stage5_model
