"""
Checks of single frames and of each frame against the first: the one place where input frames are vetted.
"""

import warnings

import numpy as np

import astropy.units as u
from astropy.coordinates import BaseCoordinateFrame, SkyCoord

from sunpy.coordinates import Helioprojective, SphericalScreen
from sunpy.map import GenericMap

from .._validation import YEAR_RANGE
from ..exceptions import InputError, InputTypeError

__all__ = [
    "check_map",
    "observation_time",
    "check_wcs",
    "wcs_key",
    "exposure_divisor",
    "clear_caches",
    "frame_coordinate",
    "SequenceChecker",
    "DATE_KEYS",
    "YEAR_RANGE",
    "MAX_FIELD",
]

# Keys sunpy reads the observation time from, in its order of preference.
DATE_KEYS = ("date-obs", "date_obs", "t_obs", "date-beg", "date-avg", "date_beg", "date_avg")
#: The widest field accepted on either axis: 90° (coronagraphs reach ~30°), in arcsec.
MAX_FIELD = 90 * 3600.0


def observation_time(m, *, where: str = "the frame"):
    """
    The observation time of map ``m`` as sunpy reads it, refused when sunpy had to make one up.

    sunpy replaces a missing or unreadable ``DATE-OBS`` by the current time (with a warning); that
    time, and any year outside `YEAR_RANGE`, is refused here.

    Returns
    -------
    `~astropy.time.Time`

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        If the frame has no real observation time.
    """
    stated = next((f"{k.upper()}={m.meta[k]!r}" for k in DATE_KEYS if m.meta.get(k) not in (None, "")), None)
    if stated is None:
        raise InputError(f"{where} has no observation time (DATE-OBS); every frame needs one")
    key = _date_key(m)
    if key in _PARSED_DATES:
        return _PARSED_DATES[key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            time = m.date
            year = int(time.utc.ymdhms["year"])
        except Exception as e:  # noqa: BLE001 - any failure to read the date means the same
            raise InputError(f"{where} has an unreadable observation time ({stated}): {e}") from e
    made_up = any("observation time" in str(w.message) and "current time" in str(w.message) for w in caught)
    if made_up or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise InputError(
            f"{where} has no real observation time ({stated}); give every frame a DATE-OBS between "
            f"{YEAR_RANGE[0]} and {YEAR_RANGE[1]} in ISO format (YYYY-MM-DDThh:mm:ss)"
        )
    if key is not None:
        if len(_PARSED_DATES) >= _MAX_CACHED:
            _PARSED_DATES.clear()
        _PARSED_DATES[key] = time
    return time


#: Observation times already parsed, by the header cards sunpy's ``GenericMap.date`` reads: a frame's time was
#: parsed three times per call (ordering, checks, the time grid), each parse twice over (sunpy's ``is_time``),
#: a fifth of ``predict_proba``'s time on in-memory cutouts. Bounded: cleared when full.
_PARSED_DATES = {}
_MAX_CACHED = 100_000
#: The cards ``GenericMap.date`` depends on (DATE-OBS, DATE_OBS, DATE-BEG, DATE-AVG, DATE-END, TIMESYS).
_GENERIC_DATE_CARDS = ("date-obs", "date_obs", "date-beg", "date-avg", "date-end", "timesys")
_GENERIC_DATE_PARTS = ("date", "_date_obs", "_get_date", "_timesys", "date_start", "date_average", "date_end")


def _date_key(m):
    """The cards ``m.date`` is a function of, or `None` for a map class with its own date logic (no caching)."""
    cls = type(m)
    if any(getattr(cls, part, None) is not getattr(GenericMap, part) for part in _GENERIC_DATE_PARTS):
        return None
    try:
        return tuple(str(m.meta.get(card)) for card in _GENERIC_DATE_CARDS)
    except Exception:  # noqa: BLE001 - an odd meta object: parse it every time
        return None


def _header_number(meta, key):
    value = meta.get(key)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


# Header values that decide whether a frame's WCS is usable (with its class and shape, `wcs_key`). The roll
# (CROTA2, a rotation: any finite angle gives a usable matrix) and the observer's position (`_OBSERVER_KEYS`)
# change every AIA frame and are only checked to be finite numbers.
_WCS_KEYS = ("ctype1", "ctype2", "cunit1", "cunit2", "crval1", "crval2", "crpix1", "crpix2", "cdelt1", "cdelt2",
             "cd1_1", "cd1_2", "cd2_1", "cd2_2", "pc1_1", "pc1_2", "pc2_1", "pc2_2")  # fmt: skip
_OBSERVER_KEYS = ("hgln_obs", "hglt_obs", "dsun_obs", "crln_obs", "crlt_obs", "hae_x", "hae_y", "hae_z")


def wcs_key(m) -> tuple:
    """What `check_wcs` depends on besides the observer: frames with equal keys pass or fail it alike."""
    return (type(m).__name__, np.shape(m.data), *(repr(m.meta.get(key)) for key in _WCS_KEYS))


def _check_wcs_numbers(meta, where):
    """The cheap part of `check_wcs`: WCS keywords present, and every number among them and the observer's finite."""
    has_scale = ("cdelt1" in meta and "cdelt2" in meta) or ("cd1_1" in meta and "cd2_2" in meta)
    if not (has_scale and "ctype1" in meta and "ctype2" in meta):
        raise InputError(f"{where} has no world coordinate system (CTYPE/CDELT keywords); every frame needs a WCS")
    for key in (*_WCS_KEYS[4:], "crota2", *_OBSERVER_KEYS):
        value = _header_number(meta, key)
        if value is not None and not np.isfinite(value):
            raise InputError(
                f"{where} has an unusable world coordinate system: {key.upper()}={meta[key]!r} is not a finite number"
            )


def check_wcs(m, *, where: str = "the frame") -> None:
    """
    Refuse a frame whose world coordinate system cannot place its pixels on the Sun.

    The reference values and pixels must be finite, the pixel scale finite and non-zero, the pixel
    matrix invertible, the frame helioprojective, and its field at most `MAX_FIELD` wide.

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        If any of these fails; the message names the keyword.
    """
    meta = m.meta
    _check_wcs_numbers(meta, where)
    ctypes = (str(meta.get("ctype1")), str(meta.get("ctype2")))
    try:
        frame = m.coordinate_frame
        scale = np.array([m.scale.axis1.to_value(u.arcsec / u.pix), m.scale.axis2.to_value(u.arcsec / u.pix)])
        m.wcs.wcs.set()
    except Exception as e:  # noqa: BLE001 - astropy's SingularMatrixError, unit errors: all mean a broken WCS
        raise InputError(f"{where} has an unusable world coordinate system ({' '.join(str(e).split())})") from e
    if not isinstance(frame, Helioprojective):
        raise InputError(
            f"{where} is in {type(frame).__name__ if frame is not None else 'unknown'} coordinates "
            f"(CTYPE1={ctypes[0]!r}, CTYPE2={ctypes[1]!r}); frames must be helioprojective (HPLN-TAN, HPLT-TAN)"
        )
    if not (np.all(np.isfinite(scale)) and np.all(scale != 0)):
        raise InputError(f"{where} has a pixel scale of {scale[0]} × {scale[1]} arcsec/pix; it must be finite and non-zero")
    field = np.abs(scale) * np.array(m.data.shape[::-1])
    if np.any(field > MAX_FIELD):
        raise InputError(
            f"{where} spans {field[0]:.3g}″ × {field[1]:.3g}″ ({np.abs(scale[0]):.3g}″ pixels), more than the "
            f"{MAX_FIELD / 3600:.0f}° any solar image covers: check its CDELT/CD keywords"
        )


def exposure_divisor(m, *, where: str = "the frame") -> float:
    """
    What divides the frame's pixels to give count rates: its exposure time for counts, 1 for rates.

    Counts are ``DN`` or ``ct`` (also when the map has no unit); rates are ``DN/s`` or ``ct/s``,
    such as ``m / m.exposure_time`` gives. Any other unit is refused.

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        For a unit that is not counts or a count rate, or counts without a positive exposure time.
    """
    # Cached by map class and the cards its unit and exposure come from (sunpy's map classes read BUNIT, AIA's
    # also PIXLUNIT, XRT's HISTORY): parsing the unit for every frame was a tenth of predict_proba's time.
    key = (type(m), *(str(m.meta.get(card)) for card in ("bunit", "pixlunit", "history", "exptime")))
    divisor = _DIVISORS.get(key)
    if divisor is None:
        divisor = _exposure_divisor(m, where)
        if len(_DIVISORS) >= _MAX_CACHED:
            _DIVISORS.clear()
        _DIVISORS[key] = divisor
    return divisor


_DIVISORS = {}


def clear_caches():
    """Forget the parsed observation times and exposure divisors (benchmarks time a first call with this)."""
    _PARSED_DATES.clear()
    _DIVISORS.clear()


def _exposure_divisor(m, where):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sunpy's note on a BUNIT it cannot parse: refused below, by name
        unit = m.unit
    bunit = m.meta.get("bunit")
    if unit is None and bunit not in (None, ""):
        try:
            unit = u.Unit(str(bunit))
        except ValueError:
            unit = None
        if unit is None:
            raise InputError(
                f"{where} has the unit BUNIT={bunit!r}, which is not a unit; intensities must be counts "
                "(DN, ct) or count rates (DN/s, ct/s)"
            )
    if unit is None or unit == u.dimensionless_unscaled:
        unit = u.DN  # no unit: counts, as AIA level-1 data
    per_pixel = (unit, unit * u.pix)  # "ct / pix" (EIT) is counts as well
    if any((v * u.s).is_equivalent(c) for v in per_pixel for c in (u.DN, u.ct)):
        return 1.0
    if not any(v.is_equivalent(c) for v in per_pixel for c in (u.DN, u.ct)):
        raise InputError(
            f"{where} is in {unit}, not counts; give AIA intensities in DN or ct (or DN/s, ct/s): the model's "
            "preprocessing is in count rates"
        )
    exposure = m.meta.get("exptime")
    value = _header_number(m.meta, "exptime")
    if value is None or not np.isfinite(value) or value <= 0:
        raise InputError(
            f"{where} has no usable exposure time (EXPTIME={exposure!r}); intensities are normalised to DN/s, "
            "so every frame in counts needs its exposure (or give count rates, DN/s)"
        )
    return value


def check_map(m, *, index: int = 0, need_exposure: bool = True, same_wcs_as_last: bool = False):
    """
    Check that one map has the metadata and pixel values the classifier needs.

    Parameters
    ----------
    m : `~sunpy.map.GenericMap`
        The frame to check.
    index : int
        Position of the frame in its sequence, used in messages.
    need_exposure : bool
        Whether an exposure time is required (it is when intensities are normalised to DN/s).
    same_wcs_as_last : bool
        The frame's `wcs_key` equals that of a frame that passed `check_wcs`: only its numbers are checked
        (building sunpy's coordinate frame for every frame of a long sequence would be the checks' main cost).

    Returns
    -------
    `~astropy.time.Time`
        The frame's observation time (see `observation_time`).

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        For a missing or made-up observation time, a missing or broken WCS (see `check_wcs`), a
        missing exposure time or a unit that is not counts (see `exposure_divisor`), a frame that is
        not 2-D, or a frame with no finite positive pixel.

    Examples
    --------
    >>> import sunpy.map
    >>> import sunpy.data.test
    >>> from sunpy_jets.inputs import check_map
    >>> aia = sunpy.map.Map(sunpy.data.test.get_test_filepath("aia_171_level1.fits"))
    >>> check_map(aia).isot  # passes, giving the observation time
    '2011-02-15T00:00:00.340'
    """
    where = f"frame {index}"
    time = observation_time(m, where=where)
    data = np.asarray(m.data)
    if data.ndim != 2:
        raise InputError(f"{where} is {data.ndim}-D; each frame must be a 2-D image")
    if same_wcs_as_last:
        _check_wcs_numbers(m.meta, where)
    else:
        check_wcs(m, where=where)
    if need_exposure:
        exposure_divisor(m, where=where)
    # One pass without temporaries: the largest non-NaN value tells both checks apart (full-disk frames are large).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN frame is reported below
        largest = np.nanmax(data) if data.size else np.nan
    if np.isnan(largest) or (np.isinf(largest) and not np.isfinite(data).any()):
        raise InputError(f"{where} holds no finite pixel (all NaN or Inf)")
    if largest == np.inf:
        largest = np.max(data[np.isfinite(data)])
    if not largest > 0:
        raise InputError(f"{where} is all zero or negative: an empty or corrupt exposure")
    return time


def frame_coordinate(center, m):
    """
    ``center`` in map ``m``'s own helioprojective coordinates (a Stonyhurst or other centre is transformed).

    Raises
    ------
    `~sunpy_jets.exceptions.InputTypeError`
        If ``center`` is not a `~astropy.coordinates.SkyCoord`.
    `~sunpy_jets.exceptions.InputError`
        If it is not one coordinate or cannot be transformed.
    """
    if not isinstance(center, SkyCoord):
        raise InputTypeError(f"center must be a SkyCoord, not {type(center).__name__}")
    if not center.isscalar:
        raise InputError(f"center must be a single coordinate, not shape {center.shape}")
    # Above the limb a helioprojective point has no distance: a change of observer or time (always, between
    # a catalogue label and its frames) would give NaN, so off-disk points are put on a sphere through them.
    observer = getattr(center, "observer", None)
    observer = observer if isinstance(observer, (BaseCoordinateFrame, SkyCoord)) else m.observer_coordinate
    try:
        with warnings.catch_warnings(), SphericalScreen(observer, only_off_disk=True):
            warnings.simplefilter("ignore")  # sunpy's note that the observer or obstime was taken from the frame
            return center.transform_to(m.coordinate_frame)
    except Exception as e:  # noqa: BLE001 - astropy's transform errors all mean the same for the user
        raise InputError(
            f"center ({center.frame.name} coordinates) cannot be transformed to the frames' helioprojective "
            f"coordinates: {' '.join(str(e).split())}; give it an obstime and observer, or give helioprojective "
            "coordinates"
        ) from e


class SequenceChecker:
    """Checks each arriving frame against the first one."""

    def __init__(self, *, need_exposure, instrument=None, wavelength=None):
        self.need_exposure = need_exposure
        self.instrument = instrument
        self.wavelength = wavelength
        self.first = None
        self.last_time = None
        self.count = 0
        self.last_wcs = None  # the wcs_key of the last frame that passed

    def __call__(self, m):
        i = self.count
        key = wcs_key(m)
        time = check_map(m, index=i, need_exposure=self.need_exposure, same_wcs_as_last=key == self.last_wcs)
        self.last_wcs = key
        instrument = str(m.instrument or "").upper()
        try:
            wavelength = m.wavelength
        except Exception as e:  # noqa: BLE001 - a WAVELNTH sunpy cannot parse
            raise InputError(f"frame {i} has an unreadable wavelength (WAVELNTH={m.meta.get('wavelnth')!r})") from e
        if self.first is None:
            if self.instrument is not None and not instrument.startswith(self.instrument.upper()):
                raise InputError(
                    f"frame 0 comes from {m.instrument or 'an unknown instrument'} but the model was trained on "
                    f"{self.instrument} data; give {self.instrument} frames or train a model on this instrument"
                )
            if self.wavelength is not None and (
                wavelength is None or not u.isclose(wavelength, self.wavelength, rtol=1e-3)
            ):
                raise InputError(
                    f"frame 0 is at {wavelength} but the model expects {self.wavelength}; "
                    "give frames of the model's channel or use a model trained on this one"
                )
            self.first = m
        else:
            first = self.first
            if m.data.shape != first.data.shape:
                raise InputError(
                    f"frame {i} has shape {m.data.shape} but frame 0 has {first.data.shape}: all frames must have "
                    "the same shape (cut them out with the same box)"
                )
            if str(first.instrument or "").upper() != instrument:
                raise InputError(f"frame {i} comes from {m.instrument} but frame 0 from {first.instrument}: mixed instruments")
            if (wavelength is None) != (first.wavelength is None) or (
                wavelength is not None and not u.isclose(wavelength, first.wavelength, rtol=1e-3)
            ):
                raise InputError(f"frame {i} is at {wavelength} but frame 0 at {first.wavelength}: mixed wavelengths")
        if self.last_time is not None:
            dt = (time - self.last_time).to_value(u.s)
            if dt == 0:
                raise InputError(f"frames {i - 1} and {i} have the same time {time.isot}: remove the duplicate")
            if dt < 0:
                raise InputError(
                    f"frame {i} ({time.isot}) is earlier than frame {i - 1} ({self.last_time.isot}): "
                    "sort the frames by time (sunpy.map.Map(files, sequence=True) does)"
                )
        self.last_time = time
        self.count += 1
        return m
