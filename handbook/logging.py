"""Logging filters for the one settings file's LOGGING."""

from __future__ import annotations

import logging


class ExpectedRefusalsOnOneLine(logging.Filter):
    """A 4xx answer is the portal working as meant (a wrong address, a page someone may not see):
    log it as one line. Django attaches the exception to "Forbidden" and "Bad request" records,
    which would print a full traceback for every refused request and hide real errors."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True
