import io

import pytest
from django.core.management import call_command


@pytest.fixture
def handbook(db):
    """The real handbook: the three municipalities, their guidelines and the demo people."""
    call_command("load_handbook", stdout=io.StringIO())


@pytest.fixture(autouse=True)
def _no_axes_lockouts(settings):
    # Tests log in often with the test client; throttling is tested on its own with AXES_ENABLED on.
    settings.AXES_ENABLED = False
