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
def _default_language():
    # A request through the test client leaves its language active in this thread (as Django's own
    # LocaleMiddleware does); a test calling the domain directly must start in bokmål.
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache():
    # Pages cached for anonymous readers must not carry one test's database into the next.
    from django.core.cache import cache

    from policies import pageparts

    cache.clear()
    pageparts.forget_recent()


@pytest.fixture(scope="session")
def oidc(tmp_path_factory):
    """Four real OpenID Connect provider processes on free ports (see tests/oidc_providers.py)."""
    from .oidc_providers import start_all

    providers = start_all(tmp_path_factory.mktemp("oidc-keys"))
    yield providers
    for provider in providers.all():
        provider.stop()


@pytest.fixture
def smtp_sink(settings, empty_job_queue):
    """A real SMTP server (aiosmtpd) on a free port, and the portal's e-mail settings pointing at it."""
    from .smtp_sink import SmtpSink

    sink = SmtpSink()
    sink.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_TIMEOUT = 5
    yield sink
    sink.stop()


def _empty_job_queue(django_db_blocker) -> None:
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_periodic_defers, "
            "procrastinate_workers, procrastinate_events CASCADE"
        )


@pytest.fixture
def empty_job_queue(django_db_blocker):
    """procrastinate's tables are not emptied between transactional tests: start from none."""
    _empty_job_queue(django_db_blocker)
    yield
    _empty_job_queue(django_db_blocker)


@pytest.fixture(autouse=True)
def _no_jobs_left_behind(request, django_db_blocker):
    # Django flushes its own tables after a transactional test, not procrastinate's: a job one
    # such test deferred (a publish's change notices, a reminder run) would otherwise still be
    # waiting in the next test, which then counts it as its own.
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        _empty_job_queue(django_db_blocker)
