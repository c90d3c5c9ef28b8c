"""
`make_observation`: a long (and possibly wide) synthetic observation with jets and distractors at
known times and places, for testing scans, event extraction and spatial tiling.
"""

import numpy as np

import astropy.units as u

from ..exceptions import InputTypeError
from .._validation import as_count, as_quantity
from .jets import JetEvent, JetParameters
from .negatives import NEGATIVES
from .sequence import SyntheticFrames, add_features, build_scene, place_jet, visible

__all__ = ["make_observation"]


def make_observation(
    *,
    duration=2 * u.hour,
    cadence=24 * u.s,
    jets=None,
    n_jets=3,
    n_distractors=3,
    shape=(1000, 1000),
    scale=0.6 * u.arcsec / u.pix,
    center=None,
    start_time=None,
    background="procedural",
    exposure=2.9 * u.s,
    bad_frame_rate=0.02,
    noise=True,
    seed=None,
    lazy=True,
):
    """
    Make a long synthetic observation holding several jets and hard negatives.

    Parameters
    ----------
    duration : `~astropy.units.Quantity`, optional
        Length of the observation; frames are ``floor(duration / cadence)``.
    cadence : `~astropy.units.Quantity`, optional
        Time between frames.
    jets : list of `~sunpy_jets.synthetic.JetEvent` or `~sunpy_jets.synthetic.JetParameters`, optional
        Jets to include: events are used as given, parameters are placed at random. Overrides ``n_jets``.
    n_jets : int, optional
        Number of random jets (anywhere in the field, onsets anywhere in the observation).
    n_distractors : int, optional
        Number of random hard negatives.
    shape, scale, center, start_time, background, exposure, bad_frame_rate, noise, seed
        As for `~sunpy_jets.synthetic.make_sequence` (shape and scale default to a 600″ field at 0.6″/px).
    lazy : bool, optional
        Return a `~sunpy_jets.synthetic.SyntheticFrames` that renders frames on demand (default), so
        long observations need not fit in memory; pass it to `~sunpy_jets.synthetic.write_fits`.

    Returns
    -------
    `~sunpy_jets.synthetic.SyntheticFrames` (or `~sunpy_jets.synthetic.SyntheticSequence` if not ``lazy``)
        ``jets`` holds every jet's truth, including jets partly outside the field or the time span.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jets.synthetic import make_observation
    >>> obs = make_observation(duration=10 * u.min, n_jets=2, shape=(96, 96), scale=2.4 * u.arcsec / u.pix,
    ...                        bad_frame_rate=0, seed=3)
    >>> len(obs), len(obs.jets), obs.label
    (25, 2, True)
    >>> obs[0].exposure_time
    <Quantity 2.9 s>
    """
    duration_s = as_quantity(duration, u.s, "duration")
    cadence_s = as_quantity(cadence, u.s, "cadence")
    n_frames = int(np.floor(duration_s / cadence_s + 1e-9))
    if n_frames < 1:
        n_frames = as_count(n_frames, "duration / cadence")
    n_distractors = as_count(n_distractors, "n_distractors", minimum=0)
    if background != "procedural" and not isinstance(background, str):
        shape = scale = None
    scene, rng, frame = build_scene(
        seed=seed,
        n_frames=n_frames,
        cadence=cadence,
        shape=shape,
        scale=scale,
        center=center,
        start_time=start_time,
        background=background,
        exposure=exposure,
        bad_frame_rate=bad_frame_rate,
        noise=noise,
    )
    if jets is None:
        jets = [None] * as_count(n_jets, "n_jets", minimum=0)
    elif not isinstance(jets, (list, tuple)):
        raise InputTypeError(f"jets must be a list of JetEvent or JetParameters, got {type(jets).__name__}")
    for item in jets:
        if item is not None and not isinstance(item, (JetEvent, JetParameters)):
            raise InputTypeError(f"jets must hold JetEvent or JetParameters, got {type(item).__name__}")
    events = [place_jet(rng, scene, frame, item, anywhere=True) for item in jets]
    distractors = [str(rng.choice(list(NEGATIVES))) for _ in range(n_distractors)]
    add_features(scene, rng, events, distractors)
    label = any(visible(ev, scene) for ev in events)
    result = SyntheticFrames(scene, label, "observation", events, distractors)
    return result if lazy else result.to_sequence()
