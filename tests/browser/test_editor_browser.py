"""The draft editor in a real Chromium under the site's Content-Security-Policy: markdownx's live
preview, the contents/readability panel and the unsaved-changes warning work without inline script."""

import io
import os

import pytest
from django.core.management import call_command
from PIL import Image

from people.models import Person
from policies.models import Policy
from policies.workflow import create_draft

from .axe import axe_violations, format_violations

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(page):
    """The shared page of tests/browser/conftest.py (one Chromium per session), noting CSP errors.

    A second sync_playwright() in the same session would fail, so no browser is started here."""
    page.csp_errors = []
    page.on(
        "console",
        lambda message: (
            page.csp_errors.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    return page


def _choose_png(page) -> None:
    """Pick a small real PNG in the editor's image file field."""
    png = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 90, 160)).save(png, "PNG")
    page.set_input_files(
        "#bilde", {"name": "b.png", "mimeType": "image/png", "buffer": png.getvalue()}
    )


def test_editor_preview_and_analysis_update_while_typing_under_csp(
    live_server, page, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_handbook", stdout=io.StringIO())
    policy = Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier")
    create_draft(policy, by=Person.objects.get(username="redaktor.bergen"))

    page.goto(f"{live_server.url}/logg-inn/")
    page.fill("#id_username", "redaktor.bergen")
    page.fill("#id_password", "demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/redaksjon/bergen/sosiale-medier/utkast/")
    assert page.locator("textarea[data-markdownx-init]").count() == 1

    page.fill("#id_body", "## Helt ny overskrift\n\nEn kort setning.")
    page.locator("#id_body").dispatch_event("input")
    page.wait_for_selector(".markdownx-preview h2#helt-ny-overskrift", timeout=10_000)
    page.wait_for_function(
        "() => document.getElementById('analyse').textContent.includes('Helt ny overskrift')",
        timeout=10_000,
    )
    assert "LIX" in page.inner_text("#analyse")

    # Images can be uploaded from a file field too; a file that is not an image gets a Norwegian
    # message and leaves the text alone.
    page.set_input_files(
        "#bilde", {"name": "lurt.png", "mimeType": "image/png", "buffer": b"<script>x</script>"}
    )
    page.wait_for_function(
        "() => document.getElementById('opplasting-status').textContent.includes('ikke et bilde')"
    )
    _choose_png(page)
    page.wait_for_function(
        "() => document.getElementById('id_body').value.includes('/media/bilder/')"
    )
    assert "Invalid response" not in page.input_value("#id_body")
    # An image over nginx's body limit (docs/deploy/nginx.conf) is refused by nginx with an HTML
    # page, not the app's JSON: the editor is still told that the image is too large.
    page.route(
        "**/redaksjon/markdownx/upload/**",
        lambda route: route.fulfill(
            status=413, content_type="text/html", body="<h1>413 Request Entity Too Large</h1>"
        ),
    )
    _choose_png(page)
    page.wait_for_function(
        "() => document.getElementById('opplasting-status').textContent"
        ".includes('Bildet er for stort. Største tillatte størrelse er 3,0\u00a0MB.')"
    )
    page.unroute("**/redaksjon/markdownx/upload/**")

    # Leaving with unsaved text asks first.
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.evaluate("window.location.href = '/redaksjon/'")
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.csp_errors == []
    # markdownx styles the editor through the CSSOM, which a CSP without 'unsafe-inline' allows.
    assert page.csp_errors == [] and page.locator("#id_body").evaluate("e => e.style.transition")


def test_editorial_pages_have_no_axe_violations(live_server, page):
    # No skip: without axe-core (npm ci) this fails, instead of silently checking nothing.
    call_command("load_handbook", stdout=io.StringIO())
    policy = Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier")
    create_draft(policy, by=Person.objects.get(username="redaktor.bergen"))
    moskenes = Policy.objects.get(organisation__slug="moskenes")

    page.goto(f"{live_server.url}/logg-inn/")
    page.fill("#id_username", "redaktor.bergen")
    page.fill("#id_password", "demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    base = "/redaksjon/bergen/sosiale-medier/"
    for url in [
        "/redaksjon/",
        "/redaksjon/ny/",
        "/redaksjon/gjenbruk/",
        f"/redaksjon/side-om-side/?venstre={policy.pk}&hoyre={moskenes.pk}",
        base,
        base + "innstillinger/",
        base + "utkast/",
        base + "utkast/sammenlign/",
        base + "publiser/",
        base + "trekk-tilbake/",
        base + "historikk/",
        "/moskenes/sosiale-medier/",
        "/redaksjon/ny/#med-feil",
    ]:
        page.goto(live_server.url + url)
        if url.endswith("#med-feil"):
            # The same form after a submit with errors: the summary and the field messages.
            page.click("main button[type=submit]")
            page.wait_for_selector("#skjemafeil")
        violations = axe_violations(page)
        assert violations == [], f"{url}:\n{format_violations(violations)}"


def test_the_editor_script_speaks_nynorsk_and_marks_the_text_in_its_own_form(
    live_server, page, settings, tmp_path
):
    """The script's own words (upload status) come from the page in the interface's målform; the
    placeholder words it writes into the text, and the headings and sentences it refreshes, are
    the text's."""
    settings.MEDIA_ROOT = tmp_path
    call_command("load_handbook", stdout=io.StringIO())
    editor = Person.objects.get(username="redaktor.bergen")
    editor.language = "nn"
    editor.save(update_fields=["language"])
    policy = Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier")
    create_draft(policy, by=editor)

    page.goto(f"{live_server.url}/logg-inn/")
    page.fill("#id_username", "redaktor.bergen")
    page.fill("#id_password", "demo")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/redaksjon/bergen/sosiale-medier/utkast/")
    assert page.locator("html").get_attribute("lang") == "nn"

    page.fill("#id_body", "## Ny overskrift\n\nEin kort setning.")
    page.locator("#id_body").dispatch_event("input")
    page.wait_for_function(
        "() => document.getElementById('analyse').textContent.includes('Ny overskrift')",
        timeout=10_000,
    )
    assert page.locator("#analyse").inner_text().startswith("Innhaldsliste")
    assert page.locator("#analyse .toc-list").get_attribute("lang") == "nb"

    # The toolbar speaks nynorsk, but the placeholder it puts into the text is in the text's
    # målform (bokmål here).
    page.locator("#id_body").evaluate("e => e.setSelectionRange(e.value.length, e.value.length)")
    page.get_by_role("button", name="Feit").click()
    assert page.input_value("#id_body").endswith("**fet tekst**")

    _choose_png(page)
    page.wait_for_function(
        "() => document.getElementById('opplasting-status').textContent.includes('Biletet er sett inn')"
    )
    # The image's placeholder is the text's (bokmål), not the interface's "Skriv kva biletet viser".
    assert "![Beskriv bildet](/media/bilder/" in page.input_value("#id_body")
    page.set_input_files(
        "#bilde", {"name": "lurt.png", "mimeType": "image/png", "buffer": b"<script>x</script>"}
    )
    page.wait_for_function(
        "() => document.getElementById('opplasting-status').textContent.includes('ikkje eit bilete')"
    )
    assert page.csp_errors == []
