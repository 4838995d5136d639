"""thinka: the monitoring Datenreport of a social-integration programme, rebuilt from its survey data.

Researchers start with :func:`thinka.api.load_tables`; the command line is ``thinka --help``.
"""

__version__ = "0.1.0"

ALL_SITES = "all"
"""Site parameter and `site` value of rows that aggregate over every site."""

COMPARISON = "comparison"
"""Unit kind of the comparison with the previous Förderphase, beside the codebook's dimensions (reserved id)."""
