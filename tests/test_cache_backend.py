"""The shared cache's backend (handbook.cache): Django's Redis backend, its clients kept."""

import pytest
from django.conf import settings
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _redis():
    if settings.CACHES["default"]["BACKEND"] != "handbook.cache.RedisCache":
        pytest.skip("the Redis backend is used only with a shared cache (REDIS_URL)")


def test_every_cache_call_uses_the_same_redis_client():
    client = cache._cache.get_client("a")
    assert cache._cache.get_client("b", write=True) is client


def test_the_kept_client_reads_and_writes_as_djangos_own():
    cache.set("handbook-cache-test", {"tall": [1, 2]}, 30)
    assert cache.get("handbook-cache-test") == {"tall": [1, 2]}
    assert cache.add("handbook-cache-test", "annet", 30) is False
    cache.delete("handbook-cache-test")
    assert cache.get("handbook-cache-test") is None
