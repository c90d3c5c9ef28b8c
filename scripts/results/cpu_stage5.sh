#!/bin/bash
# Stage 5 of the default weights on the 2-core CPU machine (see README.md): continues stage 4 (79a351bc) on
# realistic scenes mixed half and half with cached make_sequence scenes, and on the realistic half learns half
# from the labels and half from the bundled 088a3d33 weights' probabilities (--distill): the procedural share
# moves the weights toward the procedural test while the teacher holds them near the bundled weights on real
# backgrounds, where stages 3 and 4 lost the injected-jet AUC. One thread, so that other work can share the
# machine. Rerun to resume after a kill (stage_train.sh runs it).
exec "$(dirname "$0")/stage_train.sh" 5 stage4_model 0.5 19 2e-4 4500 4800
