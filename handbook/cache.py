"""Django's Redis cache backend, keeping its redis-py client objects instead of making new ones.

Django's RedisCacheClient builds a new `redis.Redis` around the shared connection pool for every
cache call, and each one copies redis-py's table of some 170 response callbacks: on a signed-in
policy page (the session and the shared page, two reads) that was a tenth of the request's CPU.
A `redis.Redis` is safe to share between threads (each command takes a connection from the
pool), so one per pool is kept. Everything else is Django's backend unchanged.
"""

from __future__ import annotations

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
