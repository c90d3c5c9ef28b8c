"""
Checks of single frames and of each frame against the first: the one place where input frames are vetted.
"""

import warnings

import numpy as np

import astropy.units as u

from ..exceptions import InputError

__all__ = ["check_map", "SequenceChecker", "DATE_KEYS"]

# Keys sunpy reads the observation time from, in its order of preference.
DATE_KEYS = ("date-obs", "date_obs", "t_obs", "date-beg", "date-avg", "date_beg", "date_avg")


def check_map(m, *, index: int = 0, need_exposure: bool = True) -> None:
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

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        For a missing observation time, WCS or exposure time, a frame that is not 2-D, or a frame with
        no finite positive pixel.

    Examples
    --------
    >>> import sunpy.map
    >>> import sunpy.data.test
    >>> from sunpy_jets.inputs import check_map
    >>> aia = sunpy.map.Map(sunpy.data.test.get_test_filepath("aia_171_level1.fits"))
    >>> check_map(aia)  # passes silently
    """
    where = f"frame {index}"
    meta = m.meta
    if not any(meta.get(k) not in (None, "") for k in DATE_KEYS):
        raise InputError(f"{where} has no observation time (DATE-OBS); every frame needs one")
    has_scale = ("cdelt1" in meta and "cdelt2" in meta) or ("cd1_1" in meta and "cd2_2" in meta)
    if not (has_scale and "ctype1" in meta and "ctype2" in meta):
        raise InputError(f"{where} has no world coordinate system (CTYPE/CDELT keywords); every frame needs a WCS")
    if need_exposure:
        exposure = meta.get("exptime")
        if exposure is None or not np.isfinite(float(exposure)) or float(exposure) <= 0:
            raise InputError(
                f"{where} has no usable exposure time (EXPTIME={exposure!r}); intensities are normalised to DN/s, "
                "so every frame needs its exposure"
            )
    data = np.asarray(m.data)
    if data.ndim != 2:
        raise InputError(f"{where} is {data.ndim}-D; each frame must be a 2-D image")
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


class SequenceChecker:
    """Checks each arriving frame against the first one."""

    def __init__(self, *, need_exposure, instrument=None, wavelength=None):
        self.need_exposure = need_exposure
        self.instrument = instrument
        self.wavelength = wavelength
        self.first = None
        self.last_time = None
        self.count = 0

    def __call__(self, m):
        i = self.count
        check_map(m, index=i, need_exposure=self.need_exposure)
        instrument = str(m.instrument or "").upper()
        wavelength = m.wavelength
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
        time = m.date
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
