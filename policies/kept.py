"""What an app process keeps of rendered parts between requests, and the CSRF token's stand-in.

Parts that are the same for many readers (the shared page, the main menu, the language switch, the
confirmation parts) are rendered once per process under a key that names everything they show. A part with a
form is rendered with TOKEN where the CSRF token goes, and each response puts its own in
(`with_token`).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

# Stands for the CSRF token in a kept part: letters and digits (as Django's masked token is), so
# escaping leaves it as it is.
TOKEN = f"csrftoken{secrets.token_hex(16)}"


def with_token(html: str, token) -> str:
    """`html` rendered with TOKEN, with this response's CSRF token in its place."""
    return html.replace(TOKEN, str(token))


class Kept:
    """At most `size` values by key, the least recently used dropped first; safe across threads."""

    def __init__(self, size: int):
        self._size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def get_or_make(self, key, make):
        """The value kept under `key`, or `make()`'s, kept from now on."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def discard(self, key) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
