"""
Shared fixtures of the test suite.

Real observations and labels live in ``../shared/realdata`` (beside the repository). A user's fresh clone
has no such folder: tests that need it skip with a reason. Under CI (``CI=true``) a missing folder is an
error, so real-data tests can never be skipped silently there.
"""

import os
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

matplotlib.use("Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(os.environ.get("SUNPY_JETS_REALDATA", REPO_ROOT.parent / "shared" / "realdata"))


@pytest.fixture(scope="session", autouse=True)
def _isolate_user_directories(tmp_path_factory):
    """Keep sunpy, astropy, parfive and matplotlib from writing into the user's home during tests."""
    root = tmp_path_factory.mktemp("home")
    os.environ.setdefault("SUNPY_CONFIGDIR", str(root / "sunpy_config"))
    os.environ.setdefault("SUNPY_DOWNLOADDIR", str(root / "sunpy_downloads"))
    os.environ.setdefault("MPLCONFIGDIR", str(root / "mpl"))
    os.environ["PARFIVE_HIDE_PROGRESS"] = "True"
    os.environ["SUNPY_JETS_CACHE"] = str(root / "sunpy_jets_cache")
    from astropy.config.paths import set_temp_cache, set_temp_config

    with set_temp_config(str(root / "astropy_config")), set_temp_cache(str(root / "astropy_cache")):
        yield


@pytest.fixture(autouse=True)
def _no_session_provenance():
    """Each test starts without a session HEK provenance (a doctest, the tour's, may have set one)."""
    from sunpy_jets.events import set_hek_provenance

    set_hek_provenance(frm_institute=None, frm_contact=None, frm_identifier=None, frm_url=None)
    yield


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def realdata_path(*parts):
    """Path inside ``../shared/realdata``; skip (or fail under CI) when the folder is absent."""
    if not REALDATA.is_dir():
        message = (
            f"real test data not found at {REALDATA}: these tests need the project's shared realdata folder "
            "(set SUNPY_JETS_REALDATA to point elsewhere)"
        )
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} is missing from the realdata folder")
    return path


@pytest.fixture(scope="session")
def realdata():
    """The ``../shared/realdata`` folder as a `~pathlib.Path`."""
    return realdata_path()


@pytest.fixture(scope="session")
def aia304_files():
    """The 26 real AIA 304 Å level-1 cutouts of 2012-07-19 (36 s cadence, west limb)."""
    folder = realdata_path("jipparchus_sun_data_visualisation", "aia304")
    files = sorted(folder.glob("*.fits"))
    assert len(files) == 26
    return files


@pytest.fixture(scope="session")
def aia304_12s_files():
    """The 8 real AIA 304 Å frames of 2022-04-02 at a true 12 s cadence."""
    return sorted(realdata_path("pryoung_papers", "aia_diff").glob("*.fits"))


@pytest.fixture(scope="session")
def eit_files():
    """Real SOHO/EIT frames: a wrong-instrument input."""
    return sorted(realdata_path("sunpy_sunpy", "EIT").glob("*.fits"))


def make_aia_sequence(
    n_frames=8,
    shape=(64, 64),
    *,
    cadence=24 * u.s,
    scale=0.6 * u.arcsec / u.pix,
    center=(600, -200) * u.arcsec,
    wavelength=304 * u.AA,
    exposure=2.9 * u.s,
    start="2012-07-19T07:30:00",
    blob=None,
    seed=0,
):
    """
    A `~sunpy.map.MapSequence` of synthetic AIA maps built with `~sunpy.map.header_helper.make_fitswcs_header`.

    ``blob`` = (row, col, amplitude) adds a bright spot that grows over time (a crude moving feature).
    """
    import sunpy.map
    from sunpy.coordinates import Helioprojective, get_earth
    from sunpy.map.header_helper import make_fitswcs_header

    rng = np.random.default_rng(seed)
    t0 = Time(start)
    maps = []
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    for i in range(n_frames):
        t = t0 + i * cadence
        data = rng.normal(150.0, 15.0, size=shape).clip(1.0)
        if blob is not None:
            r, c, amp = blob
            data += amp * (i + 1) / n_frames * np.exp(-((yy - r) ** 2 + (xx - c - i) ** 2) / 8.0)
        observer = get_earth(t)
        ref = SkyCoord(*center, frame=Helioprojective(observer=observer, obstime=t))
        header = make_fitswcs_header(
            data.astype(np.float32),
            ref,
            scale=u.Quantity([scale, scale]),
            telescope="SDO",
            instrument="AIA",
            wavelength=wavelength,
            exposure=exposure,
            unit=u.ct,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            maps.append(sunpy.map.Map(data.astype(np.float32), header))
    return sunpy.map.Map(maps, sequence=True)


@pytest.fixture
def synthetic_sequence():
    """An 8-frame 64×64 synthetic AIA 304 Å `~sunpy.map.MapSequence` at 24 s cadence."""
    return make_aia_sequence()


# The local JSOC and HEK stand-ins (tests/servers): fixtures ``jsoc_server`` and ``hek_server``.
from servers.fixtures import files_server, hek_server, jsoc_server, _files_session, _hek_session, _jsoc_session  # noqa: E402, F401,E501
