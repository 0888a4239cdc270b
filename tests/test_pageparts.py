"""The policy page from the shared cache, each reader's own parts rendered around it
(policies.pageparts)."""

import datetime
import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from people.models import Organisation, Person
from policies import kept, pageparts
from policies.access import get_readable_policy_page
from policies.acknowledgements import acknowledge
from policies.authoring import change_look
from policies.models import Event, EventVerb, Visibility
from policies.views import reading
from policies.workflow import retire

from .factories import make_organisation, make_person, make_policy, publish_version

pytestmark = pytest.mark.django_db

MOSKENES = "/moskenes/sosiale-medier/"


def person(username):
    return Person.objects.get(username=username)


def _without_tokens(html: str) -> str:
    # A CSRF token is masked anew on every render; the secret behind it is the same.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', html)


def _whole(client, path, monkeypatch) -> str:
    with monkeypatch.context() as patched:
        patched.setattr(reading, "SHARED_PAGE", False)
        response = client.get(path)
    assert response.status_code == 200
    return _without_tokens(response.content.decode())


def _from_parts(client, path) -> tuple[str, str]:
    miss, hit = client.get(path), client.get(path)
    assert miss.status_code == hit.status_code == 200
    return _without_tokens(miss.content.decode()), _without_tokens(hit.content.decode())


@pytest.mark.parametrize(
    ("username", "query"),
    [
        ("ansatt.moskenes", ""),
        ("leder.moskenes", ""),
        ("redaktor.bergen", ""),
        ("ansatt.bergen", ""),
        ("ansatt.moskenes", "?sprak=nn"),
    ],
)
def test_the_page_from_shared_parts_is_the_page_rendered_whole(
    client, handbook, monkeypatch, username, query
):
    client.force_login(person(username))
    whole = _whole(client, MOSKENES + query, monkeypatch)
    miss, hit = _from_parts(client, MOSKENES + query)
    assert miss == whole
    assert hit == whole


def test_an_editor_of_the_kommune_a_confirmed_reader_and_a_nynorsk_reader_get_their_own_page(
    client, monkeypatch
):
    organisation = make_organisation()
    policy = make_policy(organisation, body="## Om\n\nTeksten.\n")
    editor = make_person(organisation, is_editor=True)
    confirmed = make_person(organisation)
    version = policy.versions.get()
    acknowledge(confirmed, version, shown_hash=version.text_hash)
    nynorsk = make_person(organisation, language="nn")
    path = policy.get_absolute_url()
    for reader, expected in (
        (editor, "Rediger i redaksjonen"),
        (confirmed, "Du bekreftet versjon 1"),
        (nynorsk, 'lang="nn"'),
    ):
        client.force_login(reader)
        whole = _whole(client, path, monkeypatch)
        miss, hit = _from_parts(client, path)
        assert miss == whole and hit == whole
        assert expected in hit


def test_a_hit_asks_the_database_two_things(client, handbook):
    # The person; the policy with its event stamp and the obligation, in one statement
    # (access.get_readable_policy_page). The session is in the cache.
    client.force_login(person("ansatt.moskenes"))
    client.get(MOSKENES)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(MOSKENES).content.decode()
    assert len(queries) == 2, [q["sql"] for q in queries]
    assert "Jeg har lest og forstått" in html and "policy-toc" in html


# An anonymous reader's page is made of parts too: the page cache keeps only the address without
# a query string, so these are pages it does not hold.
@pytest.mark.parametrize("query", ["?sprak=nn", "?sprak=nb", "?utm_source=intranett"])
def test_an_anonymous_readers_page_from_shared_parts_is_the_page_rendered_whole(
    client, handbook, monkeypatch, query
):
    whole = _whole(client, MOSKENES + query, monkeypatch)
    miss, hit = _from_parts(client, MOSKENES + query)
    assert miss == whole
    assert hit == whole
    assert "Logg inn" in hit and "Jeg har lest og forstått" not in hit


def test_an_anonymous_page_from_parts_asks_one_thing_and_sets_no_cookie(client, handbook):
    # No CSRF cookie: a page that sets one would not be shared from the caches.
    client.get(MOSKENES + "?sprak=nn")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(MOSKENES + "?sprak=nn")
    assert response.status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]
    assert not response.cookies
    assert "csrfmiddlewaretoken" not in response.content.decode()


def test_an_anonymous_reader_with_a_message_waiting_gets_it_on_the_page_from_parts(
    client, handbook, monkeypatch
):
    # Messages reach a reader without a session in the messages cookie.
    cookie = CookieStorage(HttpRequest())._encode([Message(constants.INFO, "Hei fra redaksjonen")])
    path = MOSKENES + "?sprak=nn"
    client.cookies["messages"] = cookie
    whole = _whole(client, path, monkeypatch)
    client.cookies["messages"] = cookie
    from_parts = _without_tokens(client.get(path).content.decode())
    assert from_parts == whole
    assert "Hei fra redaksjonen" in from_parts


def test_an_internal_policy_asks_an_anonymous_reader_to_log_in_and_another_kommune_gets_404(
    client,
):
    policy = make_policy(make_organisation(), visibility=Visibility.INTERNAL)
    path = policy.get_absolute_url() + "?sprak=nn"
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    client.force_login(make_person(make_organisation()))
    assert client.get(path).status_code == 404
    client.force_login(_reader_of(policy))
    assert client.get(path).status_code == 200


def _reader_of(policy):
    reader = make_person(policy.organisation)
    return reader


def test_a_publish_is_on_the_page_at_the_next_request(client):
    # No on-commit callback runs here: the key itself (the policy's events) has changed.
    policy = make_policy(make_organisation(), body="## Om\n\nFørste tekst.\n")
    client.force_login(_reader_of(policy))
    assert "Første tekst" in client.get(policy.get_absolute_url()).content.decode()
    publish_version(policy, body="## Om\n\nAndre tekst.\n")
    html = client.get(policy.get_absolute_url()).content.decode()
    assert "Andre tekst" in html and "Første tekst" not in html


def test_a_confirmation_is_on_the_page_at_the_next_request(client):
    policy = make_policy(make_organisation())
    reader = _reader_of(policy)
    client.force_login(reader)
    assert "Jeg har lest og forstått" in client.get(policy.get_absolute_url()).content.decode()
    version = policy.versions.get()
    acknowledge(reader, version, shown_hash=version.text_hash)
    html = client.get(policy.get_absolute_url()).content.decode()
    assert "Jeg har lest og forstått" not in html and "Du bekreftet versjon 1" in html


def test_retiring_is_on_the_page_at_the_next_request(client):
    policy = make_policy(make_organisation())
    client.force_login(_reader_of(policy))
    assert "Jeg har lest og forstått" in client.get(policy.get_absolute_url()).content.decode()
    retire(policy, by=None)
    html = client.get(policy.get_absolute_url()).content.decode()
    assert "trukket tilbake" in html and "Jeg har lest og forstått" not in html


def test_a_changed_kommune_look_and_name_are_on_the_page_at_the_next_request(client):
    policy = make_policy(make_organisation())
    client.force_login(_reader_of(policy))
    client.get(policy.get_absolute_url())
    change_look(policy.organisation, by=None, contact_phone="12 34 56 78")
    assert "12 34 56 78" in client.get(policy.get_absolute_url()).content.decode()
    # A rename in the admin writes no event and leaves look_updated_at alone.
    old_name = policy.organisation.name
    Organisation.objects.filter(pk=policy.organisation_id).update(name="Nytt Navn kommune")
    html = client.get(policy.get_absolute_url()).content.decode()
    assert "<strong>Nytt Navn kommune</strong>" in html and old_name not in html


def test_a_changed_language_of_the_person_is_on_the_page_at_the_next_request(client):
    policy = make_policy(make_organisation())
    reader = _reader_of(policy)
    client.force_login(reader)
    assert '<html lang="nb"' in client.get(policy.get_absolute_url()).content.decode()
    Person.objects.filter(pk=reader.pk).update(language="nn")
    assert '<html lang="nn"' in client.get(policy.get_absolute_url()).content.decode()


def test_an_event_committed_after_a_newer_one_still_changes_the_key(client):
    # Two transactions: the first takes an event id, the second a later one and commits first.
    # The page read in between must not be the page after the first commits.
    policy = make_policy(make_organisation())

    reader = _reader_of(policy)

    def key():
        stamped, _ = get_readable_policy_page(reader, policy.organisation.slug, policy.slug)
        return pageparts.key(stamped, None)

    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('policies_event', 'id'))")
        earlier_id = cursor.fetchone()[0]
    Event.objects.create(
        organisation=policy.organisation, policy=policy, verb=EventVerb.SETTINGS_CHANGED, detail={}
    )
    before = key()
    Event.objects.create(
        id=earlier_id,
        organisation=policy.organisation,
        policy=policy,
        verb=EventVerb.SETTINGS_CHANGED,
        detail={},
    )
    assert key() != before


def test_with_the_cache_down_the_signed_in_page_is_rendered(client, settings):
    from .ports import free_port

    policy = make_policy(make_organisation(), body="## Om\n\nTeksten.\n")
    client.force_login(_reader_of(policy))
    settings.CACHES = {
        "default": {
            "BACKEND": "handbook.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    for _ in range(2):
        html = client.get(policy.get_absolute_url()).content.decode()
        assert "Teksten" in html and "Jeg har lest og forstått" in html


def test_an_overdue_and_a_reconfirming_reader_get_their_own_page(client, monkeypatch):
    # The banner and the confirmation block are kept per obligation (pageparts._obligation_parts).
    organisation = make_organisation()
    long_ago = timezone.localdate() - datetime.timedelta(days=90)
    overdue_policy = make_policy(organisation, effective_from=long_ago, deadline_days=14)
    policy = make_policy(organisation, body="## Om\n\nFørste tekst.\n")
    reconfirming = make_person(organisation)
    version = policy.versions.get()
    acknowledge(reconfirming, version, shown_hash=version.text_hash)
    publish_version(policy, body="## Om\n\nAndre tekst.\n")
    overdue = make_person(
        organisation,
        unit_since=long_ago,
        date_joined=timezone.now() - datetime.timedelta(days=90),
    )
    for reader, path, expected in (
        (overdue, overdue_policy.get_absolute_url(), "Fristen for å bekrefte gikk ut"),
        (reconfirming, policy.get_absolute_url(), "Les bare det som er endret"),
        (overdue, policy.get_absolute_url(), "Les og bekreft innen"),
    ):
        client.force_login(reader)
        whole = _whole(client, path, monkeypatch)
        miss, hit = _from_parts(client, path)
        assert miss == whole and hit == whole
        assert expected in hit


def test_the_receipt_after_confirming_is_on_the_page_from_parts(client):
    policy = make_policy(make_organisation(), body="## Om\n\nTeksten.\n")
    reader = _reader_of(policy)
    client.force_login(reader)
    version = policy.versions.get()
    client.get(policy.get_absolute_url())
    response = client.post(
        reverse("confirm", args=[policy.organisation.slug, policy.slug]),
        {"versjon": version.number, "tekst": version.text_hash},
        follow=True,
    )
    html = response.content.decode()
    assert 'id="kvittering"' in html and "Se, skriv ut eller last ned kvitteringen" in html
    # The next view has no message left, and shows the confirmation.
    html = client.get(policy.get_absolute_url()).content.decode()
    assert 'id="kvittering"' not in html and "Du bekreftet versjon 1" in html
    # Every form carries the response's own CSRF token, never the kept parts' stand-in.
    assert kept.TOKEN not in html and 'name="csrfmiddlewaretoken" value="' in html
