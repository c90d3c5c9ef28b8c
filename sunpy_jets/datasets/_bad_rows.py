"""
The problems found while a label file is parsed, collected for one report.
"""

import warnings

from ..exceptions import CatalogueWarning

__all__ = ["BadRows"]


class BadRows:
    """Collects (row, column, reason) problems while a file is parsed."""

    def __init__(self):
        self.rows = []

    def add(self, row, column, reason):
        self.rows.append({"row": int(row), "column": str(column), "reason": str(reason)})

    def warn(self, path, n_rows, n_dropped, stacklevel):
        if not self.rows:
            return
        shown = "; ".join(f"row {b['row']} {b['column']}: {b['reason']}" for b in self.rows[:5])
        more = f" (and {len(self.rows) - 5} more)" if len(self.rows) > 5 else ""
        warnings.warn(
            f"{path}: {len(self.rows)} problem(s) in {n_rows} rows; {n_dropped} row(s) left out of the table, "
            f"the others kept with NaN for the bad values. {shown}{more}. "
            "See table.meta['bad_rows'] for the full list.",
            CatalogueWarning,
            stacklevel=stacklevel + 1,
        )
