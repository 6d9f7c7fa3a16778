"""Cells of the spreadsheets we hand out (CSV and xlsx exports).

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) is read by Excel, WPS and LibreOffice as a formula: a
resident's name or a volunteer's post title typed as ``=HYPERLINK(...)`` would
run on the operator's machine when the export is opened (CSV / formula
injection, OWASP). Every export writes its cells through ``spreadsheet_safe``
(or ``safe_row``), which prefixes such text with a single quote: the sheet
shows the text as typed, as text.
"""

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a cell that cannot be a formula: text starting with one of
    ``FORMULA_STARTS`` gets a leading ``'``; numbers, dates and ``None`` are
    returned unchanged (they are not text a spreadsheet evaluates)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A row of cells, each through ``spreadsheet_safe``."""
    return [spreadsheet_safe(v) for v in values]


__all__ = ["FORMULA_STARTS", "spreadsheet_safe", "safe_row"]
