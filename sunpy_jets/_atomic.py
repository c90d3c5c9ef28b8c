"""
Atomic file writes: readers see the old file or the complete new one, never half a file.

Every file sunpy_jets writes for a user to keep (weights, model cards, caches, event files, FITS,
checkpoints) goes through `atomic_path`: the content is written to a temporary file in the target's
folder, flushed to disk, then renamed over the target in one step (`os.replace`). An interrupted
write leaves only a hidden ``.tmp`` file behind, which is removed when the write fails in Python.
"""

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ._paths import ATOMIC_RESERVE, check_file_name, check_output_file
from .exceptions import InputError

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "atomic_directory", "recover_directory",
           "check_replaceable", "MANIFEST"]

#: Written last into a folder written by `atomic_directory`: the files of the set, with sizes and SHA-256.
MANIFEST = "manifest.json"


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Temporary files are created private (0600); the final file gets the permissions a plain open() would
# give it. Read once at import: changing the umask is process-wide and racy in threaded code.
_UMASK = _current_umask()
_FILE_MODE = 0o666 & ~_UMASK
_DIR_MODE = 0o777 & ~_UMASK


@contextmanager
def atomic_path(path):
    """
    Yield a temporary path to write to; on success it replaces ``path`` atomically.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The final file. Its folder is created if needed.

    Yields
    ------
    `~pathlib.Path`
        A temporary file in the same folder (it exists, empty). Write it completely; if the block
        raises, the temporary file is deleted and ``path`` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sunpy_jets._atomic import atomic_path
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "table.csv"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("a,b\\n1,2\\n")
    >>> target.read_text()
    'a,b\\n1,2\\n'
    """
    # A folder under a file, a read-only folder or a name too long: a package error naming the path, not an OSError.
    path = check_output_file(path, "the output file")
    check_file_name(path.parent, path.name, "the output file", reserve=ATOMIC_RESERVE)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # Writers may have replaced the temporary file (safetensors does), so set the mode last.
        os.chmod(tmp, _FILE_MODE)
        # Flush the data to disk before the rename makes it visible under the final name.
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path, data: bytes) -> Path:
    """
    Write ``data`` to ``path`` atomically (see `atomic_path`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sunpy_jets._atomic import atomic_write_bytes
    >>> path = atomic_write_bytes(pathlib.Path(tempfile.mkdtemp()) / "a.bin", b"hello")
    >>> path.read_bytes()
    b'hello'
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path, text: str) -> Path:
    """
    Write UTF-8 ``text`` to ``path`` atomically (see `atomic_path`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sunpy_jets._atomic import atomic_write_text
    >>> path = atomic_write_text(pathlib.Path(tempfile.mkdtemp()) / "a.txt", "café")
    >>> path.read_text(encoding="utf-8")
    'café'
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as e:
        # A lone surrogate (e.g. from a file decoded with errors="surrogateescape") has no UTF-8 form.
        raise InputError(
            f"the text to write into {path} holds {text[e.start:e.end]!r} at position {e.start}, which UTF-8 cannot "
            "encode (a lone surrogate); remove it from the text fields (descriptions, names) and write again"
        ) from None
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _leftovers(path: Path):
    """This folder's staging (``new``) and replaced (``old``) folders whose writer is no longer running."""
    out = {"new": [], "old": []}
    for kind in out:
        for p in path.parent.glob(f".{path.name}.{kind}-*"):
            pid = p.name.rsplit("-", 2)[-2] if p.name.count("-") >= 2 else ""
            if p.is_dir() and not (pid.isdigit() and int(pid) != os.getpid() and _pid_alive(int(pid))):
                out[kind].append(p)
    return out


def recover_directory(path) -> None:
    """
    Put right what an interrupted `atomic_directory` left: finish or undo a half-done switch, delete the rest.

    A complete new set (its manifest written) whose switch was cut between the two renames is put in
    place; otherwise the previous set is put back. Staging folders of writers still running are left alone.
    """
    path = Path(path).absolute()
    left = _leftovers(path)
    if not path.exists():
        complete = [p for p in left["new"] if (p / MANIFEST).is_file()]
        for candidate in (*complete, *sorted(left["old"], key=lambda p: p.stat().st_mtime, reverse=True)):
            os.rename(candidate, path)
            break
    for p in (*left["new"], *left["old"]):
        if p.exists():
            shutil.rmtree(p, ignore_errors=True)


def _manifest(folder: Path) -> dict:
    files = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            digest = hashlib.sha256()
            with open(p, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            files[p.relative_to(folder).as_posix()] = {"size": p.stat().st_size, "sha256": digest.hexdigest()}
    return {"format": "sunpy_jets output set", "files": files}


def atomic_directory(path):
    """
    Write a set of files as one: into a fresh folder, switched into place only when complete.

    The files go into a hidden sibling folder; on success a manifest (`MANIFEST`: every file with its
    size and SHA-256) is written last into it, the old folder (if any) is renamed aside, the new one
    renamed into place and the old one deleted. A reader therefore sees the old set or the new one,
    never a mix; what an interruption leaves is put right by `recover_directory` on the next run.

    A folder that exists, is not empty and has no manifest holds files sunpy_jets did not write: it
    is refused, never replaced.

    Parameters
    ----------
    path : str or `~pathlib.Path`
        The folder of the set.

    Returns
    -------
    context manager yielding `~pathlib.Path`
        The staging folder to write into.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sunpy_jets._atomic import atomic_directory
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
    >>> with atomic_directory(out) as staging:
    ...     _ = (staging / "a.txt").write_text("first")
    >>> with atomic_directory(out) as staging:  # a rerun replaces the whole set
    ...     _ = (staging / "b.txt").write_text("second")
    >>> sorted(p.name for p in out.iterdir())
    ['b.txt', 'manifest.json']
    """
    path = Path(path).absolute()
    recover_directory(path)
    check_replaceable(path)
    return _switch(path)


def check_replaceable(path) -> None:
    """Refuse a folder `atomic_directory` must not replace: one that holds files and no manifest."""
    path = Path(path)
    if path.is_dir() and any(path.iterdir()) and not (path / MANIFEST).is_file():
        raise InputError(
            f"{path} already holds files that sunpy_jets did not write (it has no {MANIFEST}); give a new or "
            "empty folder, or the folder of an earlier run to replace it"
        )


@contextmanager
def _switch(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.new-{os.getpid()}-"))
    try:
        yield staging
        atomic_write_text(staging / MANIFEST, json.dumps(_manifest(staging), indent=1))
        os.chmod(staging, _DIR_MODE)  # mkdtemp makes it private
        if path.exists():
            old = path.parent / staging.name.replace(".new-", ".old-", 1)
            os.rename(path, old)
            os.rename(staging, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
