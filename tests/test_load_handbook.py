import io

import pytest
from django.core.management import call_command

from people.models import Organisation, Person, Unit
from policies.models import ChangeKind, Policy, PolicyVersion, Resource, Section, Status

from .factories import publish_version

pytestmark = pytest.mark.django_db


def _load(**kwargs) -> str:
    out = io.StringIO()
    call_command("load_handbook", stdout=out, **kwargs)
    return out.getvalue()


def _counts():
    return tuple(
        m.objects.count()
        for m in (Organisation, Unit, Person, Policy, PolicyVersion, Section, Resource)
    )


def test_loads_the_three_municipalities_and_their_guidelines():
    _load()
    assert set(Organisation.objects.values_list("slug", flat=True)) == {
        "bergen",
        "moskenes",
        "bodo",
    }
    moskenes = Policy.objects.get(organisation__slug="moskenes", slug="sosiale-medier")
    v1, v2 = moskenes.versions.order_by("number")
    assert (v1.status, v1.change_kind, v1.adopted_by) == (
        Status.SUPERSEDED,
        ChangeKind.MATERIAL,
        "Arbeidsmiljøutvalget (AMU)",
    )
    assert str(v1.adopted_on) == "2015-12-14"
    assert (v2.status, v2.change_kind) == (Status.PUBLISHED, ChangeKind.EDITORIAL)
    assert "opptretr" in v1.body and "opptretr" not in v2.body
    bodo = Policy.objects.get(organisation__slug="bodo")
    assert bodo.audience_elected and bodo.audience_all
    assert Resource.objects.count() == 2


def test_loading_twice_changes_nothing():
    _load()
    before = _counts()
    output = _load()
    assert _counts() == before
    assert "ingenting å gjøre" in output


def test_loader_never_overwrites_what_an_editor_published_since():
    _load()
    bergen = Policy.objects.get(organisation__slug="bergen")
    editor_version = publish_version(bergen, body="## Ny tekst\n\nRedaktørens tekst.")
    _load()
    bergen.refresh_from_db()
    assert bergen.versions.current().get() == editor_version
    assert bergen.versions.count() == 2


def test_demo_people_only_when_demo_data_is_on(settings):
    settings.DEMO_DATA = False
    _load()
    assert not Person.objects.exists()
    settings.DEMO_DATA = True
    _load()
    ansatt = Person.objects.get(username="ansatt.bergen")
    assert ansatt.check_password("demo")
    assert ansatt.organisation.slug == "bergen" and ansatt.unit is not None
    leder = Person.objects.get(username="leder.bergen")
    assert leder.managed_units.exists()
    assert Person.objects.get(username="redaktor.moskenes").is_editor


def test_dry_run_writes_nothing():
    output = _load(dry_run=True)
    assert "Tørrkjøring" in output
    assert not Organisation.objects.exists()
