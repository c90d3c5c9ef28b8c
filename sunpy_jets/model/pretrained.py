"""
Pretrained weights: the default model bundled with the package, and models published at a URL.

`pretrained_directory` (behind `JetClassifier.from_pretrained <sunpy_jets.JetClassifier.from_pretrained>`)
resolves one of three sources to a model directory:

- nothing: the default weights shipped in ``sunpy_jets/data/default`` (no network);
- a local model directory written by `JetClassifier.save <sunpy_jets.JetClassifier.save>`;
- an ``https://`` (or ``http://``) URL of a ``.zip``, ``.tar``, ``.tar.gz`` / ``.tgz`` or ``.tar.xz``
  archive of such a directory (its ``config.json`` and ``weights-*.safetensors``, at the top of
  the archive or in one folder). The SHA-256 of the archive is required: a file from the network
  is only used once it is known to be the one its publisher meant.

Downloads go through parfive (progress bar, retries) into a cache directory (`cache_directory`),
to a temporary name first; the archive is checked, unpacked into a temporary folder and only
then renamed into place, so an interrupted or corrupt download is never served from the cache.
"""

import asyncio
import contextlib
import importlib.resources
import os
import re
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .._paths import check_output_dir
from ..settings import show_progress
from ..exceptions import DownloadError, InputError, InputTypeError, WeightsError
from .weights import CARD_NAME, sha256sum

__all__ = [
    "DEFAULT_WEIGHTS",
    "ARCHIVE_SUFFIXES",
    "cache_directory",
    "default_weights",
    "fetch_weights",
    "pretrained_directory",
]

#: The bundled default weights, as a package resource folder.
DEFAULT_WEIGHTS = ("sunpy_jets", "data/default")
#: Archive types a URL may point to.
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.xz")
#: Environment variable that overrides the default cache directory.
CACHE_ENV = "SUNPY_JETS_CACHE"

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
# Files a model archive may hold; anything else (scripts, links, pickles) is refused.
_ALLOWED = re.compile(
    r"^(config\.json|weights-[0-9a-f]+\.safetensors|MODEL_CARD\.(rst|md|txt)|README(\.\w+)?|LICEN[CS]E(\.\w+)?)$"
)


def cache_directory(cache_dir=None) -> Path:
    """
    The folder where downloaded models are kept.

    In order of precedence: ``cache_dir``; the ``SUNPY_JETS_CACHE`` environment variable;
    ``$XDG_CACHE_HOME/sunpy_jets``; ``~/.cache/sunpy_jets``.

    Examples
    --------
    >>> from sunpy_jets.model.pretrained import cache_directory
    >>> cache_directory("/tmp/my-models").as_posix()
    '/tmp/my-models'
    """
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache") / "sunpy_jets"
    elif not isinstance(cache_dir, (str, os.PathLike)):
        raise InputTypeError(f"cache_dir must be a path, not {type(cache_dir).__name__}")
    return Path(cache_dir).expanduser()


@contextlib.contextmanager
def default_weights():
    """
    Context manager giving the bundled default model directory as a real path.

    Examples
    --------
    >>> from sunpy_jets.model.pretrained import default_weights
    >>> with default_weights() as path:
    ...     (path / "config.json").is_file()
    True
    """
    package, folder = DEFAULT_WEIGHTS
    resource = importlib.resources.files(package).joinpath(folder)
    with importlib.resources.as_file(resource) as path:
        if not (Path(path) / CARD_NAME).is_file():
            raise WeightsError(
                f"this installation of sunpy_jets has no bundled weights in {path}; reinstall the package, or give a "
                "model directory or URL"
            )
        yield Path(path)


def _check_sha256(sha256) -> str:
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise InputError(f"sha256 must be a 64-character hexadecimal SHA-256 digest, not {sha256!r}")
    return sha256.lower()


def _archive_name(url) -> str:
    name = unquote(Path(urlsplit(url).path).name)
    if not name.lower().endswith(ARCHIVE_SUFFIXES):
        raise InputError(
            f"the URL {url!r} does not name an archive; publish the model directory (config.json and its weights) as "
            f"one of {', '.join(ARCHIVE_SUFFIXES)} and give its URL"
        )
    return name


def _download(url, directory, filename, *, progress=True, attempts=3) -> Path:
    """Download ``url`` to ``directory/filename`` with parfive, trying up to ``attempts`` times; return the path."""
    import parfive

    error = None
    for _ in range(attempts):
        downloader = parfive.Downloader(max_conn=1, max_splits=1, progress=progress, overwrite=True)
        downloader.enqueue_file(url, path=directory, filename=filename)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # No loop is running (scripts, the command line): run parfive's coroutine in a loop that is closed after.
            results = asyncio.run(downloader.run_download())
        else:
            results = downloader.download()  # inside a running loop (notebooks) parfive uses a thread
        if not results.errors:
            return Path(results[0])
        error = str(results.errors[0].exception).strip().splitlines()[0]
    raise DownloadError(f"could not download {url} after {attempts} attempts: {error}")


def _members(archive: Path):
    """(name, reader) of every regular file in the archive, refusing links, devices and unsafe names."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if (info.external_attr >> 16) & 0o170000 not in (0, 0o100000):  # not a regular file (e.g. symlink)
                    raise WeightsError(f"the archive holds {info.filename!r}, which is not a regular file")
                yield info.filename, (lambda info=info: zf.read(info))
        return
    try:
        with tarfile.open(archive) as tf:
            for member in tf:
                if member.isdir():
                    continue
                if not member.isfile():
                    raise WeightsError(f"the archive holds {member.name!r}, which is not a regular file")
                yield member.name, (lambda member=member: tf.extractfile(member).read())
    except tarfile.TarError as e:
        raise WeightsError(f"{archive.name} is not a readable zip or tar archive: {e}") from e


def _unpack(archive: Path, destination: Path) -> None:
    """Unpack a model archive's files (flat, from its top or one folder) into ``destination``."""
    written = []
    for name, read in _members(archive):
        parts = Path(name).parts
        if name.startswith("/") or ".." in parts or len(parts) > 2:
            raise WeightsError(
                f"the archive holds {name!r}: a model archive holds its files at the top or in one folder"
            )
        if not _ALLOWED.match(parts[-1]):
            raise WeightsError(
                f"the archive holds {name!r}; a model archive holds only config.json, weights-*.safetensors and a "
                "model card or licence"
            )
        if parts[-1] in written:
            raise WeightsError(f"the archive holds {parts[-1]!r} twice")
        (destination / parts[-1]).write_bytes(read())
        written.append(parts[-1])
    if CARD_NAME not in written:
        raise WeightsError(f"the archive holds no {CARD_NAME}; it must hold a directory written by JetClassifier.save")


def fetch_weights(url, *, sha256, cache_dir=None, progress=None) -> Path:
    """
    Download a model archive (once), check it and unpack it into the cache; return the model directory.

    Parameters
    ----------
    url : str
        ``https://`` (or ``http://``) URL of a ``.zip`` / ``.tar[.gz|.xz]`` archive of a model directory.
    sha256 : str
        SHA-256 of the archive, as published beside it.
    cache_dir : str or `~pathlib.Path`, optional
        Where models are kept (see `cache_directory`).
    progress : bool
        Show parfive's progress bar.

    Returns
    -------
    `~pathlib.Path`
        The unpacked model directory, ``<cache>/models/<sha256>``.

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        If the URL or checksum are malformed.
    `~sunpy_jets.exceptions.DownloadError`
        If the download fails after retries.
    `~sunpy_jets.exceptions.WeightsError`
        If the file does not have the expected SHA-256 or is not a model archive.

    Examples
    --------
    >>> from sunpy_jets.model.pretrained import fetch_weights
    >>> fetch_weights("https://example.org/model.zip", sha256="abc")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: sha256 must be a 64-character hexadecimal SHA-256 digest, not 'abc'
    """
    sha256 = _check_sha256(sha256)
    progress = show_progress(progress)
    if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http"):
        raise InputError(f"url must be an https:// URL, not {url!r}")
    name = _archive_name(url)
    models = cache_directory(cache_dir) / "models"
    target = models / sha256
    if (target / CARD_NAME).is_file():
        return target
    check_output_dir(models, "cache_dir")  # before the download, not after it
    models.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=models, prefix=f".partial-{sha256[:12]}-"))
    try:
        archive = _download(url, work, name, progress=progress)
        digest = sha256sum(archive)
        if digest != sha256:
            raise WeightsError(
                f"the file downloaded from {url} has SHA-256 {digest}, not the expected {sha256}: it is corrupt or not "
                "the published model; nothing was kept"
            )
        unpacked = work / "model"
        unpacked.mkdir()
        _unpack(archive, unpacked)
        try:
            os.replace(unpacked, target)
        except OSError:
            # Another process finished the same download first; its copy has the same checksum.
            if not (target / CARD_NAME).is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


@contextlib.contextmanager
def pretrained_directory(source=None, *, sha256=None, cache_dir=None, progress=None):
    """
    The model directory of a pretrained source, and the weights checksum it must have.

    A context manager: the bundled weights may live inside a zipped installation, from which
    `importlib.resources` extracts them for the duration of the ``with`` block only.

    Parameters
    ----------
    source : str or `~pathlib.Path`, optional
        ``None`` for the bundled default weights; a model directory; or the URL of a model archive.
    sha256 : str, optional
        Required for a URL: the SHA-256 of the archive. For a directory, the SHA-256 its weights
        file must have (as well as its card's).
    cache_dir : str or `~pathlib.Path`, optional
        Where downloaded models are kept (see `cache_directory`).
    progress : bool
        Show a download progress bar.

    Yields
    ------
    directory : `~pathlib.Path`
        A directory that `JetClassifier.load <sunpy_jets.JetClassifier.load>` reads.
    expected_sha256 : str or None
        The SHA-256 the directory's weights file must have, where the caller named one.

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        A URL without ``sha256``, or a malformed source.
    `~sunpy_jets.exceptions.WeightsError`, `~sunpy_jets.exceptions.DownloadError`
        Missing weights, a failed download.

    Examples
    --------
    >>> from sunpy_jets.model.pretrained import pretrained_directory
    >>> with pretrained_directory() as (directory, expected):
    ...     (directory / "config.json").is_file(), expected
    (True, None)
    >>> with pretrained_directory("https://example.org/model.zip") as (directory, expected):
    ...     pass
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: a URL needs its sha256: from_pretrained('https://example.org/model.zip', ...)
    """
    if source is None:
        with default_weights() as path:
            yield path, sha256
        return
    if not isinstance(source, (str, os.PathLike)):
        raise InputTypeError(f"source must be None, a model directory or a URL, not {type(source).__name__}")
    scheme = urlsplit(str(source)).scheme if isinstance(source, str) else ""
    if scheme in ("https", "http"):
        if sha256 is None:
            raise InputError(
                f"a URL needs its sha256: from_pretrained({source!r}, sha256=<the archive's published SHA-256>)"
            )
        yield fetch_weights(source, sha256=sha256, cache_dir=cache_dir, progress=progress), None
        return
    if len(scheme) > 1:  # not a Windows drive letter
        raise InputError(f"unsupported URL scheme {scheme!r} in {source!r}: give an https:// URL or a local directory")
    yield Path(source), None if sha256 is None else _check_sha256(sha256)
