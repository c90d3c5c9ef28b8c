"""
Helpers of the scanning tests: a tiny jet detector trained in seconds on generated windows, and a
generated two-hour observation with three jets at known times and places.

The model has a known behaviour on the generator's jets (it separates held-out jet and quiet windows),
so the scan → events chain can be tested end to end without the bundled weights.
"""

import warnings

import numpy as np
import torch

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import Helioprojective, get_earth

from sunpy_jets import JetClassifier
from sunpy_jets.model import JetModelConfig
from sunpy_jets.inputs import prepare_sequence
from sunpy_jets.synthetic import JetEvent, JetParameters, make_observation, make_sequence

#: 300″ tiles of 32 px (9.375″/px), 8 frames of 60 s: small enough to train and scan in seconds.
TINY_CONFIG = JetModelConfig(
    image_size=32, channels=(8, 16, 32), hidden_size=16, head_size=16, n_frames=8, cadence_s=60, dropout=0.0
)
SCALE = 9.375 * u.arcsec / u.pix
CADENCE = 60 * u.s
# Bright, clearly resolved jets: the tiny model must learn them from a few dozen windows.
JET_RANGES = {
    "height": (60, 120) * u.Mm,
    "peak_rate": (300, 600) * u.DN / u.s,
    "duration": (8, 15) * u.min,
    "speed": (150, 400) * u.km / u.s,
    "width": (6, 15) * u.Mm,
}


def training_windows(n, *, seed=0, config=TINY_CONFIG):
    """``n`` preprocessed windows, half with a jet: ``(frames (n, T, 1, H, W), labels (n,))``."""
    rng = np.random.default_rng(seed)
    frames, labels = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n):
            kind = "jet" if i % 2 == 0 else "quiet"
            jet = JetParameters.random(rng, ranges=JET_RANGES) if kind == "jet" else None
            seq = make_sequence(kind=kind, seed=seed * 10_000 + i, n_frames=config.n_frames, cadence=CADENCE,
                                shape=(config.image_size,) * 2, scale=SCALE, bad_frame_rate=0, jet=jet)
            frames.append(prepare_sequence(seq.maps, config).frames)
            labels.append(float(seq.label))
    return torch.stack(frames), torch.tensor(labels)


def train_tiny_classifier(*, n=80, epochs=25, seed=0):
    """
    A `JetClassifier` with `TINY_CONFIG` trained on generated windows (about 15 s on two idle cores).

    With ``seed=0`` the model finds the three jets of `three_jet_observation` and nothing else (checked by
    ``test_detect.py``); so small a model is not reliable for every seed (seed 1 gives false alarms at
    the start of the observation and merges the last two jets), so keep the seed when changing the test.
    """
    x, y = training_windows(n, seed=seed)
    clf = JetClassifier(TINY_CONFIG, device="cpu", seed=seed, progress=False)
    model = clf.model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), 16):
            batch = order[start : start + 16]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    return clf


START = Time("2013-05-01T10:00:00")
#: Jet bases (arcsec) and onsets (minutes after the start) of `three_jet_observation`.
JET_BASES = [(-850, 150), (-420, 520), (-760, 620)]
JET_ONSETS = [15, 55, 95]


def three_jet_observation(*, seed=5):
    """A 2-hour, 900″ × 900″ on-disk observation at 60 s cadence with three jets; returns ``(frames, jets)``."""
    frame = Helioprojective(observer=get_earth(START), obstime=START)
    params = JetParameters(speed=250 * u.km / u.s, width=10 * u.Mm, height=90 * u.Mm, duration=12 * u.min,
                           position_angle=30 * u.deg, peak_rate=450 * u.DN / u.s)
    jets = [JetEvent(params, SkyCoord(x * u.arcsec, y * u.arcsec, frame=frame), START + onset * u.min)
            for (x, y), onset in zip(JET_BASES, JET_ONSETS)]
    obs = make_observation(duration=2 * u.hour, cadence=CADENCE, jets=jets, n_distractors=0, shape=(96, 96),
                           scale=SCALE, center=SkyCoord(-600 * u.arcsec, 350 * u.arcsec, frame=frame),
                           start_time=START, bad_frame_rate=0, seed=seed)
    return obs, obs.jets
