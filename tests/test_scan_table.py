"""
Scan results are `~sunpy_jets.scanning.ScanTable`s that astropy writes and reads (issue 19, item 9).
"""

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.table import QTable

from sunpy_jets import JetClassifier
from sunpy_jets.exceptions import InputError, InputTypeError
from sunpy_jets.model import JetModelConfig
from sunpy_jets.scanning import ScanTable, events_from_scan
from sunpy_jets.synthetic import make_sequence


@pytest.fixture(scope="module")
def clf():
    config = JetModelConfig(image_size=32, channels=(4, 8), hidden_size=8, n_frames=8)
    return JetClassifier(config, device="cpu", seed=0, progress=False)


@pytest.fixture(scope="module")
def seq():
    return make_sequence(kind="quiet", seed=0, n_frames=12, shape=(64, 64), scale=9.375 * u.arcsec / u.pix,
                         bad_frame_rate=0)


def _same_positions(a, b):
    assert np.allclose(a.Tx.to_value(u.arcsec), b.Tx.to_value(u.arcsec), equal_nan=True)
    assert np.allclose(a.Ty.to_value(u.arcsec), b.Ty.to_value(u.arcsec), equal_nan=True)
    assert a.frame.obstime == b.frame.obstime
    assert u.allclose(SkyCoord(a.frame.observer).cartesian.xyz, SkyCoord(b.frame.observer).cartesian.xyz)


@pytest.mark.parametrize("tiled", [False, True])
def test_scan_table_round_trips_through_ecsv(clf, seq, tiled, tmp_path):
    options = {"tiles": True} if tiled else {"center": seq.maps[0].center, "width": 300 * u.arcsec}
    table = clf.scan(seq.maps, **options)
    assert isinstance(table, ScanTable)
    path = table.write(tmp_path / "windows.ecsv")
    again = ScanTable.read(path)
    assert again.colnames == table.colnames
    assert np.allclose(again["probability"], table["probability"])
    for name in table.colnames:
        if isinstance(table[name], SkyCoord):
            _same_positions(table[name], again[name])
    if not tiled:
        _same_positions(table.center, again.center)
        assert u.allclose(again.extent, table.extent)
    # the same events from the table read back, by the package's class or by astropy's
    expected = events_from_scan(clf, table, threshold=0.01)
    for read in (again, QTable.read(path)):
        events = events_from_scan(clf, read, threshold=0.01)
        assert len(events) == len(expected)
        assert np.allclose(events["event_coord"].Tx.value, expected["event_coord"].Tx.value)


def test_scan_table_write_checks_the_path(clf, seq, tmp_path):
    table = clf.scan(seq.maps, center=seq.maps[0].center, width=300 * u.arcsec)
    with pytest.raises(InputError, match="is a folder; give a file name"):
        table.write(tmp_path)
    with pytest.raises(InputTypeError, match="must be a path"):
        table.write(3)
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    with pytest.raises(InputError, match="notes.txt exists and is not a directory"):
        table.write(blocker / "windows.ecsv")
