#!/bin/bash
# Stage 8 of the default weights on the 2-core CPU machine (see README.md): stage 7 continued with the
# same options (the realistic half learning only the bundled 088a3d33 weights' probabilities, the procedural half
# its labels): stage 7 met the injected-jet AUC (0.96) but not the rendered dynamic non-jets (see README.md).
# 45 minutes on one thread, lr 1e-4 -> 1e-5. Rerun to resume after a kill.
exec "$(dirname "$0")/stage_train.sh" 8 stage7_model 1.0 22 1e-4 2700 2900
