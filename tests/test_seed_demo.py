import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from people.models import Person, Unit
from policies import dashboards
from policies.access import manager_scope
from policies.compliance import obligations_for
from policies.models import Acknowledgement, Policy

from .factories import make_person

pytestmark = pytest.mark.django_db


def _seed(**kwargs) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **kwargs)
    return out.getvalue()


def _counts() -> tuple[int, int]:
    return Person.objects.count(), Acknowledgement.objects.count()


@pytest.fixture
def seeded(handbook) -> list[Person]:
    """The handbook with the demo activity; returns the people seed_demo created."""
    before = set(Person.objects.values_list("pk", flat=True))
    _seed()
    return list(Person.objects.exclude(pk__in=before).select_related("organisation"))


def test_each_municipality_gets_a_few_dozen_people_and_confirmations(seeded):
    today = timezone.localdate()
    for slug in ("bergen", "moskenes", "bodo"):
        people = [p for p in seeded if p.organisation.slug == slug]
        assert 25 <= len(people) <= 40
        assert all(p.email.endswith("@example.invalid") for p in people)
        # Some joined their unit in the last two weeks, so their deadline is still ahead.
        assert any(
            p.unit_since and p.unit_since > today - datetime.timedelta(days=14) for p in people
        )
        leavers = [p for p in people if not p.is_active]
        assert 1 <= len(leavers) <= 2
        # Leavers are deactivated, never deleted: their confirmations remain as evidence.
        assert all(Acknowledgement.objects.filter(person=p).exists() for p in leavers)
        acknowledged = set(
            Acknowledgement.objects.filter(person__in=people).values_list("person_id", flat=True)
        )
        assert 0.55 <= len(acknowledged) / len(people) <= 0.75
    assert any(p.is_elected_official for p in seeded if p.organisation.slug == "bodo")
    assert not any(p.is_elected_official for p in seeded if p.organisation.slug != "bodo")


def test_confirmations_are_of_the_exact_text_and_in_the_past(seeded):
    acks = Acknowledgement.objects.filter(person__in=seeded).select_related("version")
    assert acks.exists()
    now = timezone.now()
    for ack in acks:
        assert ack.text_hash == ack.version.text_hash
        assert ack.acknowledged_at < now


def test_people_land_in_the_units_the_demo_managers_lead(seeded):
    home_nursing = Unit.objects.get(name="Bergenhus hjemmesykepleie")
    assert any(p.unit_id == home_nursing.pk for p in seeded)
    for unit_name in ("Oppvekst", "Oppvekst og kultur"):
        unit = Unit.objects.get(name=unit_name)
        subtree = set(Unit.objects.subtree_of([unit]).values_list("pk", flat=True))
        assert sum(p.unit_id in subtree for p in seeded) >= 5


def test_running_twice_creates_nothing(seeded):
    before = _counts()
    output = _seed()
    assert _counts() == before
    assert "ingenting å gjøre" in output


def test_refuses_when_demo_data_is_off(handbook, settings):
    settings.DEMO_DATA = False
    before = _counts()
    with pytest.raises(CommandError, match="aldri inn eksempeldata i produksjon"):
        _seed()
    assert _counts() == before


def test_make_run_skips_it_without_error_when_demo_data_is_off(handbook, settings):
    settings.DEMO_DATA = False
    before = _counts()
    output = _seed(if_enabled=True)
    assert "Demodata er slått av" in output
    assert _counts() == before


def test_dry_run_writes_nothing(handbook):
    before = _counts()
    output = _seed(dry_run=True)
    assert "tørrkjøring" in output
    assert "Bergen kommune: 36 nye personer" in output
    assert _counts() == before
    # And a real run afterwards still creates everything.
    _seed()
    assert _counts()[0] > before[0]


def test_existing_people_with_a_generated_username_are_left_alone(handbook):
    bergen = Person.objects.get(username="leder.bergen").organisation
    someone = make_person(
        bergen, username="b5001@bergen", first_name="Ekte", last_name="Person", email="x@y.no"
    )
    _seed()
    someone.refresh_from_db()
    assert (someone.first_name, someone.email, someone.is_active) == ("Ekte", "x@y.no", True)
    assert not Acknowledgement.objects.filter(person=someone).exists()
    # The demo logins from load_handbook get no confirmations either: they are for trying it out.
    logins = ["ansatt.bergen", "leder.bergen", "ansatt.moskenes", "ansatt.bodo", "folkevalgt.bodo"]
    assert not Acknowledgement.objects.filter(person__username__in=logins).exists()


def test_leder_bergen_sees_people_and_partial_compliance(seeded):
    manager = Person.objects.get(username="leder.bergen")
    # As policies.views.manager.overview does it.
    scope = manager_scope(manager)
    row_units = list(Unit.objects.filter(path__in=scope.unit_paths).order_by("name"))
    data = dashboards.overview(scope, row_units)
    assert data.total.must > 10
    assert 0 < data.total.compliant < data.total.must
    assert data.total.overdue > 0
    policy = Policy.objects.get(organisation=manager.organisation, slug="sosiale-medier")
    page = dashboards.person_page(scope, policy)
    assert page.total == data.total.must
    assert {row.unit_name for row in page.rows} >= {
        "Byrådsavdeling for helse og omsorg",
        "Bergenhus hjemmesykepleie",
    }
    # New joiners who have not confirmed yet are not overdue.
    assert any(not row.is_confirmed and not row.is_overdue for row in page.rows)


def test_moskenes_people_who_confirmed_only_version_1_are_compliant(seeded):
    policy = Policy.objects.get(organisation__slug="moskenes", slug="sosiale-medier")
    v1, v2 = policy.versions.order_by("number")
    only_v1 = [
        p
        for p in seeded
        if p.is_active
        and Acknowledgement.objects.filter(person=p, version=v1).exists()
        and not Acknowledgement.objects.filter(person=p, version=v2).exists()
    ]
    assert len(only_v1) >= 2
    for person in only_v1:
        ack = Acknowledgement.objects.get(person=person, version=v1)
        assert ack.acknowledged_at < v2.published_at
        (obligation,) = obligations_for(person)
        assert obligation.is_confirmed
    scope = dashboards.Scope(organisation_id=policy.organisation_id)
    rows = {r.person_id: r for r in dashboards.iter_person_rows(scope, policy)}
    for person in only_v1:
        assert rows[person.pk].is_confirmed
        assert rows[person.pk].acknowledged_number == 1


def test_no_generated_person_can_log_in(seeded, client):
    for person in seeded:
        assert not person.has_usable_password()
    for person in seeded[:5]:
        assert not client.login(username=person.username, password="demo")
        assert not client.login(username=person.username, password="")


def test_bergen_speaks_nynorsk_in_the_demo_with_a_translation_marked_as_made_for_it(seeded, client):
    from people.models import Organisation
    from policies.models import Translation

    assert Organisation.objects.get(slug="bergen").language == "nn"
    translation = Translation.objects.get(version__policy__organisation__slug="bergen")
    assert translation.is_published and translation.language == "nn"
    assert "ikkje ein offisiell tekst" in translation.note
    # ansatt.bergen has no målform of their own: they get Bergen's, interface and policy alike.
    client.force_login(Person.objects.get(username="ansatt.bergen"))
    html = client.get("/bergen/sosiale-medier/").content.decode()
    assert '<html lang="nn"' in html
    assert 'lang="nn">Retningsliner for sosiale medium</h1>' in html
    assert "ikkje ein offisiell tekst" in html
    # A second run changes nothing, and a kommune switched back keeps its choice.
    Organisation.objects.filter(slug="bergen").update(language="")
    _seed()
    assert Organisation.objects.get(slug="bergen").language == ""
    assert Translation.objects.count() == 1
