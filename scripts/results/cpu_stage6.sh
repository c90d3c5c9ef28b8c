#!/bin/bash
# Stage 6 of the default weights on the 2-core CPU machine (see README.md): continues stage 5 (a4edbeff), the same
# half-and-half batches of realistic and cached make_sequence scenes, but the realistic half now learns only the
# bundled 088a3d33 weights' probabilities (--distill-weight 1.0; stage 5 took half labels, half teacher), to hold
# the injected-jet AUC that stage 5 still lost. 40 minutes on one thread, lr 1e-4. Rerun to resume after a kill.
exec "$(dirname "$0")/stage_train.sh" 6 stage5_model 1.0 20 1e-4 2400 2600
