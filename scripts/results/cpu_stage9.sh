#!/bin/bash
# Stage 9 of the default weights on CPU (issue 17): stage 8 (fb12e01f) continued for 60 minutes with stage 8's
# options except that 0.8 of the realistic scenes are rendered (--render-p 0.8, was 0.5); seed 23. Needs
# /tmp/h17_work/stage8_model (rebuild_stage_models.sh 8). See README.md.
exec "$(dirname "$0")/stage_train.sh" 9 stage8_model 1.0 23 1e-4 3600 3800 0.8
