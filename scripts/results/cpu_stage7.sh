#!/bin/bash
# Stage 7 of the default weights on the 2-core CPU machine (see README.md): stage 6 (b63b0404) continued with the
# same options (the realistic half learning only the bundled 088a3d33 weights' probabilities, the procedural half
# its labels), because stage 6 raised the injected-jet AUC 0.87 -> 0.92 in 40 minutes and had not levelled off.
# 75 minutes on one thread, lr 1e-4 -> 1e-5. Rerun to resume after a kill.
exec "$(dirname "$0")/stage_train.sh" 7 stage6_model 1.0 21 1e-4 4500 4700
