#!/bin/bash
# Stage 13 (issue 17, ninth session): stage 11 continued with the render blur calibrated: four in five renders
# blurred first by a Gaussian of 0.45-0.9 model pixels (the sampler's renders match the Solar Jet Hunter subjects'
# sharpness index at about 0.65 px; stages 10-11 drew 0.6-1.4 px, mostly smoother than the subjects), render_p 0.5,
# the blurred ones learning their labels, the rest distilled from 088a3d33; 40 minutes on one thread, seed 27.
# Question: with training renders as sharp as the subjects, do the like-for-like (0.6″) render figures reach the
# targets (stage 11 there: FPR 0.26, AUC 0.89)?
BLUR_SIGMA="0.45 0.9" exec "$(dirname "$0")/stage_train.sh" 13 stage11_model 1.0 27 1e-4 2400 2600 0.5 0.8
