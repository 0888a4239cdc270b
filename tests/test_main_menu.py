"""`{% main_menu %}` (policies.templatetags.navigation): the signed-in menu kept per process for
everyone with the same kommune and roles, the same HTML as the partial rendered in place, with
each person's own name and each response's CSRF token."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import engines

from people.models import person_for_request
from policies import kept
from policies.templatetags import navigation

from .factories import make_organisation, make_person, make_unit
from .rendered import side_by_side

pytestmark = pytest.mark.django_db

BOTH = '{% include "partials/_usernav.html" %}|{% main_menu %}'


def _both(path: str, user, language: str = "nb") -> tuple[str, str]:
    return side_by_side(BOTH, path, user, language)


def _signed_in(person):
    # As on a request: the person with their kommune and `manages_units` (people.backends).
    return person_for_request(person.pk)


def _people():
    bergen = make_organisation("Bergen & omegn <kommune>")
    unit = make_unit(bergen)
    return [
        make_person(bergen, first_name="Kari", last_name="Nordmann"),
        make_person(bergen, first_name="Ola <b>", last_name="O'Brien & co"),
        make_person(bergen, manages=[unit], first_name="Leder", last_name="Lie"),
        make_person(bergen, is_editor=True, first_name="Redaktør", last_name="Ro"),
        make_person(None, first_name="Uten", last_name="Kommune"),
        make_person(bergen, sees_whole_organisation=True, is_editor=True),
    ]


@pytest.mark.parametrize("language", ["nb", "nn"])
@pytest.mark.parametrize("path", ["/", "/oversikt/", "/redaksjon/", "/meg/", "/sok/"])
def test_the_kept_menu_is_the_partial_rendered_in_place_for_every_kind_of_person(path, language):
    people = _people()
    for person in [AnonymousUser(), *map(_signed_in, people)]:
        for _ in range(2):  # a miss, then a hit
            included, tagged = _both(path, person, language)
            assert tagged == included
    assert 'name="csrfmiddlewaretoken"' in tagged


def test_the_menu_of_the_kommune_is_shared_and_each_person_sees_their_own_name():
    kari, ola = (_signed_in(person) for person in _people()[:2])
    navigation._menus.clear()
    karis = _both("/", kari)[1]
    olas = _both("/", ola)[1]
    assert len(navigation._menus._items) == 1  # one menu kept for both
    assert "Kari Nordmann" in karis and "Kari Nordmann" not in olas
    assert "Ola &lt;b&gt; O&#x27;Brien &amp; co" in olas and "Ola" not in karis
    assert navigation.NAME not in karis + olas


def test_a_new_role_or_another_kommune_shows_at_once():
    person = _people()[0]
    before = _both("/", _signed_in(person))[1]
    assert "Oversikt" not in before and "Redaksjon" not in before
    person.is_editor = True
    person.save()
    assert "Redaksjon" in _both("/", _signed_in(person))[1]
    person.managed_units.add(make_unit(person.organisation))
    assert "Oversikt" in _both("/", _signed_in(person))[1]
    person.organisation = make_organisation("Moskenes")
    person.save()
    moved = _both("/", _signed_in(person))[1]
    assert "Moskenes" in moved and "Bergen" not in moved


def test_each_response_gets_its_own_token_and_never_the_stand_in():
    person = _signed_in(_people()[0])
    first, second = _both("/", person)[1], _both("/", person)[1]
    assert first != second
    assert kept.TOKEN not in first + second


def test_without_a_request_the_menu_is_rendered_as_it_stands():
    html = engines["django"].from_string(BOTH).render({"user": AnonymousUser()})
    included, tagged = html.split("|")
    assert tagged == included
