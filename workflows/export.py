"""Excel workbooks written row by row: exports of lists and reports.

xlsxwriter in constant_memory mode flushes each row to a temporary file as soon
as the next one starts, and the rows come from a generator (a server-side
cursor for lists), so a 100,000-row export does not grow the worker. Cells are
typed (dates are dates, numbers are numbers). A text cell is text: xlsxwriter never
makes a formula of it here, so a phone number «+7 900 …» shows as typed, without an
apostrophe; a text that a spreadsheet would take for a formula once someone edits the
cell gets Excel's quote-prefix format (kept as text, no apostrophe shown). Each sheet
prints landscape where it is wide, fitted to the page's width, the header row repeated.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import xlsxwriter

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A cell beginning with one of these can be read as a formula (or DDE) by a
# spreadsheet; the apostrophe makes it plain text (OWASP «CSV injection»).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")

# Rows looked at to size the columns; they are held back, then written.
WIDTH_SAMPLE = 200
MIN_WIDTH, MAX_WIDTH = 6, 60
HEADER_ROW = 2  # title, who/what/when, then the header


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would read `text` as a formula (or DDE) if it were typed in."""
    return text.startswith(FORMULA_STARTS)


def content_disposition(filename: str, fallback: str) -> str:
    """An attachment header whose Cyrillic name survives every browser (RFC 6266/5987)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", fallback) or "export.xlsx"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


SHEET_NAME_LIMIT = 31


def sheet_title(name: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\, cut at the
    last word that fits («Выдачи по видам ТСР и участкам…» never ends mid-word)."""
    name = re.sub(r"\s+", " ", re.sub(r"[\[\]:*?/\\]", " ", name)).strip()
    if len(name) > SHEET_NAME_LIMIT:
        cut = name[: SHEET_NAME_LIMIT + 1].rsplit(" ", 1)[0]
        name = cut if " " in name[: SHEET_NAME_LIMIT + 1] else name[:SHEET_NAME_LIMIT]
        name = name.rstrip(" ,;—-")
    return name or "Лист1"


def unique_sheet_titles(names: Sequence[str]) -> list[str]:
    """Sheet names as sheet_title gives them, made distinct (Excel refuses two alike)."""
    titles: list[str] = []
    for name in names:
        title, number = sheet_title(name), 2
        while title.casefold() in (t.casefold() for t in titles):
            suffix = f" {number}"
            title = sheet_title(name[: SHEET_NAME_LIMIT - len(suffix)]) + suffix
            number += 1
        titles.append(title)
    return titles


@dataclass
class Sheet:
    """One worksheet: a title, lines saying who exported what and when, headers, rows."""

    name: str
    title: str
    subtitle: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    # A total row under the data (reports); None for plain lists.
    total: Sequence[Any] | None = None
    widths: dict[int, int] = field(default_factory=dict)


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.title = book.add_format({"bold": True, "font_size": 13})
        self.subtitle = book.add_format({"italic": True, "font_color": "#555555"})
        self.header = book.add_format(
            {"bold": True, "bg_color": "#E8EEF4", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.date = book.add_format({"num_format": "dd.mm.yyyy", "align": "left"})
        self.datetime = book.add_format({"num_format": "dd.mm.yyyy hh:mm", "align": "left"})
        self.total = book.add_format({"bold": True, "top": 1})
        # Text that looks like a formula stays text, with no apostrophe on show.
        self.quoted = book.add_format({"quote_prefix": True})
        self.quoted_total = book.add_format({"bold": True, "top": 1, "quote_prefix": True})

    def text(self, fmt: Format | None) -> Format | None:
        """The quote-prefix twin of a data or total cell's format."""
        return self.quoted_total if fmt is self.total else self.quoted


def _cell_width(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    if isinstance(value, bool):
        return 3
    return max((len(line) for line in str(value).splitlines()), default=0)


def _write_cell(
    sheet: Worksheet,
    row: int,
    col: int,
    value: object,
    formats: _Formats,
    zone: ZoneInfo,
    fmt: Format | None = None,
) -> None:
    if value is None or value == "":
        if fmt is not None:
            sheet.write_blank(row, col, None, fmt)
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, "да" if value else "нет", fmt)
    elif isinstance(value, (int, float, decimal.Decimal)):
        sheet.write_number(row, col, float(value), fmt)
    elif isinstance(value, dt.datetime):
        if value.tzinfo is None:  # stored in UTC; SQLite hands it back without a zone
            value = value.replace(tzinfo=dt.UTC)
        local = value.astimezone(zone).replace(tzinfo=None)
        sheet.write_datetime(row, col, local, formats.datetime)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, value, formats.date)
    else:
        text = str(value)
        sheet.write_string(row, col, text, formats.text(fmt) if formula_like(text) else fmt)


def _print_setup(sheet: Worksheet, columns: int, widths: Sequence[float]) -> None:
    """Landscape when the columns would not fit a portrait A4, one page wide, the header
    row on every page, the title in the page header."""
    if columns > 6 or sum(widths) > 90:
        sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)  # as wide as one page, as long as it takes
    sheet.repeat_rows(HEADER_ROW)
    sheet.set_footer("&CСтраница &P из &N")


def _write_sheet(
    book: xlsxwriter.Workbook, formats: _Formats, spec: Sheet, zone: ZoneInfo, title: str
) -> int:
    sheet = book.add_worksheet(title)
    rows = iter(spec.rows)
    sample = list(itertools.islice(rows, WIDTH_SAMPLE))
    widths = []
    for col, header in enumerate(spec.headers):
        width = max(
            [_cell_width(header) * 0.9]
            + [_cell_width(r[col]) for r in sample]
            + [_cell_width(spec.total[col]) if spec.total else 0]
        )
        width = spec.widths.get(col, width)
        widths.append(min(MAX_WIDTH, max(MIN_WIDTH, width + 2)))
        sheet.set_column(col, col, widths[-1])
    _print_setup(sheet, len(spec.headers), widths)
    # constant_memory: rows are written strictly top to bottom.
    sheet.write_string(0, 0, spec.title, formats.title)
    sheet.write_string(1, 0, spec.subtitle, formats.subtitle)
    for col, header in enumerate(spec.headers):
        sheet.write_string(HEADER_ROW, col, str(header), formats.header)
    row_index = HEADER_ROW
    for values in itertools.chain(sample, rows):
        row_index += 1
        for col, value in enumerate(values):
            _write_cell(sheet, row_index, col, value, formats, zone)
    written = row_index - HEADER_ROW
    last_col = max(len(spec.headers) - 1, 0)
    sheet.freeze_panes(HEADER_ROW + 1, 0)
    sheet.autofilter(HEADER_ROW, 0, max(row_index, HEADER_ROW), last_col)
    if spec.total is not None:
        row_index += 1
        for col, value in enumerate(spec.total):
            _write_cell(sheet, row_index, col, value, formats, zone, formats.total)
    return written


def write_workbook(out: IO[bytes], sheets: Sequence[Sheet], zone: str) -> list[int]:
    """Write `sheets` into `out` as an .xlsx; returns the number of data rows of each."""
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            # Never turn text into formulas, numbers or links behind our back.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "tmpdir": tempfile.gettempdir(),
        },
    )
    formats = _Formats(book)
    tz = ZoneInfo(zone)
    titles = unique_sheet_titles([spec.name for spec in sheets])
    counts = [
        _write_sheet(book, formats, spec, tz, title)
        for spec, title in zip(sheets, titles, strict=True)
    ]
    book.close()
    return counts


def workbook_file(sheets: Sequence[Sheet], zone: str) -> tuple[IO[bytes], list[int]]:
    """The workbook in an anonymous temporary file, rewound, ready to be streamed.

    The caller owns the file: it outlives this function (the response streams it, then
    closes it), so no with-block can hold it here; it is closed here only on a failure."""
    out = tempfile.TemporaryFile()  # noqa: SIM115 - returned open, closed by the caller
    try:
        counts = write_workbook(out, sheets, zone)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out, counts


def stamp(now: dt.datetime, zone: str) -> str:
    """«22.11.2026 10:15» in the centre's time zone."""
    return now.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M")
