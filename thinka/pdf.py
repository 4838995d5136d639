"""PDF stage: the stitched HTML Datenreport printed to an A4 PDF with WeasyPrint.

Page layout (A4, page numbers, page breaks, TOC page numbers, outline) lives in the report's print CSS
(templates/report.css, `@media print`), so the HTML and the PDF cannot drift apart. Reproducibility: the
creation and modification dates come from the page's dcterms metadata (SOURCE_DATE_EPOCH or the report date),
and the PDF /ID is derived from the HTML, so equal inputs give byte-identical PDFs.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from pathlib import Path

from thinka.errors import ThinkaError


def pdf_identifier(html_bytes: bytes) -> bytes:
    """A deterministic /ID: WeasyPrint would otherwise write none, other tools a random one."""
    return hashlib.sha256(html_bytes).hexdigest()[:32].encode()


def write_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print `html_path` to `pdf_path` (written atomically). The page is self-contained, so no base URL is given:
    links to the site pages and CSV files stay relative (valid beside the PDF, and the same bytes wherever the
    project folder lives)."""
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
    document = HTML(string=data.decode("utf-8"), base_url=None, media_type="print")
    pdf = document.write_pdf(pdf_identifier=pdf_identifier(data))
    return atomic_write_bytes(pdf_path, pdf, within=html_path.parent)  # the PDF goes beside the page it prints
