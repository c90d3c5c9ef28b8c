#!/bin/bash
# Stage 12 (issue 17, ninth session): stage 10 continued with the network smoothing every frame by a Gaussian of
# 2.7 arcsec (1.5 model pixels; JetModelConfig.smoothing_arcsec) before its encoders, so that no input is sharper
# than the Solar Jet Hunter renders once smoothed (they are as smooth as FITS blurred by ~1.8 arcsec); otherwise
# stage 10's recipe (render_p 0.5, four in five renders blurred first and learning their labels, the rest distilled
# from 088a3d33); 45 minutes on one thread, seed 26, the procedural cache made by two processes first.
# Question: with sharpness taken away as a cue, does the like-for-like render AUC against dynamic non-jets rise
# (stage 10: 0.69) without the FITS figures falling?
JOBS=2 exec "$(dirname "$0")/stage_train.sh" 12 stage10_model 1.0 26 2e-4 2700 2900 0.5 0.8 2.7
