"""Which målform the interface speaks: the person's choice, the kommune's, the browser's, bokmål."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from people.models import Person

from .factories import make_organisation, make_person, make_policy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache(monkeypatch):
    monkeypatch.setattr("policies.pagecache.STAMP_SECONDS", 0)
    cache.clear()
    yield
    cache.clear()


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def nynorsk_kommune():
    organisation = make_organisation()
    organisation.language = "nn"
    organisation.save()
    return organisation


def test_a_visitor_reads_a_nynorsk_kommune_in_nynorsk_and_a_bokmal_kommune_in_bokmal(client):
    nynorsk = make_policy(nynorsk_kommune())
    bokmal = make_policy(make_organisation())
    page = client.get(nynorsk.get_absolute_url())
    assert html_lang(page) == "nn"
    assert "Hopp til hovudinnhaldet" in page.content.decode()
    assert html_lang(client.get(bokmal.get_absolute_url())) == "nb"


def test_a_neutral_kommune_follows_the_browser(client):
    policy = make_policy(make_organisation())
    page = client.get(policy.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="nn-NO,nn;q=0.9,nb;q=0.5")
    assert html_lang(page) == "nn"
    assert "Accept-Language" in page.headers["Vary"]
    assert html_lang(client.get(policy.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")) == "nb"


def test_a_kommune_with_a_malform_wins_over_the_browser(client):
    policy = make_policy(nynorsk_kommune())
    page = client.get(policy.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="nb-NO,nb")
    assert html_lang(page) == "nn"


def test_a_person_gets_their_kommunes_malform_until_they_choose_their_own(client):
    person = make_person(nynorsk_kommune())
    client.force_login(person)
    assert html_lang(client.get(reverse("me"))) == "nn"
    person.language = "nb"
    person.save()
    assert html_lang(client.get(reverse("me"))) == "nb"


def test_a_visitors_choice_is_a_cookie_and_wins_over_the_kommune(client):
    policy = make_policy(nynorsk_kommune())
    url = policy.get_absolute_url()
    response = client.post(reverse("choose_language"), {"language": "nb", "next": url})
    assert response.status_code == 302
    assert response["Location"] == url
    assert client.cookies["sprak"].value == "nb"
    assert html_lang(client.get(url)) == "nb"
    # Choosing nothing (the kommune's form) forgets the choice.
    client.post(reverse("choose_language"), {"language": "", "next": url})
    assert html_lang(client.get(url)) == "nn"


def test_a_persons_choice_is_stored_on_the_person_and_needs_the_csrf_token():
    person = make_person(make_organisation())
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)
    refused = browser.post(reverse("choose_language"), {"language": "nn", "next": "/meg/"})
    assert refused.status_code == 403
    assert Person.objects.get(pk=person.pk).language == ""
    page = browser.get(reverse("me"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = browser.post(
        reverse("choose_language"),
        {"language": "nn", "next": "/meg/", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert Person.objects.get(pk=person.pk).language == "nn"
    assert html_lang(browser.get(reverse("me"))) == "nn"


@pytest.mark.parametrize("language", ["xx", "en", "nn'><script>"])
def test_a_language_the_interface_does_not_have_changes_nothing(client, language):
    person = make_person(make_organisation())
    client.force_login(person)
    response = client.post(reverse("choose_language"), {"language": language, "next": "/"})
    assert response.status_code == 302
    assert Person.objects.get(pk=person.pk).language == ""


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
)
def test_the_switch_never_sends_anyone_off_site(client, target):
    response = client.post(reverse("choose_language"), {"language": "nn", "next": target})
    assert response["Location"] == "/"


def test_the_switch_only_takes_post(client):
    # A GET (a bookmark) chooses nothing and goes to the front page instead of a blank 405.
    response = client.get(reverse("choose_language"), {"language": "nn"})
    assert (response.status_code, response["Location"]) == (302, "/")
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_page_cache_keeps_the_two_forms_apart(client):
    policy = make_policy(make_organisation())
    url = policy.get_absolute_url()
    nynorsk = client.get(url, HTTP_ACCEPT_LANGUAGE="nn")
    bokmal = client.get(url, HTTP_ACCEPT_LANGUAGE="nb")
    again = client.get(url, HTTP_ACCEPT_LANGUAGE="nn")
    assert html_lang(nynorsk) == "nn" and html_lang(again) == "nn"
    assert html_lang(bokmal) == "nb"


def test_error_pages_speak_the_visitors_form(client):
    page = client.get("/finst-ikkje/", HTTP_ACCEPT_LANGUAGE="nn")
    assert page.status_code == 404
    assert "Fann ikkje sida" in page.content.decode()
    assert html_lang(page) == "nn"
