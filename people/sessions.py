"""Sessions kept in the database and read from the shared cache (Django's cached_db, hardened).

A signed-in page then asks the database nothing for the session: the session is read from Redis,
which every app server shares, and written to both (the database stays the durable copy, so a
Redis restart signs nobody out). Used only with a shared cache (settings: REDIS_URL); a
per-process memory cache would let a session deleted on one server live on in another.

Two differences from `django.contrib.sessions.backends.cached_db`, both for signing out:

- A deleted session leaves a tombstone in the cache (until the longest a session can live),
  instead of no entry. A server that read the session from the database just before the sign-out
  fills the cache with `add`, which a tombstone refuses, so the session cannot come back.
- Deleting removes it from the cache first and refuses (raises) when the cache cannot be reached:
  signing out then fails visibly and changes nothing, instead of leaving a session in a cache that
  may come back with it. Reading falls back to the database when the cache is down.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import caches

logger = logging.getLogger(__name__)

DELETED = "deleted"


class SessionStore(CachedDBStore):
    def __init__(self, session_key=None):
        # The cache is looked up when first used, not here: a cache that cannot even be set up
        # must not cost a page that never reads its session (the health check, an anonymous one).
        super(CachedDBStore, self).__init__(session_key)

    @property
    def _cache(self):
        return caches[settings.SESSION_CACHE_ALIAS]

    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception as exc:  # an unreachable cache costs a query, not the session
            logger.warning("Session cache unreachable, reading the database: %s", exc)
            data = None
        if data == DELETED:
            self._session_key = None
            return {}
        if data is None:
            stored = self._get_session_from_db()
            if not stored:
                return {}
            data = self.decode(stored.session_data)
            self.remember(data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def remember(self, data: dict, timeout: int) -> None:
        """Put what was read from the database into the cache, unless something is there already
        (a newer save, or the tombstone of a sign-out that happened meanwhile)."""
        try:
            self._cache.add(self.cache_key, data, timeout)
        except Exception as exc:
            logger.warning("Session cache unreachable: %s", exc)

    def exists(self, session_key):
        try:
            return super().exists(session_key)
        except Exception as exc:
            logger.warning("Session cache unreachable, asking the database: %s", exc)
            return super(CachedDBStore, self).exists(session_key)

    def save(self, must_create=False):
        # The database first (it may refuse a duplicate key); the cache is overwritten after. If the
        # cache cannot be written, the old entry is removed (or that fails too, and the save with it).
        super(CachedDBStore, self).save(must_create)
        try:
            self._cache.set(self.cache_key, self._session, self.get_expiry_age())
        except Exception:
            logger.exception("Session cache unreachable while saving")
            self._cache.delete(self.cache_key)

    def delete(self, session_key=None):
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        # Raises when the cache is unreachable, before the database row is touched.
        self._cache.set(self.cache_key_prefix + session_key, DELETED, settings.SESSION_COOKIE_AGE)
        super(CachedDBStore, self).delete(session_key)
