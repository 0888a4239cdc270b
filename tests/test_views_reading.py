import importlib
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.language import organisation_language
from policies.models import Visibility

from .factories import make_organisation, make_person, make_policy, publish_version

pytestmark = pytest.mark.django_db


def test_front_page_lists_the_organisations_for_visitors(client, handbook):
    html = client.get("/").content.decode()
    for name in ("Bergen kommune", "Moskenes kommune", "Bodø kommune"):
        assert name in html
    assert 'lang="nb"' in html
    assert 'href="#main"' in html and 'id="main"' in html


def test_organisation_handbook_lists_policies_with_version_and_date(client, handbook):
    html = client.get("/moskenes/").content.decode()
    assert "Veileder for bruk av sosiale medier" in html
    assert '<td data-label="Versjon">2</td>' in html
    assert "15.01.2016" in html


def test_policy_page_shows_metadata_contents_body_and_history(client, handbook):
    html = client.get("/moskenes/sosiale-medier/").content.decode()
    assert "Arbeidsmiljøutvalget (AMU) 14.12.2015" in html
    # The import or publishing date is the editors' business; readers get "Gyldig fra".
    assert "Gyldig fra" in html and "<dt>Publisert</dt>" not in html
    assert 'aria-labelledby="innholdsfortegnelse"' in html
    assert "Versjonshistorikk" in html
    assert 'href="/moskenes/sosiale-medier/versjon/1/"' in html


def test_every_contents_link_resolves_to_a_heading_id(client, handbook):
    for url in ("/bergen/sosiale-medier/", "/moskenes/sosiale-medier/", "/bodo/sosiale-medier/"):
        html = client.get(url).content.decode()
        toc = html[
            html.index('class="policy-toc"') : html.index(
                "</nav>", html.index('class="policy-toc"')
            )
        ]
        anchors = re.findall(r'href="#([^"]+)"', toc)
        assert len(anchors) >= 3
        ids = set(re.findall(r'<h[2-6] id="([^"]+)"', html))
        assert set(anchors) <= ids, url


def test_old_version_is_marked_as_not_current(client, handbook):
    html = client.get("/moskenes/sosiale-medier/versjon/1/").content.decode()
    assert "Dette er ikke gjeldende versjon" in html
    assert 'href="/moskenes/sosiale-medier/">versjon 2</a>' in html
    current = client.get("/moskenes/sosiale-medier/versjon/2/").content.decode()
    assert "Dette er gjeldende versjon" in current


@pytest.mark.parametrize(
    "url",
    [
        "/finnes-ikke/",
        "/bergen/finnes-ikke/",
        "/moskenes/sosiale-medier/versjon/99/",
        "/moskenes/sosiale-medier/versjon/0/",
        "/ressurser/finnes-ikke/",
    ],
)
def test_unknown_addresses_get_a_norwegian_404_page(client, handbook, url):
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert "Fant ikke siden" in html
    assert "Traceback" not in html


def test_drafts_and_scheduled_versions_are_not_readable_by_number(client):
    import datetime

    from django.utils import timezone

    from policies.workflow import create_draft

    policy = make_policy(make_organisation())
    publish_version(
        policy, body="Kommer", effective_from=timezone.localdate() + datetime.timedelta(days=5)
    )
    create_draft(policy, by=None)
    url = policy.get_absolute_url()
    assert client.get(f"{url}versjon/2/").status_code == 404
    assert "Kommer" not in client.get(url).content.decode()


def test_internal_policy_asks_visitors_to_log_in(client):
    organisation = make_organisation()
    policy = make_policy(organisation, visibility=Visibility.INTERNAL, title="Intern rutine")
    response = client.get(policy.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith("/logg-inn/?next=")
    assert client.get(f"{policy.get_absolute_url()}versjon/1/").status_code == 302
    assert "Intern rutine" not in client.get(f"/{organisation.slug}/").content.decode()


def test_internal_policy_is_readable_by_its_own_organisation_only(client):
    organisation = make_organisation()
    policy = make_policy(organisation, visibility=Visibility.INTERNAL, title="Intern rutine")
    client.force_login(make_person(make_organisation()))
    assert client.get(policy.get_absolute_url()).status_code == 404
    assert "Intern rutine" not in client.get(f"/{organisation.slug}/").content.decode()
    client.force_login(make_person(organisation))
    assert client.get(policy.get_absolute_url()).status_code == 200
    assert "Intern rutine" in client.get(f"/{organisation.slug}/").content.decode()


def test_public_policy_is_readable_without_logging_in(client):
    policy = make_policy(make_organisation(), visibility=Visibility.PUBLIC, title="Åpen rutine")
    response = client.get(policy.get_absolute_url())
    assert response.status_code == 200
    assert "Åpen rutine" in response.content.decode()


def test_retired_policy_leaves_the_handbook_but_its_page_remains(client):
    from policies.workflow import retire

    policy = make_policy(make_organisation(), title="Gammel rutine")
    retire(policy, by=None)
    assert "Gammel rutine" not in client.get(f"/{policy.organisation.slug}/").content.decode()
    html = client.get(policy.get_absolute_url()).content.decode()
    assert "trukket tilbake" in html


def test_script_in_a_body_never_reaches_the_page(client):
    policy = make_policy(
        make_organisation(),
        body="## Test\n\n<script>alert('x')</script><img src=x onerror=alert(1)>",
    )
    html = client.get(policy.get_absolute_url()).content.decode()
    assert "alert(" not in html


def test_policy_page_for_an_anonymous_reader_takes_at_most_four_queries(client, handbook):
    # The kommune's målform costs the first visitor of the minute one more query (people.language).
    organisation_language("moskenes")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/moskenes/sosiale-medier/")
    assert response.status_code == 200
    assert len(queries) <= 4, [q["sql"] for q in queries]


def test_login_with_a_demo_account_works(client, handbook):
    response = client.post("/logg-inn/", {"username": "ansatt.bergen", "password": "demo"})
    assert response.status_code == 302
    html = client.get("/bergen/").content.decode()
    assert "Logg ut" in html and "Kari Nordmann" in html


def test_wrong_password_gets_a_norwegian_message(client, handbook):
    response = client.post("/logg-inn/", {"username": "ansatt.bergen", "password": "feil"})
    assert response.status_code == 200
    assert "Feil brukernavn eller passord" in response.content.decode()


def test_logging_out_requires_a_post(client, handbook):
    client.login(username="ansatt.bergen", password="demo")
    assert client.get("/logg-ut/").status_code == 200
    assert "_auth_user_id" in client.session
    client.post("/logg-ut/")
    assert "_auth_user_id" not in client.session


def test_resources_are_shown_apart_and_not_confirmable(client, handbook):
    html = client.get("/").content.decode()
    assert "Bakgrunnsstoff" in html
    page = client.get("/ressurser/porsgrunn-tankerekke/").content.decode()
    assert "ikke en retningslinje du må bekrefte" in page
    assert "Jeg har lest og forstått" not in page


@pytest.mark.parametrize(
    "language,unknown", [("nb", "Ikke oppgitt i kilden"), ("nn", "Ikkje oppgitt i kjelda")]
)
def test_a_resource_without_a_publisher_says_so_in_the_readers_malform(
    client, handbook, settings, language, unknown
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    for url in ["/bergen/", "/moskenes/", "/ressurser/difi-veiledning/"]:
        html = client.get(url).content.decode()
        assert unknown in html, url
        # The publisher that is known is the resource's own bokmål, marked so.
        assert "Ikke oppgitt" not in html or language == "nb", url
    html = client.get("/bergen/").content.decode()
    assert '<span lang="nb">I all offentlighet (Alf Tore Meling)</span>' in html


def test_the_migration_empties_a_stored_unknown_publisher():
    from django.apps import apps

    from policies.models import Resource

    migration = importlib.import_module("policies.migrations.0014_resource_publisher_optional")
    unknown = Resource.objects.create(
        slug="ukjent", title="Ukjent", publisher="Ikke oppgitt i kilden (artikkel)", body="Tekst."
    )
    known = Resource.objects.create(slug="kjent", title="Kjent", publisher="KS", body="Tekst.")
    migration.empty_unknown_publishers(apps, None)
    unknown.refresh_from_db()
    known.refresh_from_db()
    assert (unknown.publisher, known.publisher) == ("", "KS")


def test_an_anonymous_read_of_a_due_version_shows_it_without_locks_or_writes(client):
    import datetime
    from unittest import mock

    from django.utils import timezone

    from policies.models import Event, PolicyVersion, Status

    policy = make_policy(make_organisation())
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    due = publish_version(policy, body="## Ny\n\nDen nye teksten.", effective_from=tomorrow)
    events_before = Event.objects.count()

    with (
        mock.patch("django.utils.timezone.localdate", return_value=tomorrow),
        CaptureQueriesContext(connection) as queries,
    ):
        page = client.get(policy.get_absolute_url())
        numbered = client.get(f"{policy.get_absolute_url()}versjon/2/")

    assert page.status_code == 200 and numbered.status_code == 200
    assert "Den nye teksten." in page.content.decode()
    sql = [q["sql"].upper() for q in queries]
    assert not [s for s in sql if "FOR UPDATE" in s or "FOR SHARE" in s], sql
    assert not [s for s in sql if s.startswith(("INSERT", "UPDATE", "DELETE"))], sql
    assert Event.objects.count() == events_before
    assert PolicyVersion.objects.get(pk=due.pk).status == Status.SCHEDULED


def test_the_public_only_notice_follows_the_one_readability_rule(client):
    """The handbook says "only public policies" exactly when readable_by hides internal ones."""
    from policies.models import Policy

    home = make_organisation()
    other = make_organisation()
    make_policy(home, title="Intern rutine", visibility=Visibility.INTERNAL)
    readers = {
        "anonymous": None,
        "own": make_person(home),
        "other kommune": make_person(other),
        "no kommune": make_person(None),
        "superuser": make_person(other, is_superuser=True),
    }
    for label, person in readers.items():
        client.logout()
        if person is not None:
            client.force_login(person)
        html = client.get(f"/{home.slug}/").content.decode()
        user = person or AnonymousUser()
        reads_internal = Policy.objects.filter(organisation=home).readable_by(user).exists()
        assert reads_internal == (label in ("own", "superuser")), label
        assert ("Intern rutine" in html) == reads_internal, label
        assert ("Du ser de offentlige retningslinjene" in html) != reads_internal, label
