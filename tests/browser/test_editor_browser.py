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

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
playwright_sync = pytest.importorskip("playwright.sync_api")

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
    png = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 90, 160)).save(png, "PNG")
    page.set_input_files(
        "#bilde", {"name": "b.png", "mimeType": "image/png", "buffer": png.getvalue()}
    )
    page.wait_for_function(
        "() => document.getElementById('id_body').value.includes('/media/bilder/')"
    )
    assert "Invalid response" not in page.input_value("#id_body")

    # Leaving with unsaved text asks first.
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.evaluate("window.location.href = '/redaksjon/'")
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.csp_errors == []
    # markdownx styles the editor through the CSSOM, which a CSP without 'unsafe-inline' allows.
    assert page.csp_errors == [] and page.locator("#id_body").evaluate("e => e.style.transition")


AXE = os.path.join(os.path.dirname(__file__), "..", "..", "node_modules", "axe-core", "axe.min.js")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def test_editorial_pages_have_no_axe_violations(live_server, page):
    if not os.path.exists(AXE):
        pytest.skip("axe-core is not installed (npm ci)")
    call_command("load_handbook", stdout=io.StringIO())
    policy = Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier")
    create_draft(policy, by=Person.objects.get(username="redaktor.bergen"))
    moskenes = Policy.objects.get(organisation__slug="moskenes")
    with open(AXE) as source:
        axe = source.read()

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
        page.evaluate(axe)
        violations = page.evaluate(
            "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
            ".violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))",
            WCAG_TAGS,
        )
        assert violations == [], (url, violations)
