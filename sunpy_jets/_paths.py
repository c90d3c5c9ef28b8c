"""
Output locations checked before long work: a scan or an epoch must not end in ``NotADirectoryError``.

Every public function that writes (``fit(checkpoint_dir=...)``, ``JetClassifier.save``, ``build_cache``,
``from_pretrained(cache_dir=...)``, the command line) calls `check_output_dir` or `check_output_file`
on its arguments before it reads any data, so that a folder under a file, a read-only folder, an
existing file where a folder goes or a name too long for the file system is refused at once, by
name, with a package error.
"""

import os
from pathlib import Path

from .exceptions import InputError, InputTypeError

__all__ = ["check_output_dir", "check_output_file", "check_file_name", "NAME_MAX", "ATOMIC_RESERVE"]

#: The longest file name (in bytes) accepted; most file systems allow 255.
NAME_MAX = 255
#: Bytes an atomic write's temporary file adds to a name (``.`` + name + ``.XXXXXXXX.tmp``).
ATOMIC_RESERVE = 16


def _as_path(path, name) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise InputTypeError(f"{name} must be a path (str or pathlib.Path), not {type(path).__name__}")
    text = os.fspath(path)
    if not text:
        raise InputError(f"{name} must be a path, not an empty string")
    return Path(text).expanduser()


def check_file_name(directory, file_name: str, name: str = "the file name", *, reserve: int = 0) -> None:
    """
    Refuse a file name the file system of ``directory`` cannot hold (too long, or with a NUL or slash).

    ``reserve`` bytes are kept free for what atomic writes add to a name (their temporary files are
    ``.NAME.XXXXXXXX.tmp``: `ATOMIC_RESERVE`).

    Examples
    --------
    >>> from sunpy_jets._paths import check_file_name
    >>> check_file_name(".", "x" * 300 + ".json", "label_id")
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: label_id gives a file name of 305 bytes, more than the 255 a file system allows; use a shorter one
    """
    if "\0" in file_name or "/" in file_name or os.sep in file_name:
        raise InputError(f"{name} must not contain '/' or NUL characters, not {file_name!r}")
    limit = NAME_MAX
    try:
        limit = min(limit, os.pathconf(directory, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        pass  # the folder does not exist yet, or the platform does not say: the usual limit
    size = len(file_name.encode("utf-8", "surrogatepass"))
    limit -= reserve
    if size > limit:
        raise InputError(
            f"{name} gives a file name of {size} bytes, more than the {limit} a file system allows; use a shorter one"
        )


def check_output_dir(path, name: str = "the output folder") -> Path:
    """
    Check that ``path`` is a folder that exists or can be created, and that it can be written to.

    Nothing is created. Returns ``path`` as a `~pathlib.Path` (``~`` expanded).

    Raises
    ------
    `~sunpy_jets.exceptions.InputError`
        If ``path`` is a file, lies under a file, is not writable, or has a component too long for
        the file system; the message names ``name``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sunpy_jets._paths import check_output_dir
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = file.write_text("x")
    >>> check_output_dir(file / "model", "path")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: path .../notes.txt/model cannot be created: .../notes.txt is a file, not a folder
    """
    path = _as_path(path, name)
    for part in path.parts:
        if part not in ("/", os.sep):
            check_file_name(".", part, name)
    if path.exists() and not path.is_dir():
        raise InputError(f"{name} {path} exists and is not a directory; give a folder (it is created if needed)")
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise InputError(f"{name} {path} cannot be created: {existing} is a file, not a folder")
    if existing.exists() and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{name} {path} cannot be written: {existing} is not writable; give a folder you can write to")
    return path


def check_output_file(path, name: str = "the output file") -> Path:
    """
    Check that the file ``path`` can be written (its folder exists or can be created; it is not a folder).

    Examples
    --------
    >>> import tempfile
    >>> from sunpy_jets._paths import check_output_file
    >>> check_output_file(tempfile.mkdtemp(), "path")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sunpy_jets.exceptions.InputError: path ... is a folder; give a file name
    """
    path = _as_path(path, name)
    if path.is_dir():
        raise InputError(f"{name} {path} is a folder; give a file name")
    check_output_dir(path.parent, f"the folder of {name}")
    check_file_name(path.parent, path.name, name)
    return path
