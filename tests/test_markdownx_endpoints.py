"""markdownx's preview and upload, routed under /redaksjon/ behind login and the editor role."""

import io
import json
import re
import struct
import zlib
from html import unescape

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from policies.workflow import create_draft

from .factories import make_organisation, make_person, make_policy

pytestmark = pytest.mark.django_db

PREVIEW = "/redaksjon/markdownx/markdownify/"
UPLOAD = "/redaksjon/markdownx/upload/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def editor():
    return make_person(make_organisation(), is_editor=True)


@pytest.fixture
def employee():
    return make_person(make_organisation())


def image_bytes(kind: str, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


def upload(client, name: str, content: bytes, content_type: str):
    return client.post(
        UPLOAD,
        {"image": SimpleUploadedFile(name, content, content_type=content_type)},
        headers={"x-requested-with": "XMLHttpRequest"},
    )


def test_the_widget_posts_to_the_protected_addresses():
    assert settings.MARKDOWNX_URLS_PATH == PREVIEW
    assert settings.MARKDOWNX_UPLOAD_URLS_PATH == UPLOAD


def test_markdownx_default_addresses_are_not_served(client, editor):
    client.force_login(editor)
    assert client.post("/markdownx/markdownify/", {"content": "x"}).status_code == 404
    assert client.post("/markdownx/upload/", {}).status_code == 404


@pytest.mark.parametrize("url", [PREVIEW, UPLOAD, "/redaksjon/analyse/"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.post(url, {"content": "# Hei"})
    assert response.status_code == 302
    assert response.url.startswith("/logg-inn/")


@pytest.mark.parametrize("url", [PREVIEW, UPLOAD, "/redaksjon/analyse/"])
def test_people_without_the_editor_role_are_refused(client, employee, url):
    client.force_login(employee)
    assert client.post(url, {"content": "# Hei"}).status_code == 403


def test_preview_renders_with_the_publishing_function_and_strips_script(client, editor):
    client.force_login(editor)
    response = client.post(
        PREVIEW, {"content": "# Tittel\n\n<script>alert(1)</script><img src=x onerror=alert(1)>"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h2 id="tittel">Tittel</h2>' in html
    assert "<script" not in html and "onerror" not in html


def test_preview_without_content_is_empty_not_an_error(client, editor):
    client.force_login(editor)
    assert client.post(PREVIEW, {}).status_code == 200


def test_preview_refuses_a_text_over_the_size_limit(client, editor):
    client.force_login(editor)
    response = client.post(PREVIEW, {"content": "a" * 200_001})
    assert response.status_code == 400
    assert "for lang" in response.content.decode()


def test_preview_only_answers_post(client, editor):
    client.force_login(editor)
    assert client.get(PREVIEW).status_code == 405


@pytest.mark.parametrize(
    ("kind", "content_type", "extension"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg")],
)
def test_editor_can_upload_a_png_or_jpeg(client, editor, tmp_path, kind, content_type, extension):
    client.force_login(editor)
    response = upload(client, f"bilde.{extension}", image_bytes(kind), content_type)
    assert response.status_code == 200, response.content
    code = response.json()["image_code"]
    assert code.startswith("![Beskriv bildet](/media/bilder/") and code.endswith(f".{extension})")
    stored = list((tmp_path / "bilder").iterdir())
    assert len(stored) == 1
    with Image.open(stored[0]) as image:
        assert image.format == kind


def test_stored_file_is_named_after_what_it_is_not_what_it_was_called(client, editor, tmp_path):
    client.force_login(editor)
    response = upload(client, "side.html", image_bytes("PNG"), "image/png")
    assert response.status_code == 200
    (stored,) = (tmp_path / "bilder").iterdir()
    assert stored.suffix == ".png"


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("ikke-bilde.png", b"<html><script>alert(1)</script></html>", "image/png"),
        (
            "tegning.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "image/svg+xml",
        ),
        (
            "tegning.png",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "image/png",
        ),
        ("notat.txt", b"Bare tekst", "text/plain"),
        ("tom.png", b"", "image/png"),
        ("avkuttet.png", image_bytes("PNG")[:40], "image/png"),
        ("avkuttet.jpg", image_bytes("JPEG", size=(400, 300))[:300], "image/jpeg"),
    ],
)
def test_uploads_that_are_not_images_are_refused_in_norwegian(
    client, editor, tmp_path, name, content, content_type
):
    client.force_login(editor)
    response = upload(client, name, content, content_type)
    assert response.status_code == 400
    message = " ".join(response.json()["image"])
    assert "bilde" in message.lower() or "filen" in message.lower()
    assert not (tmp_path / "bilder").exists()


def test_a_gif_is_refused_even_though_it_is_an_image(client, editor, tmp_path):
    client.force_login(editor)
    response = upload(client, "animasjon.gif", image_bytes("GIF"), "image/gif")
    assert response.status_code == 400
    assert "Bare JPEG- og PNG-bilder" in response.json()["image"][0]


def test_an_image_over_three_megabytes_is_refused(client, editor, tmp_path):
    client.force_login(editor)
    big = image_bytes("PNG") + b"\0" * (3 * 1024 * 1024)
    response = upload(client, "stort.png", big, "image/png")
    assert response.status_code in (400, 413)
    assert "for stort" in response.json()["image"][0]
    assert not (tmp_path / "bilder").exists()


def test_a_fifty_megabyte_upload_gets_a_norwegian_error_not_a_server_error(
    client, editor, tmp_path
):
    client.force_login(editor)
    huge = b"\x89PNG\r\n\x1a\n" + b"\0" * (50 * 1024 * 1024)
    response = upload(client, "enormt.png", huge, "image/png")
    assert response.status_code == 413
    body = json.loads(response.content)
    assert "Bildet er for stort" in body["image"][0]
    assert "Største tillatte størrelse er 3,0\xa0MB" in body["image"][0]
    assert not (tmp_path / "bilder").exists()


def black_and_white_png(width: int, height: int) -> bytes:
    """A valid one-bit PNG of any size, written without Pillow (which would need width × height
    bytes of memory): it is blank, so it compresses to almost nothing."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    compressor = zlib.compressobj()
    row = b"\0" * (1 + (width + 7) // 8)  # filter type 0, then the row's bits
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (6000, 6000),
        # Beyond Pillow's own decompression-bomb limit, where Image.open refuses to open it.
        (20000, 20000),
    ],
)
def test_an_image_with_too_many_pixels_is_refused_with_its_dimensions_and_the_limit(
    client, editor, tmp_path, width, height
):
    client.force_login(editor)
    response = upload(client, "kart.png", black_and_white_png(width, height), "image/png")
    assert response.status_code == 400
    assert response.json()["image"] == [
        f"Bildet er for stort ({width} × {height} punkter). Et bilde kan ha høyst 25 millioner "
        "punkter, for eksempel 5000 × 5000."
    ]
    assert not (tmp_path / "bilder").exists()


def test_upload_without_a_file_is_a_norwegian_error(client, editor):
    client.force_login(editor)
    response = client.post(UPLOAD, {}, headers={"x-requested-with": "XMLHttpRequest"})
    assert response.status_code == 400
    assert "Velg et bilde" in response.json()["image"][0]


def test_analysis_endpoint_returns_contents_and_lix(client, editor):
    client.force_login(editor)
    response = client.post(
        "/redaksjon/analyse/",
        {"content": "## Formål\n\nKort og greit.\n\n## Regler\n\nVær høflig."},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Formål" in html and "Regler" in html
    assert "LIX" in html


def test_upload_still_requires_a_csrf_token(editor, tmp_path):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    response = upload(client, "bilde.png", image_bytes("PNG"), "image/png")
    assert response.status_code == 403
    assert "Last siden på nytt" in response.json()["image"][0]
    assert not (tmp_path / "bilder").exists()


def test_an_oversized_upload_is_refused_before_its_body_is_read(editor):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    # Even without a CSRF token the answer is about the size: the body was never parsed.
    response = upload(client, "enormt.png", b"\0" * (50 * 1024 * 1024), "image/png")
    assert response.status_code == 413


def test_an_uploaded_image_is_served_back_in_development(client, editor, tmp_path):
    client.force_login(editor)
    code = upload(client, "bilde.png", image_bytes("PNG"), "image/png").json()["image_code"]
    url = code.split("(", 1)[1].rstrip(")")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    ("interface", "text", "placeholder"),
    [
        ("nb", "nn", "Skriv kva biletet viser"),
        ("nn", "nb", "Beskriv bildet"),
        ("nn", "", "Skriv kva biletet viser"),
        ("nb", "xx", "Beskriv bildet"),
    ],
)
def test_the_image_placeholder_is_in_the_texts_language(
    client, editor, interface, text, placeholder
):
    """The placeholder goes into the text, so it follows the text's language (sent as `sprak` by
    the editor page), whatever the editor reads the interface in; without one, the interface's."""
    editor.language = interface
    editor.save(update_fields=["language"])
    client.force_login(editor)
    response = client.post(
        UPLOAD,
        {
            "image": SimpleUploadedFile("bilde.png", image_bytes("PNG"), content_type="image/png"),
            "sprak": text,
        },
        headers={"x-requested-with": "XMLHttpRequest"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["image_code"].startswith(f"![{placeholder}](/media/bilder/")


def test_markdownx_drop_upload_carries_the_texts_language_in_its_address(client, editor):
    """markdownx's own drop upload posts only the image; the draft page gives it an address with
    the text's language, and the placeholder follows it."""
    editor.language = "nn"
    editor.save(update_fields=["language"])
    policy = make_policy(editor.organisation, slug="bruk-av-bilete")
    create_draft(policy, by=editor)
    client.force_login(editor)
    page = client.get(f"/redaksjon/{editor.organisation.slug}/bruk-av-bilete/utkast/").content
    match = re.search(r'data-markdownx-upload-urls-path="([^"]+)"', page.decode())
    assert match, "no upload address on the draft page"
    address = unescape(match.group(1))
    assert address == f"{UPLOAD}?sprak=nb"
    response = client.post(
        address,
        {"image": SimpleUploadedFile("bilde.png", image_bytes("PNG"), content_type="image/png")},
        headers={"x-requested-with": "XMLHttpRequest"},
    )
    assert response.json()["image_code"].startswith("![Beskriv bildet](/media/bilder/")
