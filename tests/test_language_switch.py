"""`{% language_switch %}` (policies.templatetags.navigation): the partial kept per process, the
same HTML as the partial rendered in place, with this response's CSRF token."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import engines

from policies import kept

from .factories import make_organisation, make_person
from .rendered import side_by_side

pytestmark = pytest.mark.django_db

BOTH = '{% include "partials/_language_switch.html" %}|{% language_switch %}'


def _both(path: str, user, language: str = "nb") -> tuple[str, str]:
    return side_by_side(BOTH, path, user, language)


@pytest.mark.parametrize("language", ["nb", "nn"])
@pytest.mark.parametrize(
    "path", ["/", "/moskenes/sosiale-medier/?sprak=nn", "/sok/?q=%3Cscript%3E%22'&side=2"]
)
def test_the_kept_switch_is_the_partial_rendered_in_place(path, language):
    person = make_person(make_organisation())
    for user in (AnonymousUser(), person):
        for _ in range(2):  # a miss, then a hit
            included, tagged = _both(path, user, language)
            assert tagged == included
    assert 'name="csrfmiddlewaretoken"' in tagged


def test_each_response_gets_its_own_token_and_never_the_stand_in():
    person = make_person(make_organisation())
    first, second = _both("/", person)[1], _both("/", person)[1]
    assert first != second
    assert kept.TOKEN not in first + second


def test_without_a_request_the_switch_is_rendered_as_it_stands():
    html = engines["django"].from_string(BOTH).render({})
    included, tagged = html.split("|")
    assert tagged == included
