#!/bin/bash
# Stage 10 (issue 17, eighth session): stage 9 continued with render_p back at 0.5 and four in five rendered scenes
# blurred first (RenderAugment blur 0.8, sigma 0.6-1.4 model pixels), the blurred ones learning their labels instead
# of the teacher's probabilities; 50 minutes on one thread, seed 24. (A first launch, with the teacher on every
# realistic scene, was stopped after 12 minutes: the bundled teacher calls smoothed moving scenes jets.)
exec "$(dirname "$0")/stage_train.sh" 10 stage9_model 1.0 24 1e-4 3000 3200 0.5 0.8
