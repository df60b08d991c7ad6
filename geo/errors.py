"""Domain errors: plain exceptions, mapped to HTTP status in one place (api/errors.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


class GridgovError(Exception):
    """Base of every error we raise on purpose."""


class SetupError(GridgovError):
    """The environment is not ready (missing binaries, database not started)."""


class NotFound(GridgovError):
    """The thing asked for does not exist."""


class Unauthorized(GridgovError):
    """No valid credentials for something that needs them (HTTP 401)."""


class Forbidden(GridgovError):
    """Credentials are fine but the role may not do this (HTTP 403)."""


class Conflict(GridgovError):
    """The object changed or is still referenced (HTTP 409/412)."""


class PreconditionFailed(Conflict):
    """The client edited from a stale copy: its If-Match names an older version (HTTP 412)."""


@dataclass
class DraftInvalid(Conflict):
    """A draft that fails validation cannot be activated (HTTP 409); ``problems`` are GeoJSON
    features, each with its location."""

    message: str
    problems: list[dict[str, object]] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


class PreconditionRequired(GridgovError):
    """An edit without If-Match, which could overwrite someone else's change (HTTP 428)."""


class InvalidInput(GridgovError):
    """The request or file is wrong in a way the user can fix."""


@dataclass
class Problem:
    """One thing wrong with one row or feature of an input file."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass
class ImportRejected(InvalidInput):
    """A file that cannot be imported; nothing was written."""

    source: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"{self.source}: {len(self.problems)} problem(s), nothing imported"
        shown = "\n".join(f"  - {p}" for p in self.problems[:20])
        more = f"\n  … and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        return f"{head}\n{shown}{more}"


class TooLarge(InvalidInput):
    """An upload over its size limit (HTTP 413)."""
