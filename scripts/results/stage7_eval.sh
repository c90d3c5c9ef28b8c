#!/bin/bash
# Evaluation of stage 7 (cpu_stage7.sh) as a candidate for the bundled weights: see stage_eval.sh.
exec "$(dirname "$0")/stage_eval.sh" 7 stage6_model
