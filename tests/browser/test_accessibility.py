"""axe-core's WCAG 2.0/2.1/2.2 A and AA rules on every page type, at desktop width and at 320 px.

Each page type is one line of data: a name, the address (or a function of the loaded handbook that
gives it), who is logged in, and the status the page is expected to answer with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from people.models import Organisation, Person, Unit
from policies.models import Acknowledgement, Policy, PolicyVersion, Synonym
from policies.workflow import create_draft, retire

from .axe import axe_violations, format_violations
from .conftest import log_in

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class PageType:
    name: str
    url: str | Callable[[], str]
    user: str | None = None
    status: int = 200
    # Something the page needs that the handbook does not have (an open draft, a confirmation...).
    prepare: Callable[[], object] | None = None

    def address(self) -> str:
        return self.url() if callable(self.url) else self.url


def open_draft(org: str = "bergen", slug: str = "sosiale-medier", *, by: str = "redaktor.bergen"):
    policy = Policy.objects.get(organisation__slug=org, slug=slug)
    if not policy.versions.filter(status="draft").exists():
        create_draft(policy, by=Person.objects.get(username=by))


def unit_url(
    suffix: str = "", name: str = "Byrådsavdeling for helse og omsorg"
) -> Callable[[], str]:
    def url() -> str:
        unit = Unit.objects.get(organisation__slug="bergen", name=name, parent=None)
        return f"/oversikt/enhet/{unit.pk}/{suffix}"

    return url


def confirmed(username: str = "ansatt.bergen", org: str = "bergen"):
    """`username` has confirmed the current version of the organisation's social-media policy."""

    def prepare():
        version = PolicyVersion.objects.get(
            policy__organisation__slug=org, policy__slug="sosiale-medier", status="published"
        )
        Acknowledgement.objects.get_or_create(
            person=Person.objects.get(username=username),
            version=version,
            defaults={"text_hash": version.text_hash},
        )

    return prepare


def receipt_of(username: str = "ansatt.bergen") -> Acknowledgement:
    confirmed(username)()
    return Acknowledgement.objects.get(
        person__username=username,
        version__policy__organisation__slug="bergen",
        version__policy__slug="sosiale-medier",
        version__status="published",
    )


def kommune_look():
    from policies.authoring import change_look

    change_look(
        Organisation.objects.get(slug="bergen"),
        by=None,
        accent_color="#1a5e9a",
        contact="Servicetorget, Rådhuset",
        contact_email="post@bergen.kommune.no",
        contact_phone="55 56 55 56",
        privacy_url="https://www.bergen.kommune.no/personvern",
    )


def retired():
    policy = Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier")
    if not policy.is_retired:
        retire(policy, by=Person.objects.get(username="redaktor.bergen"))


def bergen_synonym():
    Synonym.objects.get_or_create(
        organisation=Organisation.objects.get(slug="bergen"),
        word="innlogging",
        defaults={"words": "passord, tofaktor"},
    )


def signin_configured():
    """Bergen and Moskenes sign in through their own providers (here: addresses nobody answers)."""
    from signin.models import SignInConfig

    from ..factories import make_signin_config
    from ..ports import free_port

    for slug in ("bergen", "moskenes"):
        organisation = Organisation.objects.get(slug=slug)
        if not SignInConfig.objects.filter(organisation=organisation).exists():
            make_signin_config(organisation, f"http://127.0.0.1:{free_port()}")


def nynorsk_moskenes(*, behind: bool = False):
    """Moskenes speaks nynorsk and its guideline has the demo's nynorsk version (version 2);
    with `behind`, a version 3 has been published since, so the nynorsk text is behind."""

    def prepare():
        from policies.fixtures import read_document
        from policies.management.commands.seed_demo import NYNORSK_DEMO
        from policies.workflow import publish_translation, save_translation

        from ..factories import publish_version

        Organisation.objects.filter(slug="moskenes").update(language="nn")
        version = PolicyVersion.objects.get(
            policy__organisation__slug="moskenes", policy__slug="sosiale-medier", number=2
        )
        if not version.translations.exists():
            document = read_document(NYNORSK_DEMO)
            translation = save_translation(
                version,
                language="nn",
                by=None,
                title=document.meta["title"],
                body=document.body,
                note=document.meta["note"],
                revision=None,
            )
            publish_translation(translation, by=None)
            if behind:
                publish_version(version.policy, body="## Ny\n\nEin ny versjon.\n")

    return prepare


def nynorsk_editor(*, draft: bool = False):
    """Moskenes speaks nynorsk (its editor has no målform of their own, so the interface is in
    nynorsk) and, with `draft`, its guideline has an open draft with headings and a long sentence,
    in bokmål like the original."""

    def prepare():
        from policies.workflow import save_draft

        nynorsk_moskenes()()
        Synonym.objects.get_or_create(
            organisation=Organisation.objects.get(slug="moskenes"),
            word="some",
            defaults={"words": "sosiale medier"},
        )
        if draft:
            open_draft("moskenes", by="redaktor.moskenes")
            version = PolicyVersion.objects.get(
                policy__organisation__slug="moskenes", status="draft"
            )
            body = version.body + (
                "\n\n## Nytt avsnitt\n\nDette er en ny setning i utkastet som er lang nok til at "
                "lesbarhetsanalysen viser den som en setning med mer enn tjuefem ord, slik at "
                "listen over lange setninger også blir kontrollert.\n"
            )
            save_draft(version, by=None, title=version.title, body=body, revision=version.revision)

    return prepare


def side_by_side_url() -> str:
    left = Policy.objects.get(organisation__slug="moskenes", slug="sosiale-medier").pk
    right = Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier").pk
    return f"/redaksjon/side-om-side/?venstre={left}&hoyre={right}"


EMP = "ansatt.bergen"
ED = "redaktor.bergen"
EDN = "redaktor.moskenes"
MOSKENES = "moskenes/sosiale-medier"
MGR = "leder.bergen"
BERGEN = "bergen/sosiale-medier"

PAGE_TYPES = [
    PageType("handbook index (organisations)", "/"),
    PageType("organisation handbook", "/moskenes/"),
    PageType("organisation handbook, logged in", "/bergen/", user="ansatt.bergen"),
    PageType("policy", "/moskenes/sosiale-medier/"),
    PageType("policy, logged in", "/bergen/sosiale-medier/", user="ansatt.bergen"),
    PageType("old version", "/moskenes/sosiale-medier/versjon/1/"),
    PageType("retired policy", "/bergen/sosiale-medier/", prepare=retired),
    PageType(
        "policy, confirmed (receipt)", "/bergen/sosiale-medier/", user=EMP, prepare=confirmed()
    ),
    PageType("resource", "/ressurser/difi-veiledning/"),
    # Employee pages.
    PageType("search with hits", "/sok/?q=taushetsplikt"),
    PageType("search with hits, logged in", "/sok/?q=taushetsplikt", user=EMP),
    PageType("search with background resources", "/sok/?q=ytringsfrihet lojalitetsplikt"),
    PageType("search, hits only in other kommuner", "/sok/?q=arbeidsmiljøutvalget", user=EMP),
    PageType("search without hits", "/sok/?q=qwxzyv"),
    PageType("search, nothing asked", "/sok/"),
    PageType("Mine retningslinjer", "/", user=EMP),
    PageType("Mine retningslinjer, all confirmed", "/", user=EMP, prepare=confirmed()),
    PageType("/meg/", "/meg/", user=EMP),
    PageType("/meg/ with confirmations", "/meg/", user=EMP, prepare=confirmed()),
    PageType("my data, readable", "/meg/mine-data/", user=EMP, prepare=confirmed()),
    PageType("diff between versions", "/moskenes/sosiale-medier/endringer/?fra=1&til=2"),
    PageType("diff, choose versions", "/bergen/sosiale-medier/endringer/"),
    PageType(
        "diff, with the confirmation at the end",
        "/moskenes/sosiale-medier/endringer/?fra=1&til=2",
        user="ansatt.moskenes",
    ),
    PageType("receipt", lambda: f"/meg/kvitteringer/{receipt_of().pk}/", user=EMP),
    PageType(
        "editor: receipt lookup, found",
        lambda: f"/redaksjon/kvittering/?referanse={receipt_of().reference}",
        user=ED,
    ),
    PageType(
        "editor: receipt lookup, not found",
        "/redaksjon/kvittering/?referanse=B-1-000000",
        user=ED,
        status=404,
    ),
    PageType(
        "policy in the kommune's own look",
        "/bergen/sosiale-medier/",
        user=EMP,
        prepare=kommune_look,
    ),
    PageType("login", "/logg-inn/"),
    PageType("login with errors", "/logg-inn/?feil=1"),
    PageType("login: the kommunes' own sign-in first", "/logg-inn/", prepare=signin_configured),
    PageType(
        "sign-in refused: the provider does not answer",
        "/logg-inn/bergen/",
        status=502,
        prepare=signin_configured,
    ),
    PageType(
        "sign-in refused: stale or replayed",
        "/logg-inn/bergen/retur/?code=x&state=y",
        status=400,
        prepare=signin_configured,
    ),
    PageType("logout (question)", "/logg-ut/", user="ansatt.bergen"),
    PageType("logout (done)", "/logg-ut/"),
    PageType("tilgjengelighetserklæring", "/tilgjengelighet/"),
    # Language versions: a nynorsk kommune's policy in nynorsk, and the nynorsk text behind.
    PageType(
        "policy in nynorsk (translation)", "/moskenes/sosiale-medier/", prepare=nynorsk_moskenes()
    ),
    PageType(
        "policy in nynorsk, translation behind",
        "/moskenes/sosiale-medier/",
        prepare=nynorsk_moskenes(behind=True),
    ),
    PageType(
        "old version's nynorsk translation",
        "/moskenes/sosiale-medier/versjon/2/?sprak=nn",
        prepare=nynorsk_moskenes(behind=True),
    ),
    # Editorial pages (/redaksjon/), as Bergen's editor.
    PageType("editor: dashboard", "/redaksjon/", user=ED),
    PageType("editor: new policy", "/redaksjon/ny/", user=ED),
    PageType("editor: policy", f"/redaksjon/{BERGEN}/", user=ED),
    PageType("editor: policy settings", f"/redaksjon/{BERGEN}/innstillinger/", user=ED),
    PageType("editor: draft", f"/redaksjon/{BERGEN}/utkast/", user=ED, prepare=open_draft),
    PageType(
        "editor: compare draft",
        f"/redaksjon/{BERGEN}/utkast/sammenlign/",
        user=ED,
        prepare=open_draft,
    ),
    PageType("editor: publish", f"/redaksjon/{BERGEN}/publiser/", user=ED, prepare=open_draft),
    PageType("editor: retire", f"/redaksjon/{BERGEN}/trekk-tilbake/", user=ED),
    PageType(
        "editor: restore a retired policy",
        f"/redaksjon/{BERGEN}/gjenopprett/",
        user=ED,
        prepare=retired,
    ),
    PageType("editor: history", f"/redaksjon/{BERGEN}/historikk/", user=ED),
    PageType("editor: translation", f"/redaksjon/{BERGEN}/versjon/1/oversettelse/nn/", user=ED),
    PageType("editor: reuse list", "/redaksjon/gjenbruk/", user=ED),
    PageType("editor: reuse another's policy", "/redaksjon/gjenbruk/bodo/sosiale-medier/", user=ED),
    PageType("editor: side by side", "/redaksjon/side-om-side/", user=ED),
    PageType("editor: synonyms", "/redaksjon/synonymer/", user=ED, prepare=bergen_synonym),
    PageType("editor: the kommune's look", "/redaksjon/kommune/", user=ED, prepare=kommune_look),
    PageType("editor: side by side, two chosen", side_by_side_url, user=ED),
    # The editorial pages in nynorsk, as the editor of a nynorsk Moskenes: the interface in
    # nynorsk, the policy texts in bokmål and marked so. (The new-policy form is the settings
    # form, and the reuse list a table like the one in bokmål: not repeated, to save time.)
    PageType("editor, nynorsk: dashboard", "/redaksjon/", user=EDN, prepare=nynorsk_editor()),
    PageType(
        "editor, nynorsk: policy settings",
        f"/redaksjon/{MOSKENES}/innstillinger/",
        user=EDN,
        prepare=nynorsk_editor(),
    ),
    PageType(
        "editor, nynorsk: draft",
        f"/redaksjon/{MOSKENES}/utkast/",
        user=EDN,
        prepare=nynorsk_editor(draft=True),
    ),
    PageType(
        "editor, nynorsk: compare draft",
        f"/redaksjon/{MOSKENES}/utkast/sammenlign/",
        user=EDN,
        prepare=nynorsk_editor(draft=True),
    ),
    PageType(
        "editor, nynorsk: publish",
        f"/redaksjon/{MOSKENES}/publiser/",
        user=EDN,
        prepare=nynorsk_editor(draft=True),
    ),
    PageType(
        "editor, nynorsk: reuse another's policy",
        "/redaksjon/gjenbruk/bergen/sosiale-medier/",
        user=EDN,
        prepare=nynorsk_editor(),
    ),
    PageType(
        "editor, nynorsk: side by side, two chosen",
        side_by_side_url,
        user=EDN,
        prepare=nynorsk_editor(),
    ),
    PageType(
        "editor, nynorsk: synonyms", "/redaksjon/synonymer/", user=EDN, prepare=nynorsk_editor()
    ),
    PageType(
        "editor, nynorsk: the kommune's look",
        "/redaksjon/kommune/",
        user=EDN,
        prepare=nynorsk_editor(),
    ),
    # Manager pages (/oversikt/), as Bergen's manager of a department.
    PageType("manager: overview", "/oversikt/", user=MGR),
    PageType("manager: unit", unit_url(), user=MGR),
    PageType("manager: who confirmed", "/oversikt/retningslinje/sosiale-medier/", user=MGR),
    PageType(
        "manager: who confirmed in a unit",
        unit_url("retningslinje/sosiale-medier/"),
        user=MGR,
    ),
    PageType(
        "manager: only those missing",
        "/oversikt/retningslinje/sosiale-medier/?mangler=1",
        user=MGR,
        prepare=confirmed("leder.bergen"),
    ),
    PageType("manager: print list", "/oversikt/retningslinje/sosiale-medier/utskrift/", user=MGR),
    PageType(
        "manager: send reminders", "/oversikt/retningslinje/sosiale-medier/paminnelse/", user=MGR
    ),
    PageType("404 page", "/finnes-ikke/finnes-heller-ikke/", status=404),
    PageType("400 page", "/test-feil/400/", status=400),
    PageType("403 page", "/test-feil/403/", status=403),
    PageType("500 page", "/test-feil/500/", status=500),
    PageType("503 page (database down)", "/test-feil/503/", status=503),
    PageType("403 page (form refused, CSRF)", "/test-feil/csrf/", status=403),
    PageType("locked out (too many logins)", "/test-feil/laast/", status=429),
]


@pytest.fixture(autouse=True)
def _error_pages_reachable(settings):
    settings.ROOT_URLCONF = "tests.error_urls"


def open_page(page, context, live_server, page_type: PageType):
    if page_type.prepare and page.url == "about:blank":
        page_type.prepare()
    if page_type.user:
        log_in(context, live_server, page_type.user)
    response = page.goto(page_type.address())
    assert response is not None
    assert response.status == page_type.status, f"{page_type.name}: {response.status}"
    if page_type.name.startswith("editor, nynorsk"):
        assert page.locator("html").get_attribute("lang") == "nn", page_type.name
    if page_type.name == "login with errors":
        # The page as a person meets it after a wrong password: errors shown next to the fields.
        page.get_by_label("Brukernavn").fill("ansatt.bergen")
        page.get_by_label("Passord").fill("feil-passord")
        page.get_by_role("button", name="Logg inn").click()
        page.wait_for_load_state()
        assert page.locator(".ds-alert, .ds-validation-message").count() > 0


def too_wide(page, width: int) -> list[str]:
    """The innermost elements sticking out to the right, to say where a reflow failure comes from."""
    return page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > width
                && ![...el.children].some(c => c.getBoundingClientRect().right > width))
            .slice(0, 5)
            .map(el => el.outerHTML.slice(0, 120) + ' right=' + Math.round(el.getBoundingClientRect().right))""",
        width,
    )


def assert_no_violations(page, page_type: PageType, width: int):
    violations = axe_violations(page)
    assert not violations, (
        f"axe found {len(violations)} WCAG violation(s) on {page_type.name} "
        f"({page_type.address()}) at {width} px:\n{format_violations(violations)}"
    )


@pytest.mark.parametrize("page_type", PAGE_TYPES, ids=lambda p: p.name)
def test_page_type_has_no_wcag_violations_at_desktop_width_or_at_320_px(
    page, context, live_server, handbook, page_type
):
    open_page(page, context, live_server, page_type)
    assert_no_violations(page, page_type, 1280)

    # WCAG 1.4.10 Reflow: 320 CSS px wide (1280 px at 400 % zoom) without horizontal scrolling.
    page.set_viewport_size({"width": 320, "height": 640})
    open_page(page, context, live_server, page_type)
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= 320, (
        f"{page_type.name} is {scroll_width} px wide at 320 px; too wide: {too_wide(page, 320)}"
    )
    assert_no_violations(page, page_type, 320)
