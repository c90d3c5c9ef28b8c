"""
Reading a label file row by row: its text, CSV lines, numbers and times, each problem reported.

A bad value never raises and is never dropped silently: it is added to a ``BadRows`` report (``_bad_rows.py``:
row, column, reason) and the caller decides whether the row is kept with NaN or left out. Only a file
that cannot be read at all, or that has no usable row, raises `~sunpy_jets.exceptions.CatalogueError`.
"""

import csv
import math
import os
import warnings
from pathlib import Path

import numpy as np

from astropy.time import Time

from .._validation import YEAR_RANGE
from ..exceptions import CatalogueError, InputTypeError

__all__ = ["read_text", "csv_rows", "drop_unsplit_records", "parse_float", "parse_times", "require_rows"]


#: The longest CSV line read (a catalogue row is below 1 kB); longer ones are bad rows, not a csv.Error.
_MAX_CSV_LINE = 100_000


def read_text(source):
    """(name, text) of a path or file-like; CatalogueError when unreadable."""
    if hasattr(source, "read"):
        name, text = getattr(source, "name", "<stream>"), source.read()
        try:
            return name, text.decode() if isinstance(text, bytes) else text
        except UnicodeDecodeError as exc:
            raise CatalogueError(f"cannot read catalogue {name}: {exc}") from exc
    if not isinstance(source, (str, os.PathLike)):
        raise InputTypeError(f"a catalogue must be a path or a file-like object, not {type(source).__name__}")
    path = Path(source)
    try:
        return str(path), path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"cannot read catalogue {path}: {exc}") from exc


def csv_rows(text, name, expected):
    """[(line number, {column: text})] of a CSV whose header may start with '#'; checks the columns."""
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark (Excel writes one) is not part of the header
    lines = text.splitlines()
    if not lines:
        raise CatalogueError(f"{name} is empty: expected a header line with {', '.join(expected)}")
    try:
        header = [h.strip() for h in next(csv.reader([lines[0].lstrip("#")]))]
    except csv.Error as exc:
        raise CatalogueError(f"{name} has an unreadable header line: {exc}") from exc
    missing = [c for c in expected if c not in header]
    if missing:
        raise CatalogueError(f"{name} lacks the column(s) {', '.join(missing)}; its header is {', '.join(header)}")
    out = []
    for lineno, fields in _csv_lines(lines[1:]):
        if isinstance(fields, str):
            out.append((lineno, {"__error__": fields}))
            continue
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            out.append((lineno, {"__error__": f"{len(fields)} fields, expected {len(header)}"}))
            continue
        out.append((lineno, dict(zip(header, fields))))
    return out


def _csv_lines(lines):
    """``(line number, fields)`` of CSV lines, fields being the reason when a line cannot be parsed."""
    for lineno, line in enumerate(lines, start=2):
        if len(line) > _MAX_CSV_LINE:
            yield lineno, f"a line of {len(line):,} characters (at most {_MAX_CSV_LINE:,})"
            continue
        try:
            yield lineno, next(csv.reader([line]), [])
        except csv.Error as exc:
            yield lineno, f"not CSV: {exc}"


def drop_unsplit_records(records, report):
    """The ``(row, record)`` pairs that could be split into fields; the others are reported."""
    good = []
    for row, rec in records:
        if "__error__" in rec:
            report.add(row, "*", rec["__error__"])
        else:
            good.append((row, rec))
    return good


def parse_float(text, column, row, report, *, nan_allowed):
    """``(value, good)``: the number, or NaN and False (reported) when it is not one, infinite, or NaN where refused."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        report.add(row, column, f"{text!r} is not a number")
        return math.nan, False
    if math.isnan(value):
        if not nan_allowed:
            report.add(row, column, "value is NaN")
            return math.nan, False
        return value, True
    if math.isinf(value):
        report.add(row, column, "value is infinite")
        return math.nan, False
    return value, True


def _parse_time(text, row, report):
    try:
        return _check_years(_iso_times([str(text).strip()]), [row], report)[0]
    except ValueError:
        report.add(row, "date", f"{text!r} is not an ISO time (YYYY-MM-DDThh:mm:ss)")
        return None


def _iso_times(texts):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dubious year")  # ERFA's note on years it calls odd: checked below
        return Time(texts, format="isot", scale="utc")


def _check_years(times, rows, report):
    """ISO strings of ``times``; None (and a bad row) for a year outside `YEAR_RANGE` (a garbled date)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*dubious year")
        out = list(times.isot)
        years = np.atleast_1d(times.ymdhms["year"]) if len(out) else []
    for i, (year, row) in enumerate(zip(years, rows)):
        if not YEAR_RANGE[0] <= int(year) <= YEAR_RANGE[1]:
            report.add(row, "date", f"the year {int(year)} is outside {YEAR_RANGE[0]}-{YEAR_RANGE[1]}: a garbled date")
            out[i] = None
    return out


def parse_times(texts, rows, report):
    """ISO strings of many times; parsed in one call, row by row only when one of them is bad."""
    try:
        times = _iso_times([str(t).strip() for t in texts])
    except (ValueError, TypeError):
        return [_parse_time(t, row, report) for t, row in zip(texts, rows)]
    return _check_years(times, rows, report)


def require_rows(rows, report, name):
    """Refuse a catalogue with no usable row: there is nothing to label with it."""
    if rows:
        return
    first = report.rows[0] if report.rows else None
    why = f"; the first problem is row {first['row']} {first['column']}: {first['reason']}" if first else ""
    raise CatalogueError(f"{name} holds no usable rows{why}")
