"""What an import returns, and the collector of problems found while checking a file.

Every check records its problem and carries on, so a rejected file lists all that is wrong
with it at once, in file order. Repairs and warnings do not stop an import; errors do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geo.errors import ImportRejected, Problem


@dataclass
class ImportResult:
    """One successful import: how many rows were written and what was changed on the way."""

    entity: str
    count: int
    repaired: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


class Problems:
    """Errors, repairs and warnings of one file, keyed by row position (0-based) or a place
    such as ``"header"`` or ``"file"``; shown with the file's own row labels."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.labels: list[str] = []
        self._errors: list[tuple[int, int, Problem]] = []
        self._repaired: list[tuple[int, int, Problem]] = []
        self._warnings: list[tuple[int, int, Problem]] = []
        self._failed: set[int] = set()

    def _entry(self, at: int | str, what: str, n: int) -> tuple[int, int, Problem]:
        if isinstance(at, str):
            return (-1, n, Problem(at, what))
        where = self.labels[at] if at < len(self.labels) else f"row {at + 1}"
        return (at, n, Problem(where, what))

    def error(self, at: int | str, what: str) -> None:
        self._errors.append(self._entry(at, what, len(self._errors)))
        if isinstance(at, int):
            self._failed.add(at)

    def repair(self, at: int | str, what: str) -> None:
        self._repaired.append(self._entry(at, what, len(self._repaired)))

    def warn(self, at: int | str, what: str) -> None:
        self._warnings.append(self._entry(at, what, len(self._warnings)))

    def failed(self, at: int) -> bool:
        return at in self._failed

    @property
    def failed_rows(self) -> set[int]:
        return set(self._failed)

    @property
    def repaired_count(self) -> int:
        return len(self._repaired)

    @property
    def errors(self) -> list[Problem]:
        return [p for _, _, p in sorted(self._errors, key=lambda e: (e[0], e[1]))]

    def check(self) -> None:
        """Raise ImportRejected with every error found so far, if any."""
        if self._errors:
            raise ImportRejected(self.source, self.errors)

    def result(self, entity: str, count: int, **details: Any) -> ImportResult:
        def ordered(items: list[tuple[int, int, Problem]]) -> list[Problem]:
            return [p for _, _, p in sorted(items, key=lambda e: (e[0], e[1]))]

        return ImportResult(entity, count, ordered(self._repaired), ordered(self._warnings),
                            dict(details))
