"""Every named address × every kind of visitor → the expected outcome, as one table.

The subject organisation is Bergen. "Editor of another organisation" is Moskenes' editor and
"employee of another organisation" Moskenes' employee: they must meet Bergen's internal and
editorial pages as strangers. The whole-organisation manager is Bergen's HR; the inactive person
is a Bergen leaver whose session outlived the account. Every address is tried with GET and with
POST; a POST that is refused must change nothing. A companion test fails as soon as an address
exists that the table does not mention, so a new page cannot ship without a row here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from people.models import Organisation, Person, Unit
from policies.models import Acknowledgement, Event, Policy, PolicyVersion, Synonym, Visibility
from policies.workflow import create_draft
from signin.models import Outcome, SignInEvent, SignInIdentity

from .factories import make_person, make_policy, make_signin_config
from .ports import free_port

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "employee",
    "manager",
    "editor",
    "other_editor",
    "admin",
    "whole_org_manager",
    "other_employee",
    "inactive",
)
USERNAMES = {
    "employee": "ansatt.bergen",
    "manager": "leder.bergen",
    "editor": "redaktor.bergen",
    "other_editor": "redaktor.moskenes",
    "admin": "admin",
    "whole_org_manager": "hr.bergen",  # made by the `subject` fixture
    "other_employee": "ansatt.moskenes",
    "inactive": "sluttet.bergen",  # made by the `subject` fixture
}

# Outcomes, as the test reports them: a status code, or where a redirect goes.
OK = "200"
NOT_FOUND = "404"
FORBIDDEN = "403"
NOT_ALLOWED = "405"
LOGIN = "302 → /logg-inn/"
ADMIN_LOGIN = "302 → /admin/login/"


def redirect(path: str) -> str:
    return f"302 → {path}"


def everyone(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


def row(*outcomes: str, **others: str) -> dict[str, str]:
    """Outcomes for anonymous, employee, manager, editor, other editor, admin, in that order.

    Unless given by name, the whole-organisation manager meets what the manager meets, the
    employee of another organisation what Bergen's employee meets, and an inactive person what
    an anonymous visitor meets (their session no longer logs them in).
    """
    assert len(outcomes) == 6
    result = dict(zip(ROLES[:6], outcomes, strict=True))
    result["whole_org_manager"] = others.pop("whole_org_manager", result["manager"])
    result["other_employee"] = others.pop("other_employee", result["employee"])
    result["inactive"] = others.pop("inactive", result["anonymous"])
    assert not others, others
    return result


# Bergen's people see their organisation's internal policy; Moskenes' editor gets a 404 (its
# existence must not leak); visitors are asked to log in.
INTERNAL = row(LOGIN, OK, OK, OK, NOT_FOUND, OK, other_employee=NOT_FOUND)
# Editorial pages: visitors log in, other roles are refused, an editor of another organisation meets
# a 404 for this one's policies (not even their existence leaks); superusers may edit everywhere.
# A receipt is its owner's alone (Bergen's employee); anyone else meets a 404.
RECEIPT = row(LOGIN, OK, *[NOT_FOUND] * 4, other_employee=NOT_FOUND)
EDITOR_ANY = row(LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, OK)
EDITOR_OWN = row(LOGIN, FORBIDDEN, FORBIDDEN, OK, NOT_FOUND, OK)
EDITOR_POST_ONLY = row(LOGIN, FORBIDDEN, FORBIDDEN, NOT_ALLOWED, NOT_ALLOWED, NOT_ALLOWED)


def editor_form(page: str) -> dict[str, str]:
    """An editor's form that only takes POST: a GET goes to the page with the form, whose own
    checks then apply (handbook.http.post_only)."""
    return row(LOGIN, FORBIDDEN, FORBIDDEN, *[redirect(page)] * 3)


# Manager pages: only people who manage units (or see the whole organisation); superusers use the
# admin instead (they belong to no organisation). A unit outside the manager's own is a 404.
MANAGER = row(LOGIN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)
MANAGER_ELSEWHERE = row(LOGIN, FORBIDDEN, NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN)
# Another unit of Bergen: outside the manager's units, inside the whole-organisation manager's.
MANAGER_OTHER_UNIT = {**MANAGER_ELSEWHERE, "whole_org_manager": OK}
ONLY_STAFF_ADMIN = row(ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, ADMIN_LOGIN, OK)


@dataclass(frozen=True)
class Case:
    name: str
    expect: dict[str, str]
    kwargs: dict | Callable[[], dict] = field(default_factory=dict)
    variant: str = ""
    query: str = ""
    # POST outcomes that differ from what GET's table implies (see expected_post).
    post: dict[str, str] = field(default_factory=dict)

    def url(self) -> str:
        kwargs = self.kwargs() if callable(self.kwargs) else self.kwargs
        return reverse(self.name, kwargs=kwargs) + self.query

    def __str__(self) -> str:
        return f"{self.name}[{self.variant}]" if self.variant else self.name


def pk_of(model, **lookup) -> Callable[[], dict]:
    return lambda: {"object_id": model.objects.filter(**lookup).order_by("pk").first().pk}


def employee_receipt() -> dict:
    """A confirmation of Bergen's employee: only she may see its receipt."""
    version = PolicyVersion.objects.get(
        policy__organisation__slug="bergen", policy__slug="sosiale-medier", status="published"
    )
    ack, _ = Acknowledgement.objects.get_or_create(
        person=Person.objects.get(username="ansatt.bergen"),
        version=version,
        defaults={"text_hash": version.text_hash},
    )
    return {"pk": ack.pk}


MANAGED_UNIT = "Byrådsavdeling for helse og omsorg"
OTHER_UNIT = "Byrådsavdeling for finans"


def unit_pk(name: str, org: str = "bergen") -> int:
    return Unit.objects.get(organisation__slug=org, name=name, parent=None).pk


def national_synonym_pk() -> int:
    return Synonym.objects.filter(organisation=None).order_by("pk").first().pk


PUBLIC_POLICY = {"org_slug": "bergen", "policy_slug": "sosiale-medier"}
INTERNAL_POLICY = {"org_slug": "bergen", "policy_slug": "intern-rutine"}

MATRIX: list[Case] = [
    # Reading pages.
    Case("home", everyone(OK)),
    Case("accessibility_statement", everyone(OK)),
    Case("kommune_theme", everyone(OK), {"org_slug": "bergen"}),
    Case("kommune_theme", everyone(NOT_FOUND), {"org_slug": "finnes-ikke"}, "unknown"),
    Case("resource_detail", everyone(OK), {"slug": "difi-veiledning"}),
    Case("organisation_handbook", everyone(OK), {"org_slug": "bergen"}),
    Case("organisation_handbook", everyone(NOT_FOUND), {"org_slug": "finnes-ikke"}, "unknown"),
    Case("policy_detail", everyone(OK), PUBLIC_POLICY, "public"),
    Case("policy_detail", INTERNAL, INTERNAL_POLICY, "internal"),
    # A policy is found under its own organisation only.
    Case(
        "policy_detail", everyone(NOT_FOUND), {**INTERNAL_POLICY, "org_slug": "bodo"}, "wrong org"
    ),
    Case("version_detail", everyone(OK), {**PUBLIC_POLICY, "number": 1}, "public"),
    Case("version_detail", INTERNAL, {**INTERNAL_POLICY, "number": 1}, "internal"),
    Case("version_detail", everyone(NOT_FOUND), {**PUBLIC_POLICY, "number": 99}, "unknown"),
    # Employee pages.
    Case("search", everyone(OK), query="?q=taushetsplikt"),
    Case("search", everyone(OK), variant="empty"),
    Case("me", row(LOGIN, OK, OK, OK, OK, OK)),
    Case("my_data", row(LOGIN, OK, OK, OK, OK, OK)),
    Case("my_data_json", row(LOGIN, OK, OK, OK, OK, OK)),
    Case("my_data_csv", row(LOGIN, OK, OK, OK, OK, OK)),
    # A form that only takes POST: a GET goes to the page with the form (handbook.http.post_only).
    Case("my_notices", row(LOGIN, *[redirect("/meg/")] * 5)),
    # A receipt is its owner's alone; anyone else meets a 404.
    Case("receipt", RECEIPT, employee_receipt),
    Case("receipt_pdf", RECEIPT, employee_receipt),
    # Confirming is POST only (tests/test_views_employee.py and tests/test_failures.py post to it).
    Case("confirm", row(LOGIN, *[redirect("/bergen/sosiale-medier/")] * 5), PUBLIC_POLICY),
    Case(
        "changes",
        everyone(OK),
        {"org_slug": "moskenes", "policy_slug": "sosiale-medier"},
        query="?fra=1&til=2",
    ),
    Case("changes", INTERNAL, INTERNAL_POLICY, "internal"),
    # The health check for load balancers: open to all, reveals nothing but "ok" per part.
    Case("health", everyone(OK)),
    # Prometheus metrics: only for a scraper with the token (tests/test_observability.py); to
    # everyone else, signed in or not, the address does not exist.
    Case("metrics", everyone(NOT_FOUND)),
    # An image no policy uses (who may see a used one is tests/test_images.py).
    Case("policy_image", everyone(NOT_FOUND), {"name": "finnes-ikke.png"}),
    # The målform switch in the header changes only the visitor's own preference: POST only.
    Case("choose_language", everyone(redirect("/"))),
    # Logging in and out. Bergen's sign-in points at a provider that is down (nothing listens):
    # a visitor starting it meets the Norwegian 502 page, a logged-in person goes home.
    Case("login", row(OK, *[redirect("/")] * 5)),
    Case(
        "login",
        row(redirect("/logg-inn/bergen/"), *[redirect("/")] * 5),
        variant="kommune",
        query="?kommune=bergen",
    ),
    Case("signin_start", row("502", *[redirect("/")] * 5), {"org": "bergen"}),
    Case("signin_start", everyone(NOT_FOUND), {"org": "bodo"}, "no sign-in configured"),
    # A callback without a state this browser was given is refused before the provider is asked.
    Case("signin_callback", everyone("400"), {"org": "bergen"}, query="?code=x&state=y"),
    Case("signin_callback", everyone(NOT_FOUND), {"org": "bodo"}, "no sign-in configured"),
    Case("organisation_login", everyone(redirect("/logg-inn/bergen/")), {"org": "bergen"}),
    Case("organisation_login", everyone(NOT_FOUND), {"org": "bodo"}, "no sign-in configured"),
    Case("logout", everyone(OK)),
    # Editorial pages (/redaksjon/), for Bergen's policy with an open draft.
    Case("editorial_dashboard", EDITOR_ANY),
    # A superuser belongs to no organisation, so has none to create a policy in.
    Case("editorial_policy_new", {**EDITOR_ANY, "admin": redirect("/redaksjon/")}),
    Case("editorial_reuse_list", EDITOR_ANY),
    Case(
        "editorial_reuse_start",
        {**EDITOR_ANY, "admin": redirect("/redaksjon/")},
        {"org_slug": "bodo", "policy_slug": "sosiale-medier"},
    ),
    Case("editorial_side_by_side", EDITOR_ANY),
    # Synonyms belong to the editor's own organisation; a superuser has none.
    Case("editorial_synonyms", {**EDITOR_ANY, "admin": redirect("/redaksjon/")}),
    # A national synonym is no kommune's own: the view refuses every editor's delete with a 404.
    Case(
        "editorial_synonym_delete",
        editor_form("/redaksjon/synonymer/"),
        lambda: {"pk": national_synonym_pk()},
        post={"editor": NOT_FOUND, "other_editor": NOT_FOUND},
    ),
    Case("editorial_receipt_lookup", EDITOR_ANY),
    # Each editor changes the look of their own kommune; a superuser belongs to none.
    Case("editorial_kommune_look", {**EDITOR_ANY, "admin": redirect("/redaksjon/")}),
    Case("editorial_analyse", EDITOR_POST_ONLY),
    Case("markdownx_markdownify", EDITOR_POST_ONLY),
    Case("markdownx_upload", EDITOR_POST_ONLY),
    Case("editorial_policy", EDITOR_OWN, PUBLIC_POLICY),
    Case("editorial_policy", EDITOR_OWN, INTERNAL_POLICY, "internal"),
    Case("editorial_settings", EDITOR_OWN, PUBLIC_POLICY),
    Case("editorial_draft", EDITOR_OWN, PUBLIC_POLICY),
    Case(
        "editorial_draft_start",
        editor_form("/redaksjon/bergen/sosiale-medier/"),
        PUBLIC_POLICY,
        post={"other_editor": NOT_FOUND},
    ),
    Case(
        "editorial_draft_discard",
        editor_form("/redaksjon/bergen/sosiale-medier/"),
        PUBLIC_POLICY,
        post={"other_editor": NOT_FOUND},
    ),
    Case("editorial_compare", EDITOR_OWN, PUBLIC_POLICY),
    Case("editorial_publish", EDITOR_OWN, PUBLIC_POLICY),
    Case("editorial_retire", EDITOR_OWN, PUBLIC_POLICY),
    Case("editorial_restore", EDITOR_OWN, PUBLIC_POLICY),
    Case("editorial_history", EDITOR_OWN, PUBLIC_POLICY),
    Case("editorial_translation", EDITOR_OWN, {**PUBLIC_POLICY, "number": 1, "language": "nn"}),
    # Manager pages (/oversikt/), for Bergen's manager of "Byrådsavdeling for helse og omsorg".
    Case("manager_overview", MANAGER),
    Case("manager_unit", MANAGER, lambda: {"unit_id": unit_pk(MANAGED_UNIT)}),
    Case(
        "manager_unit", MANAGER_OTHER_UNIT, lambda: {"unit_id": unit_pk(OTHER_UNIT)}, "other unit"
    ),
    Case(
        "manager_unit",
        MANAGER_ELSEWHERE,
        lambda: {"unit_id": unit_pk("Oppvekst", org="moskenes")},
        "other organisation",
    ),
    Case(
        "manager_policy_people",
        MANAGER_ELSEWHERE,
        {"slug": "finnes-ikke"},
        "unknown policy",
    ),
    *[
        Case(f"manager_policy_{page}", MANAGER, {"slug": "sosiale-medier"})
        for page in ("people", "export_csv", "export_xlsx", "print", "remind")
    ],
    *[
        Case(
            f"manager_unit_policy_{page}",
            MANAGER,
            lambda: {"unit_id": unit_pk(MANAGED_UNIT), "slug": "sosiale-medier"},
        )
        for page in ("people", "export_csv", "export_xlsx", "print", "remind")
    ],
    *[
        Case(
            f"manager_unit_policy_{page}",
            MANAGER_OTHER_UNIT,
            lambda: {"unit_id": unit_pk(OTHER_UNIT), "slug": "sosiale-medier"},
            "other unit",
        )
        for page in ("people", "export_csv", "export_xlsx", "print", "remind")
    ],
]


def admin_cases() -> list[Case]:
    """The Django admin is for superusers only; everyone else is sent to its login page."""
    cases = [
        Case("admin:index", ONLY_STAFF_ADMIN),
        # The admin's own login page answers everyone; a logged-in superuser goes on to the index.
        Case("admin:login", row(*[OK] * 5, redirect("/admin/"))),
        # Logging out is POST only (Django 5); visitors who are not staff are sent to the index first.
        Case("admin:logout", row(*[redirect("/admin/")] * 5, NOT_ALLOWED)),
        Case("admin:password_change", ONLY_STAFF_ADMIN),
        Case("admin:password_change_done", ONLY_STAFF_ADMIN),
        # Without its parameters the autocomplete view refuses even a superuser.
        Case("admin:autocomplete", {**ONLY_STAFF_ADMIN, "admin": FORBIDDEN}),
        Case("admin:jsi18n", ONLY_STAFF_ADMIN),
        Case(
            "admin:view_on_site",
            {**ONLY_STAFF_ADMIN, "admin": redirect("http://testserver/bergen/sosiale-medier/")},
            lambda: {
                "content_type_id": __import__(
                    "django.contrib.contenttypes.models", fromlist=["ContentType"]
                )
                .ContentType.objects.get_for_model(Policy)
                .pk,
                "object_id": Policy.objects.get(
                    organisation__slug="bergen", slug="sosiale-medier"
                ).pk,
            },
        ),
        Case(
            "admin:auth_user_password_change",
            ONLY_STAFF_ADMIN,
            lambda: {"id": Person.objects.get(username="ansatt.bergen").pk},
        ),
    ]
    for app_label in ("auth", "axes", "policies", "signin"):
        cases.append(Case("admin:app_list", ONLY_STAFF_ADMIN, {"app_label": app_label}, app_label))
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        obj = pk_of(model)
        # Confirmations and the audit trail are evidence: written by the verb modules only, never
        # added, changed or deleted by hand. Versions are written through /redaksjon/. Login records
        # (django-axes) are written by the login view only.
        # Sign-in links are made by signing in, sign-in events by sign-in only.
        # Policies are created in /redaksjon/ with their first draft and events; versions are never
        # deleted here (a published one is evidence, a draft is discarded in /redaksjon/).
        no_add = model in (
            Acknowledgement,
            Event,
            Policy,
            PolicyVersion,
            AccessAttempt,
            AccessLog,
            AccessFailureLog,
            SignInIdentity,
            SignInEvent,
        )
        no_delete = model in (Acknowledgement, Event, PolicyVersion, SignInEvent)
        cases += [
            Case(f"{prefix}_changelist", ONLY_STAFF_ADMIN),
            Case(
                f"{prefix}_add",
                {**ONLY_STAFF_ADMIN, "admin": FORBIDDEN} if no_add else ONLY_STAFF_ADMIN,
            ),
            Case(f"{prefix}_change", ONLY_STAFF_ADMIN, obj),
            Case(f"{prefix}_history", ONLY_STAFF_ADMIN, obj),
            Case(
                f"{prefix}_delete",
                {**ONLY_STAFF_ADMIN, "admin": FORBIDDEN} if no_delete else ONLY_STAFF_ADMIN,
                obj,
            ),
        ]
    return cases


def walk(patterns, namespace: str | None = None) -> Iterator[tuple[str | None, str]]:
    """(namespaced name, route) of every URL pattern, descending into includes."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            for name, route in walk(pattern.url_patterns, ns):
                yield name, str(pattern.pattern) + route
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield name, str(pattern.pattern)


def all_cases() -> list[Case]:
    return MATRIX + admin_cases()


@pytest.fixture
def subject(handbook):
    """The real handbook plus one internal policy of Bergen, and a row for every admin model."""
    from django.contrib.auth.models import Group

    bergen = Organisation.objects.get(slug="bergen")
    make_policy(
        bergen,
        slug="intern-rutine",
        title="Intern rutine for pressehenvendelser",
        visibility=Visibility.INTERNAL,
    )
    employee = Person.objects.get(username="ansatt.bergen")
    Acknowledgement.objects.create(
        person=employee,
        version=PolicyVersion.objects.get(
            policy__organisation=bergen, policy__slug="sosiale-medier", status="published"
        ),
        text_hash="0" * 64,
    )
    Group.objects.create(name="HR")
    bergen_unit = Unit.objects.filter(organisation=bergen).order_by("pk").first()
    make_person(bergen, unit=bergen_unit, username="hr.bergen", sees_whole_organisation=True)
    make_person(bergen, unit=bergen_unit, username="sluttet.bergen", is_active=False)
    # An open draft, so that the editorial draft pages have something to show.
    create_draft(
        Policy.objects.get(organisation=bergen, slug="sosiale-medier"),
        by=Person.objects.get(username="redaktor.bergen"),
    )
    # Bergen signs in through a provider that is down (a port nothing listens on).
    signin_config = make_signin_config(bergen, f"http://127.0.0.1:{free_port()}")
    SignInIdentity.objects.create(
        organisation=bergen, person=employee, subject="tid/oid", issuer=signin_config.issuer
    )
    SignInEvent.objects.create(organisation=bergen, person=employee, outcome=Outcome.SIGNED_IN)
    attempt = {"username": "ansatt.bergen", "ip_address": "127.0.0.1", "user_agent": "test"}
    AccessAttempt.objects.create(**attempt, failures_since_start=1)
    AccessLog.objects.create(**attempt)
    AccessFailureLog.objects.create(**attempt)


def outcome_of(response) -> str:
    if response.status_code in (301, 302):
        location = response["Location"]
        return f"{response.status_code} → {location.split('?')[0]}"
    return str(response.status_code)


def clients() -> dict[str, Client]:
    result = {"anonymous": Client()}
    for role, username in USERNAMES.items():
        client = Client()
        client.force_login(Person.objects.get(username=username))
        result[role] = client
    return result


def test_every_named_address_answers_every_kind_of_visitor_as_the_table_says(subject):
    clients_by_role = clients()
    wrong = []
    checked = 0
    for case in all_cases():
        url = case.url()
        for role in ROLES:
            actual = outcome_of(clients_by_role[role].get(url))
            checked += 1
            if actual != case.expect[role]:
                wrong.append(f"{case} {url} as {role}: expected {case.expect[role]}, got {actual}")
    assert not wrong, f"{len(wrong)} of {checked} outcomes differ:\n" + "\n".join(wrong)
    print(f"access matrix: {len(all_cases())} cases × {len(ROLES)} roles = {checked} outcomes")


# What a POST meets: a refusal as for GET, or the view itself (which may then refuse bad input).
REFUSALS = {LOGIN, FORBIDDEN, NOT_FOUND, ADMIN_LOGIN}
REACHED = "reaches the view"


def expected_post(case: Case, role: str) -> str:
    """A role refused on GET is refused on POST; any other reaches the view."""
    if role in case.post:
        return case.post[role]
    expected = case.expect[role]
    return expected if expected in REFUSALS else REACHED


def post_matches(actual: str, expected: str) -> bool:
    # A 405 is the view refusing the method before anything else: nothing is done or revealed.
    return actual in (expected, NOT_ALLOWED)


def database_state() -> tuple:
    """Everything a POST could change, counted; equal before and after means nothing changed."""
    from policies.models import DigestDelivery, Reminder, Resource, Section, Translation

    return (
        Translation.objects.count(),
        Event.objects.count(),
        Acknowledgement.objects.count(),
        Reminder.objects.count(),
        DigestDelivery.objects.count(),
        Section.objects.count(),
        Resource.objects.count(),
        list(PolicyVersion.objects.order_by("pk").values_list("pk", "status", "revision")),
        list(Policy.objects.order_by("pk").values_list("pk", "retired_at", "title")),
        list(Person.objects.order_by("pk").values_list("pk", "is_active", "password")),
        Unit.objects.count(),
        Organisation.objects.count(),
    )


def post_outcome(client: Client, url: str) -> str:
    actual = outcome_of(client.post(url, {}))
    return actual if actual in REFUSALS | {NOT_ALLOWED} else REACHED


def logged_in(role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(Person.objects.get(username=USERNAMES[role]))
    return client


def test_every_post_is_refused_as_the_table_says_and_a_refused_post_changes_nothing(subject):
    # Superusers are left out of the admin's POSTs: its own permission checks are Django's, and
    # its delete confirmations would remove the rows the other cases use.
    cases = [(case, role) for case in all_cases() for role in ROLES]
    cases = [(c, r) for c, r in cases if not (r == "admin" and c.name.startswith("admin:"))]
    refused = [(c, r) for c, r in cases if expected_post(c, r) in REFUSALS]
    reached = [(c, r) for c, r in cases if expected_post(c, r) == REACHED]
    wrong = []

    before = database_state()
    # A refused POST changes nothing, not even its client's session: one client per role.
    clients_by_role = {role: logged_in(role) for role in ROLES}
    for case, role in refused:
        actual = post_outcome(clients_by_role[role], case.url())
        if not post_matches(actual, expected_post(case, role)):
            wrong.append(
                f"POST {case} as {role}: expected {expected_post(case, role)}, got {actual}"
            )
    assert database_state() == before, "a refused POST changed the database"
    # Last, as these may change things (retire, remind, log out ...): they must not be refused.
    # A fresh client each: a POST may log its client out.
    for case, role in reached:
        actual = post_outcome(logged_in(role), case.url())
        if not post_matches(actual, REACHED):
            wrong.append(f"POST {case} as {role}: expected {REACHED}, got {actual}")
    assert not wrong, f"{len(wrong)} of {len(cases)} POST outcomes differ:\n" + "\n".join(wrong)
    print(f"access matrix, POST: {len(refused)} refused, {len(reached)} reach their view")


def test_every_named_address_is_in_the_access_matrix():
    in_table = {case.name for case in all_cases()}
    named = {name for name, _ in walk(get_resolver().url_patterns) if name}
    missing = sorted(named - in_table)
    assert not missing, f"addresses missing from the access matrix: {missing}"
    stale = sorted(in_table - named)
    assert not stale, f"the access matrix names addresses that no longer exist: {stale}"


# Addresses without a name, and why they need no row: the admin's own redirects and catch-all.
UNNAMED: set[str] = set()


def test_every_address_outside_the_admin_has_a_name_so_the_matrix_can_see_it():
    unnamed = [route for name, route in walk(get_resolver().url_patterns) if not name]
    unexpected = [r for r in unnamed if not r.startswith("admin/") and r not in UNNAMED]
    assert not unexpected, unexpected
