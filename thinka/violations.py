"""One problem found in an input file (a raw export, a filled-in entry sheet, a survey-tool mapping).

Its own module because the readers that find problems (thinka.validate, thinka.mapping, thinka.entry_template) call
each other; each imports this one, none has to import another for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    allowed: str
    hint: str | None = None

    def format(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        parts = [f"{where}:"]
        if self.column is not None:
            parts.append(f" column '{self.column}':")
        if self.value is not None:
            parts.append(f" value '{self.value}'")
        parts.append(f" — {self.rule}; allowed: {self.allowed}")
        if self.hint:
            parts.append(f" ({self.hint})")
        return "".join(parts)
