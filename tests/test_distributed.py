"""Tests of scanning files on a Dask cluster (`sunpy_jets.scanning`) against single-process scans."""

import os
import shutil
import warnings

import numpy as np
import pytest

import astropy.units as u
from astropy.io import fits

from sunpy_jets import JetClassifier
from sunpy_jets.exceptions import InputError, InputTypeError, InputWarning
from sunpy_jets.model import JetModelConfig
from sunpy_jets.scanning import detect, scan
from sunpy_jets.synthetic import make_observation, write_fits

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from sunpy_jets.scanning import scan_files  # noqa: E402

CONFIG = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=6, fov_arcsec=57.6)
SCALE = 1.8 * u.arcsec / u.pix


@pytest.fixture(scope="module")
def client():
    # Workers forked from the test process start with torch and sunpy imported (spawned ones take seconds).
    with dask.config.set({"distributed.worker.multiprocessing-method": "fork"}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module", params=[(), (2, 4)], ids=["appearance", "with-differences"])
def classifier(request):
    """The model without and with a frame-difference encoder (whose windows must not see frames before them)."""
    return JetClassifier(CONFIG.replace(difference_channels=request.param), device="cpu", seed=0, progress=False)


@pytest.fixture(scope="module")
def observation(tmp_path_factory):
    """10 min at 12 s cadence (the model's is 24 s) with two known jets and a 3 min gap (longer than a window)."""
    obs = make_observation(duration=10 * u.min, cadence=12 * u.s, n_jets=2, n_distractors=0, shape=(32, 32),
                           scale=SCALE, bad_frame_rate=0, seed=1)  # fmt: skip
    assert len(obs.jets) == 2
    paths = write_fits(obs, tmp_path_factory.mktemp("obs"))
    return [str(p) for p in paths[:18] + paths[33:]]


@pytest.fixture(scope="module")
def single_process(classifier, observation):
    """Windows and events of the single-process scan, by stride; the threshold is the median probability."""
    out = {}
    for stride in (1, 2):
        with pytest.warns(InputWarning, match="gap"):
            windows = scan(classifier, observation, stride=stride)
        threshold = float(np.median(windows["probability"]))
        with pytest.warns(InputWarning, match="gap"):
            # scan_files gives the window-level events; localisation is a second read of the frames
            events = detect(classifier, observation, threshold=threshold, stride=stride, localize=False)
        out[stride] = windows, events, threshold
    return out


def assert_same_windows(got, expected):
    assert len(got) == len(expected) > 0
    assert got.colnames == expected.colnames
    assert np.all(got["start_time"] == expected["start_time"])
    assert np.all(got["end_time"] == expected["end_time"])
    np.testing.assert_allclose(got["probability"], expected["probability"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(got["centroid"].Tx.value, expected["centroid"].Tx.value, equal_nan=True)
    if "tile" in expected.colnames:
        assert np.all(got["tile"] == expected["tile"])


def assert_same_events(got, expected):
    got, expected = got.table, expected.table
    assert len(got) == len(expected) > 0
    for name in ("event_starttime", "event_endtime", "event_peaktime"):
        assert np.all(got[name] == expected[name])
    np.testing.assert_allclose(got["event_probability"], expected["event_probability"], atol=1e-6)
    np.testing.assert_allclose(got["event_coord"].Tx.value, expected["event_coord"].Tx.value, atol=1e-6)


@pytest.mark.parametrize("chunk_size, stride", [(2, 1), (3, 2)])
def test_same_result_as_detect(client, classifier, observation, single_process, chunk_size, stride):
    windows, events, threshold = single_process[stride]
    # Files in reverse order: scan_files sorts them by their headers' times.
    with pytest.warns(InputWarning, match="gap"):
        result = scan_files(observation[::-1], classifier, client=client, chunk_size=chunk_size, stride=stride,
                            threshold=threshold, progress=False)  # fmt: skip
    assert result.n_chunks >= 3  # the runs really were split
    assert len(result.failed_files) == 0
    assert_same_windows(result.windows, windows)
    assert_same_events(result.events, events)
    assert result.events.meta["threshold"] == threshold


def test_tiled_field(client, classifier, tmp_path):
    # A field twice the model's: tiles are scanned, and their columns survive the merge.
    obs = make_observation(duration=6 * u.min, cadence=24 * u.s, n_jets=1, shape=(64, 64), scale=SCALE,
                           bad_frame_rate=0, seed=2)  # fmt: skip
    paths = [str(p) for p in write_fits(obs, tmp_path)]
    expected = scan(classifier, paths, tiles=True, max_radius=None)
    result = scan_files(paths, classifier, client=client, chunk_size=3, tiles=True, max_radius=None, progress=False)
    assert result.windows["tile"].max() > 0
    assert_same_windows(result.windows, expected)


def test_bad_files_are_reported(client, classifier, observation, single_process, tmp_path):
    paths = list(observation)
    garbage = tmp_path / "garbage.fits"
    garbage.write_bytes(b"not a FITS file" * 100)
    # A readable header over unusable pixels: found only when the chunk is scanned, then planned around.
    zeros = tmp_path / "zeros.fits"
    shutil.copy(paths[10], zeros)
    with fits.open(zeros, mode="update") as hdul:
        hdul[1].data[...] = 0
        hdul[1].header["DATE-OBS"] = hdul[1].header["DATE-OBS"][:-3] + "500"  # 0.5 s after the copied frame
    duplicate = tmp_path / "duplicate.fits"  # the same time as paths[5]; the file listed first is kept
    shutil.copy(paths[5], duplicate)
    with pytest.warns(InputWarning) as record:
        result = scan_files(paths + [str(garbage), str(zeros), str(duplicate)], classifier, client=client,
                            chunk_size=2, threshold=0.5, progress=False)  # fmt: skip
    assert any("could not be used" in str(w.message) for w in record)
    failed = dict(zip(result.failed_files["path"], result.failed_files["reason"]))
    assert set(failed) == {str(garbage), str(zeros), str(duplicate)}
    assert "header could not be read" in failed[str(garbage)]
    assert "zero or negative" in failed[str(zeros)]
    assert "same observation time" in failed[str(duplicate)] and paths[5] in failed[str(duplicate)]
    assert_same_windows(result.windows, single_process[1][0])


def test_short_input(client, classifier, observation):
    # Fewer frames than a window: classified as they are, as detect does, with its warning.
    paths = observation[:5]
    with pytest.warns(InputWarning, match="fewer than the model's window"):
        expected = scan(classifier, paths)
    with pytest.warns(InputWarning, match="fewer than the model's window"):
        result = scan_files(paths, classifier, client=client, progress=False)
    assert_same_windows(result.windows, expected)


def test_default_local_cluster(classifier, observation, single_process, capsys, monkeypatch):
    # Without a client, a LocalCluster of single-threaded worker processes, one per two cores, is started
    # and closed afterwards (here its workers are threads, which start fast).
    made, LocalCluster = [], distributed.LocalCluster

    def local_cluster(**kwargs):
        made.append((kwargs, LocalCluster(**{**kwargs, "processes": False, "protocol": "tcp"})))
        return made[-1][1]

    monkeypatch.setattr(distributed, "LocalCluster", local_cluster)
    result = scan_files(observation[:18], classifier, threshold=0.5, progress=True)
    assert "dashboard at http" in capsys.readouterr().out
    expected = single_process[1][0]
    assert_same_windows(result.windows, expected[expected["start_time"] < result.windows["end_time"][-1]])
    ((kwargs, cluster),) = made
    assert kwargs["processes"] and kwargs["threads_per_worker"] == 1
    assert kwargs["n_workers"] == max(1, os.cpu_count() // 2)
    assert cluster.status.name == "closed"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"files": []}, InputError, "empty"),
        ({"files": 3}, InputTypeError, "list of FITS paths"),
        ({"chunk_size": 0}, InputError, "chunk_size"),
        ({"retries": -1}, InputError, "retries"),
        ({"threshold": 2}, InputError, "threshold"),
        ({"stride": 0}, InputError, "stride"),
    ],
)
def test_bad_arguments(classifier, kwargs, error, match):
    kwargs = {"files": ["a.fits", "b.fits"], **kwargs}
    with pytest.raises(error, match=match):
        scan_files(kwargs.pop("files"), classifier, **kwargs)


def test_fido_search_result_must_be_fetched(classifier):
    UnifiedResponse = type("UnifiedResponse", (), {})
    with pytest.raises(InputTypeError, match="Fido.fetch"):
        scan_files(UnifiedResponse(), classifier)
    with pytest.raises(InputTypeError, match="JetClassifier"):
        scan_files(["a.fits"], "model")


def test_predict_proba_scan_and_dask_share_one_engine(client, classifier, observation, single_process):
    """One run of files: predict_proba's long-sequence probability is the best of the same windows scan and Dask give."""
    run = observation[:18]  # before the gap: one run of 9 grid frames, 4 windows of 6
    windows = scan(classifier, run)
    result = scan_files(run, classifier, client=client, threshold=0.5, chunk_size=2, progress=False)
    assert_same_windows(result.windows, windows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)  # resampled to the model cadence; longer than one window
        p = classifier.predict_proba(run)
    np.testing.assert_allclose(p, windows["probability"].max(), rtol=0, atol=1e-6)


@pytest.mark.parametrize("date", ["garbage", "0100-01-01T00:00:00"])
def test_file_without_a_real_time_is_reported(client, classifier, observation, tmp_path, date):
    """An unreadable DATE-OBS (sunpy would put 'now' in its place) lists the file in failed_files (issue 20, 3)."""
    bad = tmp_path / "bad_date.fits"
    shutil.copy(observation[3], bad)
    with fits.open(bad, mode="update") as hdul:
        hdul[1].header["DATE-OBS"] = date
    with pytest.warns(InputWarning):
        result = scan_files(observation[:12] + [str(bad)], classifier, client=client, chunk_size=4, progress=False)
    failed = dict(zip(result.failed_files["path"], result.failed_files["reason"]))
    assert set(failed) == {str(bad)}
    assert "no real observation time" in failed[str(bad)] and str(bad) in failed[str(bad)]


def test_workers_run_at_the_classifiers_precision(classifier):
    from sunpy_jets.scanning.dask import _payload, _worker_classifier

    half = JetClassifier.from_trained(classifier, device="cpu", precision="bfloat16", progress=False)
    worker = _worker_classifier(_payload(half))
    assert worker.precision == "bfloat16"
    assert worker.threshold == half.threshold
    # the same weights at another precision are another model on the worker
    assert _worker_classifier(_payload(classifier)).precision == "float32"
