"""
Done-means test of issue 6: a generated two-hour observation with three jets at known times and places
gives three events that match them, and no event where there is no jet.

The model is a tiny one trained in the test on generated windows (see ``helpers_scanning.py``), so its
behaviour on the generator's jets is known.
"""

import warnings

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord

from sunpy_jets.events import JetEvents
from sunpy_jets.exceptions import InputError

from helpers_scanning import TINY_CONFIG, three_jet_observation, train_tiny_classifier


@pytest.fixture(scope="module")
def classifier():
    return train_tiny_classifier()


@pytest.fixture(scope="module")
def observation():
    obs, jets = three_jet_observation()
    return list(obs), jets


@pytest.fixture(scope="module")
def events(classifier, observation):
    frames, _ = observation
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean observation scans without warnings
        return classifier.detect(frames)


def test_three_jets_give_three_matching_events(events, observation, classifier):
    frames, jets = observation
    assert isinstance(events, JetEvents)
    assert len(events) == 3
    window = TINY_CONFIG.n_frames * TINY_CONFIG.cadence
    tile = TINY_CONFIG.fov
    for event, jet in zip(events, sorted(jets, key=lambda j: j.start_time)):
        assert abs((event["event_starttime"] - jet.start_time).to(u.s)) <= 2 * window
        assert abs((event["event_endtime"] - jet.end_time).to(u.s)) <= 2 * window
        assert jet.start_time - window <= event["event_peaktime"] <= jet.end_time + window
        assert event["event_probability"] >= classifier.threshold
        position = event["event_coord"]
        assert abs(position.Tx - jet.base.Tx) <= tile and abs(position.Ty - jet.base.Ty) <= tile
        # The bounding box holds the jet's base.
        assert event["boundbox_c1ll"] <= jet.base.Tx <= event["boundbox_c1ur"]
        assert event["boundbox_c2ll"] <= jet.base.Ty <= event["boundbox_c2ur"]


@pytest.fixture(scope="module")
def window_events(classifier, observation):
    """Events as the windows give them, before localisation puts each at its jet's base."""
    return classifier.detect(observation[0], localize=False)


def test_centroid_is_closer_to_the_jet_than_the_box_centre(window_events, observation):
    _, jets = observation
    for event, jet in zip(window_events, sorted(jets, key=lambda j: j.start_time)):
        box_x = (event["boundbox_c1ll"] + event["boundbox_c1ur"]) / 2
        box_y = (event["boundbox_c2ll"] + event["boundbox_c2ur"]) / 2
        middle = (jet.bottom_left.Tx + jet.top_right.Tx) / 2, (jet.bottom_left.Ty + jet.top_right.Ty) / 2
        centroid_error = np.hypot(event["event_coord"].Tx - middle[0], event["event_coord"].Ty - middle[1])
        box_error = np.hypot(box_x - middle[0], box_y - middle[1])
        assert centroid_error < box_error + 1 * u.arcsec
        assert centroid_error < 100 * u.arcsec


def test_no_event_without_a_jet(events, observation):
    _, jets = observation
    window = TINY_CONFIG.n_frames * TINY_CONFIG.cadence
    for event in events:
        assert any(
            event["event_starttime"] <= jet.end_time + window and event["event_endtime"] >= jet.start_time - window
            for jet in jets
        )


def test_provenance_reaches_the_hek_records(events, classifier):
    assert events.meta["threshold"] == classifier.threshold
    assert events.meta["model_name"] == classifier.card.name
    assert events.meta["obs_instrument"] == "AIA" and events.meta["obs_channelid"] == "304"
    record = events.to_hek()[0]
    assert f"threshold={classifier.threshold}" in record["frm_paramset"]
    assert "model_name=" in record["frm_paramset"]
    assert record["obs_meanwavel"] == 304.0


def test_detect_on_quiet_frames_finds_nothing(classifier, observation):
    frames, jets = observation
    quiet = [m for m in frames if m.date < jets[0].start_time - 1 * u.min]
    events = classifier.detect(quiet)
    assert len(events) == 0


def test_a_higher_threshold_never_gives_more_events(classifier, observation, events):
    frames, _ = observation
    strict = classifier.detect(frames[:60], threshold=0.999, stride=2)
    assert len(strict) <= len(events)
    assert strict.meta["threshold"] == 0.999


def test_bad_thresholds_are_refused_before_scanning(classifier):
    with pytest.raises(InputError, match="threshold"):
        classifier.detect("no_such_*.fits", threshold=1.5)
    with pytest.raises(InputError, match="low_threshold"):
        classifier.detect("no_such_*.fits", threshold=0.5, low_threshold=0.9)


def test_detect_in_a_cutout(classifier, observation):
    frames, jets = observation
    jet = jets[0]
    centre = SkyCoord(jet.base.Tx, jet.base.Ty, frame=frames[0].coordinate_frame)
    events = classifier.detect(frames[:40], center=centre)
    assert len(events) == 1
    assert abs(events[0]["event_coord"].Tx - jet.base.Tx) < TINY_CONFIG.fov / 2
