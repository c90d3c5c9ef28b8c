"""
Who made the records: the HEK provenance set for the session or in the environment, the placeholders used
when neither is, and the warning an export with placeholders gives (the public side is
`sunpy_jets.events.provenance`).
"""

import os

from ..exceptions import InputError, ProvenanceWarning
from ..settings import warn_user
from ._columns import plain_value

__all__ = ["PROJECT_URL", "PROVENANCE_ENV", "set_provenance", "configured_provenance", "warn_placeholder_provenance"]

PROJECT_URL = "https://github.com/sunpy/sunpy_jets"

#: Environment variables that set the HEK provenance of every export (``JetEvents.to_hek``).
PROVENANCE_ENV = {
    "frm_institute": "SUNPY_JETS_FRM_INSTITUTE",
    "frm_contact": "SUNPY_JETS_FRM_CONTACT",
    "frm_identifier": "SUNPY_JETS_FRM_IDENTIFIER",
    "frm_url": "SUNPY_JETS_FRM_URL",
}
_CONFIGURED = {}


def set_provenance(**values):
    """Set (a value) or clear (`None`) the session's HEK provenance; see ``sunpy_jets.events.set_hek_provenance``."""
    unknown = set(values) - set(PROVENANCE_ENV)
    if unknown:
        raise InputError(f"unknown provenance field(s) {sorted(unknown)}; give {', '.join(PROVENANCE_ENV)}")
    for key, value in values.items():
        if value is None:
            _CONFIGURED.pop(key, None)
        elif not isinstance(value, str) or not value.strip():
            raise InputError(f"{key} must be a non-empty string, not {value!r}")
        else:
            _CONFIGURED[key] = value.strip()
    return configured_provenance()


def configured_provenance():
    """The HEK provenance set for this session, over the environment variables."""
    out = {key: os.environ[env].strip() for key, env in PROVENANCE_ENV.items() if os.environ.get(env, "").strip()}
    out.update(_CONFIGURED)
    return out


def warn_placeholder_provenance(table, overrides):
    """
    One `ProvenanceWarning` when an export's ``frm_institute`` or ``frm_contact`` would be the package's
    placeholders (nothing set in the call, the events, the session or the environment).
    """
    configured = configured_provenance()
    missing = [key for key in ("frm_institute", "frm_contact")
               if not (overrides.get(key) or table.meta.get(key) or configured.get(key)
                       or (key in table.colnames and len(table) and all(plain_value(v) for v in table[key])))]
    if missing and len(table):
        warn_user(
            f"the HEK records carry the package's placeholder {' and '.join(missing)} (sunpy_jets / its issue "
            "tracker): say who made them with set_hek_provenance(frm_institute=..., frm_contact=...), the "
            "SUNPY_JETS_FRM_INSTITUTE / SUNPY_JETS_FRM_CONTACT variables or the export's keyword arguments",
            ProvenanceWarning,
        )
