"""A kommune's own look, set by its editors without a deploy."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from people.models import Organisation
from policies.models import Event

from .test_markdownx_endpoints import black_and_white_png
from .test_views_employee import person

pytestmark = pytest.mark.django_db

LOOK = "/redaksjon/kommune/"


def _png(size=(40, 40)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 90, 150)).save(buffer, "PNG")
    return SimpleUploadedFile("vapen.png", buffer.getvalue(), content_type="image/png")


def _post(client, **data):
    form = {
        "accent_color": "",
        "contact": "",
        "contact_email": "",
        "contact_phone": "",
        "privacy_url": "",
        **data,
    }
    return client.post(LOOK, form)


@pytest.fixture
def editor(client, handbook):
    client.force_login(person("redaktor.bergen"))
    return client


def test_an_editor_sets_colour_logo_contact_and_privacy_page(editor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = _post(
        editor,
        accent_color="1A5E9A",
        contact="Servicetorget",
        contact_email="post@bergen.kommune.no",
        contact_phone="55 56 55 56",
        privacy_url="https://www.bergen.kommune.no/personvern",
        logo=_png(),
    )
    assert response.status_code == 302
    bergen = Organisation.objects.get(slug="bergen")
    assert bergen.accent_color == "#1a5e9a" and bergen.logo.name.startswith("kommuner/bergen-")
    event = Event.objects.filter(organisation=bergen, policy=None).latest("pk")
    assert set(event.detail["kommune"]) >= {"accent_color", "logo", "privacy_url"}
    page = editor.get("/bergen/sosiale-medier/").content.decode()
    assert f"/tema/bergen.css?v={int(bergen.look_updated_at.timestamp())}" in page
    assert bergen.logo.url in page
    assert "Personvernerklæring for Bergen kommune" in page and "post@bergen.kommune.no" in page
    css = editor.get("/tema/bergen.css")
    assert css["Content-Type"] == "text/css"
    assert "--ds-color-accent-base-default:#1a5e9a;" in css.content.decode()


def test_visitors_see_the_kommunes_look_on_its_pages_only(editor, client):
    _post(editor, accent_color="#1a5e9a", privacy_url="https://www.bergen.kommune.no/personvern")
    editor.logout()
    assert "/tema/bergen.css" in client.get("/bergen/sosiale-medier/").content.decode()
    moskenes = client.get("/moskenes/sosiale-medier/").content.decode()
    assert "/tema/bergen.css" not in moskenes and "bergen.kommune.no" not in moskenes


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"accent_color": "#ffcc00"}, "Fargen er for lys"),
        ({"accent_color": "blå"}, "heksadesimal"),
        ({"privacy_url": "http://www.bergen.kommune.no/personvern"}, "https://"),
        ({"privacy_url": "javascript:alert(1)"}, "hel nettadresse"),
        ({"contact_email": "ikke-epost"}, "gyldig e-postadresse"),
    ],
)
def test_bad_input_gets_a_norwegian_message_and_changes_nothing(editor, data, message):
    before = Organisation.objects.get(slug="bergen")
    response = _post(editor, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    after = Organisation.objects.get(slug="bergen")
    assert (after.accent_color, after.privacy_url, after.look_updated_at) == (
        before.accent_color,
        before.privacy_url,
        before.look_updated_at,
    )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("vapen.png", b"<svg onload=alert(1)>", "image/png"), "ikke et bilde"),
        ("gif", "PNG- eller JPEG"),
        ("huge", "Høyst 2000 punkter"),
        # So many pixels that Pillow will not open it: still named by its size, not "not an image".
        ("bomb", "Bildet er for stort (20000 × 20000 punkter). Høyst 2000 punkter"),
    ],
)
def test_only_small_png_or_jpeg_logos_are_accepted(editor, upload, message):
    if upload == "gif":
        buffer = io.BytesIO()
        Image.new("RGB", (10, 10)).save(buffer, "GIF")
        upload = SimpleUploadedFile("vapen.gif", buffer.getvalue(), "image/gif")
    elif upload == "huge":
        upload = _png((2100, 10))
    elif upload == "bomb":
        upload = SimpleUploadedFile("vapen.png", black_and_white_png(20000, 20000), "image/png")
    response = _post(editor, logo=upload)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Organisation.objects.get(slug="bergen").logo


def test_only_editors_change_the_look(client, handbook):
    client.force_login(person("ansatt.bergen"))
    assert _post(client, accent_color="#1a5e9a").status_code == 403
    assert Organisation.objects.get(slug="bergen").accent_color == ""
