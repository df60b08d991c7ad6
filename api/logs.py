"""What the server writes to its log: no personal data.

uvicorn's access log prints each request line, and query strings can carry what residents
asked about (the coordinates of a lookup are where someone lives or stands) or what staff
filtered by. The access log keeps method, path, status and client, never the query string;
request bodies (names, phones of reporters) are never logged at all.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import uvicorn.config


class NoQueryString(logging.Filter):
    """Cut the query string from uvicorn's access records (args: client, method, path,
    http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging settings with the filter on its access log."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query"] = {"()": NoQueryString}
    config["handlers"]["access"]["filters"] = ["no_query"]
    return config
