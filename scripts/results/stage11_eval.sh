#!/bin/bash
# Evaluation of stage 11 (cpu_stage11.sh) as a candidate for the bundled weights: see stage_eval.sh.
exec "$(dirname "$0")/stage_eval.sh" 11 stage10_model
