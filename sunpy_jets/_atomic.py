"""
Atomic file writes: readers see the old file or the complete new one, never half a file.

Every file sunpy_jets writes for a user to keep (weights, model cards, caches, event files, FITS,
checkpoints) goes through `atomic_path`: the content is written to a temporary file in the target's
folder, flushed to disk, then renamed over the target in one step (`os.replace`). An interrupted
write leaves only a hidden ``.tmp`` file behind, which is removed when the write fails in Python.
"""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text"]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Temporary files are created private (0600); the final file gets the permissions a plain open() would
# give it. Read once at import: changing the umask is process-wide and racy in threaded code.
_FILE_MODE = 0o666 & ~_current_umask()


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
    path = Path(path)
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
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
