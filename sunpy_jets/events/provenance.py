"""
Who made the events: the HEK provenance (``frm_institute``, ``frm_contact``, ``frm_identifier``, ``frm_url``)
set once for a session or in the environment, instead of on every ``to_hek`` call.
"""

from ._provenance import PROVENANCE_ENV, configured_provenance, set_provenance

__all__ = ["set_hek_provenance", "hek_provenance", "PROVENANCE_ENV"]


def set_hek_provenance(**values):
    """
    Set the HEK provenance of every later export in this session.

    `~sunpy_jets.events.JetEvents.to_hek` (and ``to_voevent``, ``to_hektable``) take each of these values,
    in this order, from its keyword arguments, the events' columns and ``meta``, this setting, the
    environment variables (`PROVENANCE_ENV`: ``SUNPY_JETS_FRM_INSTITUTE``, ``SUNPY_JETS_FRM_CONTACT``,
    ``SUNPY_JETS_FRM_IDENTIFIER``, ``SUNPY_JETS_FRM_URL``), and last the package's placeholders.

    Parameters
    ----------
    **values : `str` or `None`
        ``frm_institute``, ``frm_contact``, ``frm_identifier``, ``frm_url``; `None` clears one.

    Returns
    -------
    `dict`
        The provenance now in force (setting and environment).

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        An unknown field, or a value that is not a non-empty string.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_jets.events import JetEvents, set_hek_provenance
    >>> _ = set_hek_provenance(frm_institute="EPFL", frm_contact="jets@example.org")
    >>> events = JetEvents.from_columns(start=Time(["2011-01-20T09:00"]), end=Time(["2011-01-20T09:12"]),
    ...     probability=[0.9], tx=[-245] * u.arcsec, ty=[-1003] * u.arcsec, width=300 * u.arcsec)
    >>> events.to_hek()[0]["frm_institute"]
    'EPFL'
    >>> set_hek_provenance(frm_institute=None, frm_contact=None)
    {}
    """
    return set_provenance(**values)


def hek_provenance():
    """
    The HEK provenance in force: `set_hek_provenance` over the environment variables.

    Returns
    -------
    `dict`

    Examples
    --------
    >>> from sunpy_jets.events import hek_provenance
    >>> isinstance(hek_provenance(), dict)
    True
    """
    return configured_provenance()
