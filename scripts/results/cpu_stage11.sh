#!/bin/bash
# Stage 11 (issue 17, eighth session): stage 10 continued with four in five realistic scenes rendered and every
# render blurred first (RenderAugment blur 1.0), blurred renders learning their labels; 35 minutes on one thread,
# seed 25. Question: do more blurred renders keep raising the like-for-like render figures, and at what cost to
# the FITS domain?
exec "$(dirname "$0")/stage_train.sh" 11 stage10_model 1.0 25 1e-4 2100 2250 0.8 1.0
