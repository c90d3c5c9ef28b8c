"""
Local stand-ins for the remote services that sunpy_jets talks to, for tests that run offline.

`~tests.servers.jsoc.JSOCStandIn`
    Speaks the part of the JSOC protocol that sunpy's ``JSOCClient`` and ``drms`` use for
    ``aia.lev1_euv_12s`` cutout exports (series look-up, record look-up, e-mail check, export
    request with the ``im_patch`` process, status polling, file downloads), serving real AIA 304 Å
    data cut to the requested box. It misbehaves on request (see `~tests.servers.jsoc.Misbehaviour`).
`~tests.servers.hek.HEKStandIn`
    Answers ``Fido.search(a.Time(...), a.hek.CJ, ...)`` from real and generated coronal-jet records,
    paging as the HEK does.

Both run an HTTP server on 127.0.0.1 (a free port) in a daemon thread. sunpy and drms are pointed at
them through their own configuration: the registered ``jsoc`` server of drms (or the
``SUNPY_JETS_JSOC_URL`` environment variable that `sunpy_jets.datasets.download` reads), and a Fido
client registered in place of sunpy's ``HEKClient``. The pytest fixtures are in
`tests.servers.fixtures`.
"""

from .hek import HEKStandIn, hek_records_from_catalogue, real_cj_records
from .jsoc import JSOCStandIn, Misbehaviour

__all__ = ["JSOCStandIn", "Misbehaviour", "HEKStandIn", "real_cj_records", "hek_records_from_catalogue"]
