"""Structured logs: one JSON object a line, every line carrying the request id, no personal data.

The request id comes from the proxy (nginx sets `X-Request-ID` to its `$request_id`, see
docs/deployment.md) or is made here, is sent back in the response's `X-Request-ID`, and is put on
every log record written while the request runs. A job queued during a request carries it on
(`current_request_id()` gives it to the queue, `bind_request_id()` restores it in the worker), so
one id follows a confirmation from the click to the e-mail it caused.

What is logged about a person is their id, never a name, e-mail address, username or IP address.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject, empty

_request_id: ContextVar[str] = ContextVar("request_id", default="")
_user_id: ContextVar[int | None] = ContextVar("user_id", default=None)

# A proxy's id is taken only when it looks like one (nginx: 32 hex digits); anything else could be
# an attempt to inject text into the logs.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

access_log = logging.getLogger("handbook.request")


def current_request_id() -> str:
    """The id of the request (or job) being handled, or "" outside one."""
    return _request_id.get()


@contextlib.contextmanager
def bind_request_id(request_id: str | None) -> Iterator[str]:
    """Run a job under the id of the request that queued it (or a new one)."""
    value = request_id if request_id and _VALID_ID.match(request_id) else uuid.uuid4().hex
    token = _request_id.set(value)
    try:
        yield value
    finally:
        _request_id.reset(token)


class RequestContextFilter(logging.Filter):
    """Puts `request_id` and `user_id` on every record, so the JSON formatter writes them."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if _request_id.get() or not isinstance(request, HttpRequest):
            record.request_id = _request_id.get() or getattr(record, "request_id", "")
            record.user_id = _user_id.get() or getattr(record, "user_id", None)
        else:
            # Django logs a 5xx page a view returned ("Bad Gateway: …") after the middleware
            # has finished, when the context is gone; the request still carries its id.
            record.request_id = getattr(request, "request_id", "")
            record.user_id = _loaded_user_id(request)
        if isinstance(request, HttpRequest):
            # Django's error lines carry the request, whose repr has the query string (search
            # words can be names): the JSON line would print it. Method and path only.
            record.request = f"{request.method} {request.path}"
        return True


class RequestIdMiddleware:
    """Give every request an id, and write one access line (method, path, status, time, user id).

    The query string is left out of the line: search words (`/sok/?q=…`) can be a person's name.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        id_token = _request_id.set(request_id)
        user_token = _user_id.set(None)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            _user_id.set(_loaded_user_id(request))
            response["X-Request-ID"] = request_id
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _user_id.reset(user_token)
            _request_id.reset(id_token)


def _loaded_user_id(request) -> int | None:
    """The signed-in person's id if the request already loaded them (never an extra query)."""
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject):
        if user._wrapped is empty:
            return None
        user = user._wrapped
    return user.pk if user is not None and user.is_authenticated else None


def axes_client_str(username, ip_address, user_agent, path_info, request) -> str:
    """django-axes logs this instead of the username and IP address of a failed sign-in."""
    return f"{{request_id: {_request_id.get() or '-'}, path: {path_info}}}"


def scrub_sentry_event(event: dict, hint: dict) -> dict:
    """Before an error goes to Sentry: keep the person's id and the request id, drop the rest."""
    user = event.get("user") or {}
    event["user"] = {"id": user["id"]} if "id" in user else {}
    request = event.get("request")
    if request:
        event["request"] = {
            "method": request.get("method"),
            "url": request.get("url", "").split("?")[0],
        }
    event.setdefault("tags", {})["request_id"] = _request_id.get()
    return event
