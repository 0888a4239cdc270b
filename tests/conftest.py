import io

import pytest
from django.core.management import call_command


@pytest.fixture
def handbook(db):
    """The real handbook: the three municipalities, their guidelines and the demo people."""
    call_command("load_handbook", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Tests log in often with the test client; throttling is tested on its own with AXES_ENABLED on.
    settings.AXES_ENABLED = False
    # A deliberately slow password hash is the point in production and pure waiting in tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    # Pages cached for anonymous readers must not carry one test's database into the next.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def oidc(tmp_path_factory):
    """Four real OpenID Connect provider processes on free ports (see tests/oidc_providers.py)."""
    from .oidc_providers import start_all

    providers = start_all(tmp_path_factory.mktemp("oidc-keys"))
    yield providers
    for provider in providers.all():
        provider.stop()
