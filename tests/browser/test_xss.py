"""OWASP's filter-evasion payloads where people can write, loaded in Chromium: no script may run.

The browser context bypasses the Content-Security-Policy on purpose: the policy is the second line
of defence, and these tests check the first (escaping and the sanitiser) on its own.
"""

from __future__ import annotations

import pytest

from tests.factories import (
    make_organisation,
    make_person,
    make_policy,
    make_unit,
    publish_version,
)
from tests.xss_payloads import XSS_PAYLOADS

from .conftest import PageProblems

pytestmark = pytest.mark.browser


def chunks(payloads: list[str], limit: int, joiner: str = " ") -> list[str]:
    """Pack the payloads into as few strings of at most `limit` characters as possible."""
    result: list[str] = []
    for payload in payloads:
        if len(payload) > limit:
            continue
        if result and len(result[-1]) + len(joiner) + len(payload) <= limit:
            result[-1] += joiner + payload
        else:
            result.append(payload)
    return result


# What no page may contain once the browser has parsed it, whatever was written into it.
DANGEROUS_DOM = """() => {
    const found = [];
    for (const el of document.querySelectorAll('*')) {
        for (const attr of el.attributes) {
            if (attr.name.startsWith('on')) found.push(el.tagName + ' ' + attr.name);
            if (['href', 'src', 'action', 'formaction', 'data', 'background', 'dynsrc', 'xlink:href'].includes(attr.name)) {
                // Resolve the address as the browser itself does (WHATWG URL rules).
                let protocol = '';
                try { protocol = new URL(attr.value, document.baseURI).protocol; } catch (e) {}
                if (['javascript:', 'data:', 'vbscript:'].includes(protocol))
                    found.push(el.tagName + ' ' + attr.name + '=' + attr.value);
            }
        }
    }
    for (const el of document.querySelectorAll('iframe, object, embed, base, meta[http-equiv], style, link[href^="javascript"], svg script, math'))
        found.push(el.outerHTML.slice(0, 80));
    for (const el of document.querySelectorAll('script'))
        if (!el.src || new URL(el.src).origin !== location.origin || !new URL(el.src).pathname.startsWith('/static/'))
            found.push(el.outerHTML.slice(0, 80));
    return found;
}"""


@pytest.fixture
def hostile_policies(transactional_db):
    """Policies whose titles, change notes and bodies are made of the payloads."""
    organisation = make_organisation(name="Angrepsvik kommune", slug="angrepsvik")
    body = "## Innledning\n\n" + "\n\n".join(XSS_PAYLOADS) + "\n\n## Slutt\n\nFerdig.\n"
    titles = chunks(XSS_PAYLOADS, 200)
    notes = chunks(XSS_PAYLOADS, 2000, "\n")
    policies = []
    for n, title in enumerate(titles):
        policy = make_policy(organisation, slug=f"angrep-{n}", title=title, published=False)
        publish_version(policy, body=body, title=title, change_note=notes[n % len(notes)])
        policies.append((policy, title))
    return organisation, policies


@pytest.fixture
def csp_free_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    page = context.new_page()
    problems = PageProblems()
    problems.watch(page)
    yield page, problems
    context.close()


def assert_no_script_ran(page, problems: PageProblems, where: str):
    # Give onerror/onload handlers of broken images and the like a moment to fire.
    page.wait_for_load_state("load")
    page.wait_for_timeout(20)
    # Fire the events the onmouseover/onfocus/ontoggle payloads wait for, on every element.
    page.evaluate(
        """() => { for (const el of document.querySelectorAll('body *'))
            for (const type of ['mouseover', 'focus', 'toggle', 'animationstart'])
                el.dispatchEvent(new Event(type, {bubbles: true})); }"""
    )
    assert page.evaluate("() => window.__xss") is None, f"a payload ran on {where}"
    assert problems.dialogs == [], f"a payload opened a dialog on {where}: {problems.dialogs}"
    assert problems.page_errors == [], f"script errors on {where}: {problems.page_errors}"
    # Broken images may fail to load; anything else in the console means something tried to run.
    unexpected = [m for m in problems.console_errors if "Failed to load resource" not in m]
    assert unexpected == [], f"console errors on {where}: {unexpected}"
    dangerous = page.evaluate(DANGEROUS_DOM)
    assert dangerous == [], f"dangerous markup reached the page on {where}: {dangerous}"


def test_payloads_in_titles_change_notes_and_bodies_never_run(
    csp_free_page, live_server, hostile_policies
):
    page, problems = csp_free_page
    organisation, policies = hostile_policies

    page.goto(f"/{organisation.slug}/")
    assert_no_script_ran(page, problems, "the organisation's handbook")
    # Titles are shown as the text that was written, escaped, not dropped.
    for _, title in policies:
        assert page.get_by_text(title, exact=True).count() >= 1

    for policy, title in policies:
        for url in (
            f"/{organisation.slug}/{policy.slug}/",
            f"/{organisation.slug}/{policy.slug}/versjon/1/",
        ):
            page.goto(url)
            assert_no_script_ran(page, problems, url)
            # The title is shown as the text that was written (whitespace collapsed), not as markup.
            assert page.locator("h1").text_content().split() == title.split()


# Addresses that echo what the visitor sent. "{}" is replaced by the URL-encoded payload.
REFLECTING_ADDRESSES = [
    "/logg-inn/?next={}",
    "/sok/?q={}",
]


@pytest.mark.parametrize("address", REFLECTING_ADDRESSES)
def test_payloads_sent_in_the_address_are_never_run(csp_free_page, live_server, address):
    from urllib.parse import quote

    page, problems = csp_free_page
    for payload in XSS_PAYLOADS:
        url = address.format(quote(payload, safe=""))
        response = page.goto(url)
        assert response.status < 500, url
        assert_no_script_ran(page, problems, url)


def test_payloads_typed_into_the_editor_never_run_in_its_live_preview(
    browser, live_server, handbook
):
    from policies.models import Person, Policy
    from policies.workflow import create_draft

    from .conftest import log_in

    create_draft(
        Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier"),
        by=Person.objects.get(username="redaktor.bergen"),
    )
    context = browser.new_context(base_url=live_server.url, bypass_csp=True)
    try:
        log_in(context, live_server, "redaktor.bergen")
        page = context.new_page()
        problems = PageProblems()
        page.on("dialog", lambda d: (problems.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
        page.goto("/redaksjon/bergen/sosiale-medier/utkast/")
        body = "## Forhåndsvisning\n\n" + "\n\n".join(XSS_PAYLOADS) + "\n\n## Slutt på angrepet\n"
        # markdownx puts the server's preview into the page with innerHTML: the sanitiser is all
        # that stands between a payload and the editor's own session.
        with page.expect_response(lambda r: "markdownify" in r.url, timeout=10_000) as preview:
            page.locator("#id_body").fill(body)
            page.locator("#id_body").dispatch_event("input")
        assert preview.value.status == 200
        page.wait_for_function(
            "() => !document.querySelector('.markdownx-preview').textContent.includes('Hvorfor')"
        )
        assert_no_script_ran(page, problems, "the editor's live preview")
    finally:
        context.close()


def test_payloads_in_people_and_unit_names_never_run_on_the_manager_pages(
    csp_free_page, live_server, handbook
):
    # Names come from the HR import; an employee can be called anything.
    from policies.models import Person, Unit

    from .conftest import log_in

    page, problems = csp_free_page
    department = Unit.objects.get(
        organisation__slug="bergen", name="Byrådsavdeling for helse og omsorg", parent=None
    )
    unit = make_unit(department.organisation, name=XSS_PAYLOADS[16][:100], parent=department)
    for payload in chunks(XSS_PAYLOADS, 150):
        make_person(department.organisation, unit=unit, first_name=payload, last_name=payload[:150])
    assert Person.objects.filter(unit=unit).count() > 5

    log_in(page.context, live_server, "leder.bergen")
    for url in (
        "/oversikt/",
        f"/oversikt/enhet/{department.pk}/",
        f"/oversikt/enhet/{unit.pk}/",
        "/oversikt/retningslinje/sosiale-medier/",
        "/oversikt/retningslinje/sosiale-medier/utskrift/",
        "/oversikt/retningslinje/sosiale-medier/paminnelse/",
    ):
        response = page.goto(url)
        assert response.status == 200, url
        assert_no_script_ran(page, problems, url)
