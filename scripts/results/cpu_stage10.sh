#!/bin/bash
# Stage 10 (issue 17, eighth session): stage 9 continued with render_p back at 0.5 and four in five rendered scenes
# blurred first (RenderAugment blur 0.8, sigma 0.6-1.4 model pixels), 65 minutes on one thread, seed 24.
exec "$(dirname "$0")/stage_train.sh" 10 stage9_model 1.0 24 1e-4 3900 4100 0.5 0.8
