"""Messages written in Python speak the reader's målform too: the editor page's background answers
and the kommune look's messages. (The editorial forms, the over-budget notice and the discard errors
are issue-16b's, tested with its editorial pages.)"""

import pytest

from policies.models import MAX_BODY_LENGTH

from .factories import make_organisation, make_person

pytestmark = pytest.mark.django_db

LOOK = "/redaksjon/kommune/"


def _editor(client, language, name=None):
    editor = make_person(make_organisation(name=name), is_editor=True)
    editor.language = language
    editor.save(update_fields=["language"])
    client.force_login(editor)
    return editor


def _look(client, **data):
    form = {"accent_color": "", "contact": "", "contact_email": "", "contact_phone": ""}
    return client.post(LOOK, {"privacy_url": "", **form, **data}, follow=True)


def test_the_editor_pages_background_answers_speak_nynorsk(client):
    _editor(client, "nn")
    too_long = "x" * (MAX_BODY_LENGTH + 1)
    response = client.post("/redaksjon/analyse/", {"content": too_long})
    assert response.status_code == 400
    assert "Teksten er for lang til å analyserast." in response.content.decode()
    response = client.post("/redaksjon/markdownx/markdownify/", {"content": too_long})
    assert "Teksten er for lang til førehandsvising." in response.content.decode()


def test_the_kommune_look_is_refused_and_saved_in_nynorsk(client):
    _editor(client, "nn", name="Målvik kommune")
    html = _look(client, accent_color="#ffcc00").content.decode()
    assert "Fargen er for lys: kontrasten mot kvitt er" in html
    html = _look(client, accent_color="#1a5e9a").content.decode()
    assert "Utsjånaden for Målvik kommune er lagra." in html
