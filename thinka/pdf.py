"""PDF stage: the stitched HTML Datenreport printed to an A4 PDF with WeasyPrint.

Page layout (A4, page numbers, page breaks, TOC page numbers, outline) lives in the report's print CSS
(templates/report.css, `@media print`), so the HTML and the PDF cannot drift apart.

Accessible: a tagged PDF/UA-1 by default (structure tree, language from `<html lang>`, title from `<title>` shown
as the window title, bookmarks, alt text of every figure, table header cells); for archiving a PDF/A variant with
tags ("pdf/a-3a", "pdf/a-2a") instead.

Reproducible without any environment variable: the creation and modification dates come from the page's dcterms
metadata (SOURCE_DATE_EPOCH or the report date), the PDF /ID is derived from the HTML, and while printing,
SOURCE_DATE_EPOCH is set to the page's date unless the caller set it, because fontTools (WeasyPrint's font
subsetting) stamps the current time into every embedded font otherwise.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import logging
import os
import re
import warnings
from pathlib import Path

from thinka.errors import ThinkaError


def pdf_identifier(html_bytes: bytes) -> bytes:
    """A deterministic /ID: WeasyPrint would otherwise write none, other tools a random one."""
    return hashlib.sha256(html_bytes).hexdigest()[:32].encode()


VARIANTS = ("pdf/ua-1", "pdf/a-3a", "pdf/a-2a")
"""PDF variants thinka prints: accessible PDF/UA-1 (default), or tagged PDF/A for archiving."""
DEFAULT_VARIANT = VARIANTS[0]
_CREATED = re.compile(r'<meta name="dcterms.created" content="([^"]+)"')


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ThinkaError(f"Unknown PDF variant {variant!r}; allowed: {', '.join(VARIANTS)}.",
                          hint="Set report.pdf_variant in phase.yaml or thinka.yaml, or pass --pdf-variant.")
    return variant


def page_epoch(html_text: str) -> int:
    """Seconds since 1970 of the page's dcterms.created stamp (the report date or SOURCE_DATE_EPOCH); 0 if none."""
    m = _CREATED.search(html_text)
    if not m:
        return 0
    return int(dt.datetime.fromisoformat(m.group(1).replace("Z", "+00:00")).timestamp())


@contextlib.contextmanager
def source_date_epoch(epoch: int):
    """SOURCE_DATE_EPOCH for the tools of the print (fontTools), unless the caller set one; restored afterwards."""
    if os.environ.get("SOURCE_DATE_EPOCH") is not None:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)


def write_pdf(html_path: Path, pdf_path: Path, *, variant: str = DEFAULT_VARIANT) -> Path:
    """Print `html_path` to `pdf_path` (written atomically) as a tagged PDF of `variant`. The page is
    self-contained, so no base URL is given: links to the site pages and CSV files stay relative (valid beside the
    PDF, and the same bytes wherever the project folder lives)."""
    from thinka.io import atomic_write_bytes

    with warnings.catch_warnings():
        # Debian 12's HarfBuzz has no subset library; WeasyPrint 70 only announces it will need it one day.
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        from weasyprint import HTML

    html_path, pdf_path = Path(html_path), Path(pdf_path)
    if not html_path.is_file():
        raise ThinkaError(f"Cannot print {html_path}: the file does not exist.")
    data = html_path.read_bytes()
    # WeasyPrint logs every CSS property it ignores; the report's CSS is shared with browsers, so keep it quiet.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    text = data.decode("utf-8")
    document = HTML(string=text, base_url=None, media_type="print")
    with source_date_epoch(page_epoch(text)), warnings.catch_warnings():
        # WeasyPrint 70 leaves its sRGB profile file open for PDF/A output intents; collect it here, quietly.
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = document.write_pdf(pdf_identifier=pdf_identifier(data), pdf_variant=check_variant(variant),
                                 pdf_tags=True)
        gc.collect()
    return atomic_write_bytes(pdf_path, pdf, within=html_path.parent)  # the PDF goes beside the page it prints
