"""What people do with the portal, end to end in Chromium, as they would do it.

Screenshots go to a temporary folder (printed with -s) for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in

FOCUS_STYLE = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    return {
        tag: el.tagName, name: el.getAttribute('name') || el.textContent.trim().slice(0, 40),
        outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
        shadow: style.boxShadow !== 'none',
    };
}"""

pytestmark = pytest.mark.browser


def focused(page) -> dict:
    return page.evaluate(FOCUS_STYLE)


def assert_visible_focus(page) -> dict:
    """WCAG 2.4.7: the element that has keyboard focus shows it (an outline or a focus ring)."""
    state = focused(page)
    assert state["outline"] or state["shadow"], f"no visible focus on {state}"
    return state


def tab_to(page, predicate, what: str, limit: int = 40) -> dict:
    """Press Tab until the focused element matches, checking that every stop shows its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page)["tag"] == "BODY":
            # Past the last element focus goes to the browser's own controls, then starts over.
            continue
        state = assert_visible_focus(page)
        if predicate(state):
            return state
    raise AssertionError(f"Tab never reached {what}")


def test_a_visitor_reads_moskenes_guidelines_through_the_contents(page, handbook, screenshots):
    page.goto("/")
    page.get_by_role("link", name="Moskenes kommune").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retningslinjer i Moskenes kommune")
    page.get_by_role("link", name="Veileder for bruk av sosiale medier").first.click()
    expect(page).to_have_url(re.compile(r"/moskenes/sosiale-medier/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("sosiale medier")

    contents = page.get_by_role("navigation", name="Innhold")
    links = contents.get_by_role("link")
    assert links.count() >= 3
    # Follow an entry further down: the page jumps to that section.
    entry = links.nth(links.count() - 1)
    anchor = entry.get_attribute("href")
    heading_text = entry.inner_text()
    entry.click()
    expect(page).to_have_url(re.compile(re.escape(anchor) + "$"))
    heading = page.locator(f"[id='{anchor[1:]}']")
    expect(heading).to_have_text(heading_text)
    expect(heading).to_be_in_viewport()
    page.screenshot(path=screenshots / "moskenes-section.png")
    print(f"screenshots in {screenshots}")


def test_a_visitor_opens_version_1_and_is_told_it_is_not_current(page, handbook):
    page.goto("/moskenes/sosiale-medier/")
    history = page.get_by_role("region", name="Versjonshistorikk", exact=True)
    history.get_by_role("link", name="Versjon 1", exact=True).click()
    expect(page).to_have_url(re.compile(r"/versjon/1/$"))
    expect(page.get_by_role("status").first).to_contain_text("Dette er ikke gjeldende versjon")
    page.get_by_role("link", name="versjon 2", exact=True).click()
    expect(page).to_have_url(re.compile(r"/moskenes/sosiale-medier/$"))


def test_an_employee_logs_in_with_the_form_lands_where_she_was_and_logs_out(
    page, handbook, screenshots
):
    page.goto("/bergen/")
    page.get_by_role("link", name="Logg inn").first.click()
    page.get_by_label("Brukernavn").fill("ansatt.bergen")
    page.get_by_label("Passord").fill("demo")
    page.get_by_role("button", name="Logg inn").click()
    expect(page).to_have_url(re.compile(r"/bergen/$"))
    navigation = page.get_by_role("navigation", name="Hovedmeny")
    expect(navigation).to_contain_text("Kari Nordmann")
    page.screenshot(path=screenshots / "bergen-logged-in.png", full_page=True)

    navigation.get_by_role("button", name="Logg ut").click()
    expect(page.get_by_role("navigation", name="Hovedmeny")).not_to_contain_text("Kari Nordmann")
    expect(page.get_by_role("link", name="Logg inn").first).to_be_visible()


def test_a_wrong_password_is_explained_in_norwegian_next_to_the_form(page, handbook):
    page.goto("/logg-inn/")
    page.get_by_label("Brukernavn").fill("ansatt.bergen")
    page.get_by_label("Passord").fill("feil")
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("Brukernavn")).to_have_value("ansatt.bergen")


def test_logging_in_works_with_the_keyboard_alone_and_focus_is_always_visible(page, handbook):
    page.goto("/moskenes/sosiale-medier/")
    page.wait_for_load_state("load")
    page.bring_to_front()
    # The first Tab reaches the skip link, which takes focus to the main content.
    page.keyboard.press("Tab")
    state = assert_visible_focus(page)
    assert state["name"] == "Hopp til hovedinnholdet"
    tab_to(page, lambda s: s["name"] == "Logg inn", "the login link")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/logg-inn/\?next="))
    page.wait_for_load_state("load")

    # The username field has autofocus: the form can be filled in at once.
    assert assert_visible_focus(page)["name"] == "username"
    page.keyboard.type("ansatt.moskenes")
    page.keyboard.press("Tab")
    assert assert_visible_focus(page)["name"] == "password"
    page.keyboard.type("demo")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/moskenes/sosiale-medier/$"))
    expect(page.get_by_role("navigation", name="Hovedmeny")).to_contain_text("Ola Olsen")


def test_an_editor_drafts_watches_the_preview_and_lix_publishes_an_editorial_change_and_sees_it_live(
    page, context, live_server, handbook, screenshots
):
    log_in(context, live_server, "redaktor.bergen")
    page.goto("/redaksjon/")
    page.get_by_role("link", name="Retningslinjer for sosiale medier").first.click()
    expect(page).to_have_url(re.compile(r"/redaksjon/bergen/sosiale-medier/$"))
    page.get_by_role("button", name="Start nytt utkast").click()
    expect(page).to_have_url(re.compile(r"/utkast/$"))

    text = page.get_by_label("Tekst", exact=True)
    text.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(
        "\n\n## Kunstig intelligens\n\nSpør lederen din før du bruker KI-verktøy i arbeidet.\n"
    )
    # The preview follows the text as it is typed, rendered by the same function as publishing.
    preview = page.locator(".markdownx-preview")
    expect(preview.get_by_role("heading", name="Kunstig intelligens")).to_be_visible(timeout=10_000)
    analysis = page.locator("#analyse")
    expect(analysis).to_contain_text("Kunstig intelligens", timeout=10_000)
    expect(analysis).to_contain_text("LIX")
    page.screenshot(path=screenshots / "editor-draft.png", full_page=True)

    page.get_by_role("button", name="Lagre og gå til publisering").click()
    expect(page).to_have_url(re.compile(r"/publiser/$"))
    page.get_by_label(re.compile("^Redaksjonell")).check()
    page.get_by_label("Endringsnotat").fill("Nytt avsnitt om kunstig intelligens.")
    page.get_by_role("button", name="Publiser", exact=True).click()
    expect(page.get_by_role("status").first).to_be_visible()

    page.goto("/bergen/sosiale-medier/")
    expect(page.get_by_role("heading", name="Kunstig intelligens")).to_be_visible()
    history = page.get_by_role("region", name="Versjonshistorikk", exact=True)
    expect(history).to_contain_text("Nytt avsnitt om kunstig intelligens.")
    expect(history).to_contain_text("Redaksjonell")


def test_a_manager_drills_into_a_unit_filters_to_those_missing_downloads_the_csv_and_reminds(
    page, context, live_server, handbook, screenshots, tmp_path
):
    import csv
    import io

    from django.core import mail

    from outbox.models import Email
    from policies.models import Acknowledgement, Person, PolicyVersion

    # The manager himself has confirmed; the employee in his department has not.
    version = PolicyVersion.objects.get(
        policy__organisation__slug="bergen", policy__slug="sosiale-medier", status="published"
    )
    Acknowledgement.objects.create(
        person=Person.objects.get(username="leder.bergen"),
        version=version,
        text_hash=version.text_hash,
    )
    log_in(context, live_server, "leder.bergen")
    page.goto("/")
    page.get_by_role("navigation", name="Hovedmeny").get_by_role("link", name="Oversikt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hvem har bekreftet")

    page.get_by_role("link", name="Byrådsavdeling for helse og omsorg").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Byrådsavdeling for helse og omsorg")
    page.get_by_role("link", name="Retningslinjer for sosiale medier").first.click()
    people = page.locator("table")
    expect(people).to_contain_text("Kari Nordmann")
    expect(people).to_contain_text("Lars Leder")

    page.get_by_role("link", name=re.compile("^Vis bare de som mangler")).click()
    expect(people).to_contain_text("Kari Nordmann")
    expect(people).not_to_contain_text("Lars Leder")
    page.screenshot(path=screenshots / "manager-missing.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Last ned CSV").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".csv"
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["Ansattnummer", "Fornavn", "Etternavn"]
    names = {(row[1], row[2]) for row in rows[1:]}
    # The list as filtered: who is missing, and only them.
    assert ("Kari", "Nordmann") in names
    assert ("Lars", "Leder") not in names

    page.get_by_role("link", name=re.compile("^Send påminnelse")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send påminnelse")
    page.get_by_role("button", name=re.compile("^Send påminnelse til")).click()
    expect(page.get_by_role("status").first).to_contain_text("Påminnelse sendes til")
    # Queued in the outbox for the worker; the list says so per person until it has gone.
    expect(page.get_by_role("table").first).to_contain_text("Venter")
    # The worker expands the manager's reminder run into one e-mail per person.
    from tests.jobs import expand_queued

    expand_queued()
    recipients = set(Email.objects.values_list("to", flat=True))
    assert "ansatt.bergen@example.invalid" in recipients
    assert "leder.bergen@example.invalid" not in recipients
    assert mail.outbox == []


def test_an_employee_searches_opens_the_hit_at_its_section_confirms_and_sees_the_receipt(
    page, handbook, screenshots
):
    page.goto("/logg-inn/")
    page.get_by_label("Brukernavn").fill("ansatt.moskenes")
    page.get_by_label("Passord").fill("demo")
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mine retningslinjer")

    search = page.get_by_role("search").first
    search.get_by_role("searchbox").fill("taushetsplikt")
    search.get_by_role("button", name="Søk").click()
    expect(page).to_have_url(re.compile(r"/sok/\?q=taushetsplikt"))
    hits = page.locator(".search-hit")
    expect(hits.first).to_be_visible()
    # His own municipality's guideline, opened at the section that matched.
    hit = hits.filter(has_text="Moskenes").first.get_by_role("link")
    href = hit.get_attribute("href")
    assert href.startswith("/moskenes/sosiale-medier/") and "#" in href
    hit.click()
    anchor = href.split("#", 1)[1]
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    expect(page.locator(f"[id='{anchor}']")).to_be_in_viewport()
    page.screenshot(path=screenshots / "search-hit-section.png")

    # Reading on down to the confirmation at the end.
    confirmation = page.get_by_role("region", name="Bekreftelse")
    confirmation.scroll_into_view_if_needed()
    expect(confirmation).to_contain_text("Ikke bekreftet")
    confirmation.get_by_role("button", name="Bekreft at jeg har lest og forstått").click()
    # The message is where the reader is, and has the focus.
    expect(page.locator("#kvittering")).to_be_focused()
    expect(page.locator("#kvittering")).to_contain_text("Bekreftet: du har lest og forstått")
    expect(page.get_by_role("region", name="Bekreftelse")).to_contain_text("Du bekreftet versjon")

    page.get_by_role("navigation", name="Hovedmeny").get_by_role(
        "link", name="Mine retningslinjer"
    ).click()
    receipts = page.get_by_role("region", name="Bekreftet, tabell")
    expect(receipts).to_contain_text("Veileder for bruk av sosiale medier")
    expect(page.get_by_text("Du har bekreftet alt du skal")).to_be_visible()

    page.get_by_role("navigation", name="Hovedmeny").get_by_role("button", name="Logg ut").click()
    expect(page.get_by_role("link", name="Logg inn").first).to_be_visible()


def test_after_a_material_revision_the_employee_sees_what_changed_and_confirms_again(
    page, context, live_server, handbook
):
    from policies.models import Acknowledgement, Person, Policy
    from tests.factories import publish_version

    employee = Person.objects.get(username="ansatt.bergen")
    policy = Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier")
    old = policy.versions.get(status="published")
    Acknowledgement.objects.create(person=employee, version=old, text_hash=old.text_hash)
    new = publish_version(
        policy,
        body=old.body + "\n\n## Kunstig intelligens\n\nSpør lederen din før du bruker KI.\n",
        change_note="Nytt kapittel om kunstig intelligens.",
    )

    log_in(context, live_server, "ansatt.bergen")
    page.goto("/")
    to_confirm = page.get_by_role("region", name="Må bekreftes, tabell")
    expect(to_confirm).to_contain_text("Må bekreftes på nytt")
    to_confirm.get_by_role("link", name="Se endringene").click()

    expect(page).to_have_url(re.compile(rf"/endringer/\?fra={old.number}&til={new.number}"))
    # Only what changed: the new chapter, not the unchanged text before it.
    changed = page.locator(".diff-section")
    expect(changed).to_have_count(1)
    expect(changed.locator("ins").filter(has_text="Spør lederen din").first).to_be_visible()
    page.get_by_role("link", name="Gå til første endring").click()
    expect(page).to_have_url(re.compile(r"#endring-1$"))

    # ... and confirms the new version from there, at the end of what changed.
    page.get_by_role("button", name="Bekreft at jeg har lest og forstått").click()
    expect(page).to_have_url(re.compile(r"/bergen/sosiale-medier/#kvittering$"))
    message = page.locator("#kvittering")
    expect(message).to_contain_text(f"Bekreftet: du har lest og forstått versjon {new.number}")
    expect(message).to_be_focused()
    assert Acknowledgement.objects.filter(person=employee, version=new).count() == 1


def test_confirming_works_with_tab_and_enter_alone_with_visible_focus(
    page, context, live_server, handbook
):
    log_in(context, live_server, "ansatt.moskenes")
    page.goto("/")
    page.wait_for_load_state("load")
    page.bring_to_front()
    tab_to(
        page,
        lambda s: s["tag"] == "A" and s["name"].startswith("Veileder for bruk av sosiale medier"),
        "the guideline to confirm",
    )
    page.keyboard.press("Enter")
    # The link goes to the top of the text: reading comes before confirming.
    expect(page).to_have_url(re.compile(r"/moskenes/sosiale-medier/$"))
    page.wait_for_load_state("load")
    tab_to(
        page,
        lambda s: s["tag"] == "BUTTON" and s["name"] == "Bekreft at jeg har lest og forstått",
        "the confirm button",
        limit=200,
    )
    page.keyboard.press("Enter")
    # The message is where the reader is, and has the focus.
    expect(page.locator("#kvittering")).to_be_focused()
    expect(page.locator("#kvittering")).to_contain_text("Bekreftet: du har lest og forstått")
    expect(page.get_by_role("region", name="Bekreftelse")).to_contain_text("Du bekreftet versjon")


def test_an_employee_told_by_email_reads_only_what_changed_and_confirms_from_there(
    page, context, live_server, handbook, settings
):
    """The notice's link leads to what changed, with the confirmation at its end; the manager's
    overview explains why the share fell."""
    from django.core import mail

    from policies.models import Acknowledgement, Person, Policy
    from tests.factories import publish_version
    from tests.jobs import send_queued

    settings.SITE_URL = live_server.url
    employee = Person.objects.get(username="ansatt.bergen")
    policy = Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier")
    old = policy.versions.get(status="published")
    Acknowledgement.objects.create(person=employee, version=old, text_hash=old.text_hash)
    new = publish_version(
        policy,
        body=old.body + "\n\n## Kunstig intelligens\n\nSpør lederen din før du bruker KI.\n",
        change_note="Nytt kapittel om kunstig intelligens.",
    )
    # The worker sends what the publish queued.
    send_queued()
    (notice,) = [m for m in mail.outbox if m.to == [employee.email]]
    assert "Nytt kapittel om kunstig intelligens." in notice.body
    link = re.search(r"^(http\S+/endringer/\?fra=\d+&til=\d+)$", notice.body, re.M).group(1)

    log_in(context, live_server, "ansatt.bergen")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hva er endret")
    expect(page.locator(".diff-section")).to_have_count(1)
    page.get_by_role("button", name="Bekreft at jeg har lest og forstått").click()
    message = page.locator("#kvittering")
    expect(message).to_contain_text(f"Bekreftet: du har lest og forstått versjon {new.number}")
    expect(message).to_be_focused()
    assert Acknowledgement.objects.filter(person=employee, version=new).count() == 1

    context.clear_cookies()
    log_in(context, live_server, "leder.bergen")
    page.goto("/oversikt/")
    expect(page.get_by_text("Hvorfor andelen har falt")).to_be_visible()
    expect(page.get_by_text("ble endret vesentlig").first).to_be_visible()
