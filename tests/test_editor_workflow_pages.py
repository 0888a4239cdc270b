"""Editors (issue 12): discarding a draft, the impact of a material change said before and after
publishing, the history's filter by kind of event, and the Markdown toolbar."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from outbox.models import Email
from people.models import Person
from policies.models import (
    ChangeNotice,
    Event,
    EventVerb,
    Obligation,
    Policy,
    PolicyVersion,
    Status,
)
from policies.notices import material_impact
from policies.workflow import (
    AlreadyPublishedError,
    ConflictError,
    create_draft,
    discard_draft,
    publish,
    save_draft,
)

from .jobs import expand_queued

pytestmark = pytest.mark.django_db

BERGEN = "/redaksjon/bergen/sosiale-medier/"


def person(username: str) -> Person:
    return Person.objects.get(username=username)


def bergen_policy() -> Policy:
    return Policy.objects.get(organisation__slug="bergen", slug="sosiale-medier")


@pytest.fixture
def draft(handbook):
    return create_draft(bergen_policy(), by=person("redaktor.bergen"))


@pytest.fixture
def editor(client, handbook):
    client.force_login(person("redaktor.bergen"))
    return client


# --- Discarding a draft ------------------------------------------------------------------------


def test_discarding_a_draft_leaves_the_live_version_and_allows_a_new_draft(editor, draft):
    live = bergen_policy().versions.current().get()
    response = editor.post(
        BERGEN + "utkast/forkast/", {"draft": draft.pk, "revision": draft.revision}, follow=True
    )
    assert "Utkastet er forkastet" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.DISCARDED and draft.number is None
    policy = bergen_policy()
    assert policy.versions.drafts().count() == 0
    assert policy.versions.current().get() == live
    event = Event.objects.filter(policy=policy).order_by("-pk").first()
    assert event.verb == EventVerb.DRAFT_DISCARDED and event.actor == person("redaktor.bergen")
    # A new draft starts from the live text, not from the discarded one.
    new = create_draft(policy, by=person("redaktor.bergen"))
    assert new.pk != draft.pk and new.body == live.body and new.based_on == live


def test_a_second_discard_changes_nothing(editor, draft):
    data = {"draft": draft.pk, "revision": draft.revision}
    editor.post(BERGEN + "utkast/forkast/", data)
    events = Event.objects.count()
    response = editor.post(BERGEN + "utkast/forkast/", data)
    assert response.status_code == 302
    assert Event.objects.count() == events


def test_a_draft_saved_by_someone_else_since_is_not_discarded(editor, draft):
    save_draft(draft, by=None, title=draft.title, body="Ny tekst fra en kollega.", revision=1)
    response = editor.post(
        BERGEN + "utkast/forkast/", {"draft": draft.pk, "revision": 1}, follow=True
    )
    assert "Noen har lagret utkastet" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_a_published_draft_cannot_be_discarded(draft):
    publish(draft, by=None, change_kind="editorial", change_note="Rettet.")
    with pytest.raises(AlreadyPublishedError):
        discard_draft(draft, by=None, revision=draft.revision)
    assert PolicyVersion.objects.get(pk=draft.pk).status == Status.PUBLISHED


def test_a_discard_racing_a_save_is_refused(draft):
    save_draft(draft, by=None, title=draft.title, body="Lagret.", revision=1)
    with pytest.raises(ConflictError):
        discard_draft(draft, by=None, revision=1)


@pytest.mark.parametrize(
    "data", [{}, {"draft": "x", "revision": "1"}, {"draft": "999999", "revision": "1"}]
)
def test_a_bad_discard_form_changes_nothing(editor, draft, data):
    response = editor.post(BERGEN + "utkast/forkast/", data, follow=True)
    assert "Ingenting er endret" in response.content.decode()
    assert PolicyVersion.objects.get(pk=draft.pk).status == Status.DRAFT


def test_an_editor_of_another_kommune_cannot_discard(client, draft):
    client.force_login(person("redaktor.moskenes"))
    response = client.post(BERGEN + "utkast/forkast/", {"draft": draft.pk, "revision": 1})
    assert response.status_code == 404
    assert PolicyVersion.objects.get(pk=draft.pk).status == Status.DRAFT


def test_discard_is_post_only(editor, draft):
    # A GET (a bookmark, or the address signing in again led back to) discards nothing.
    response = editor.get(BERGEN + "utkast/forkast/")
    assert (response.status_code, response["Location"]) == (302, BERGEN)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_a_discarded_draft_is_frozen_by_the_database(draft):
    discard_draft(draft, by=None, revision=draft.revision)
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=draft.pk).update(status=Status.DRAFT)
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=draft.pk).update(body="Gjenopplivet.")
    # A discarded version never carries a number (the check constraint).
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.create(
            policy=bergen_policy(), status=Status.DISCARDED, number=99, title="X", body="X"
        )


# --- The impact of a material change ------------------------------------------------------------


def test_the_publish_page_says_who_must_confirm_again_before_publishing(editor, draft):
    impact = material_impact(bergen_policy())
    assert impact.people > 0
    html = editor.get(BERGEN + "publiser/").content.decode()
    assert "Hva skjer når du publiserer" in html
    assert f"{impact.people} personer må bekrefte på nytt" in html
    assert f"{impact.by_email} av dem får e-post" in html
    assert "Redaksjonell endring:</strong> ingen må bekrefte på nytt" in html


def test_the_impact_counts_only_those_who_want_email_at_once(handbook):
    policy = bergen_policy()
    before = material_impact(policy)
    chosen = (
        Obligation.objects.filter(policy=policy, person__change_notices=Person.Notices.AT_ONCE)
        .exclude(person__email="")
        .values_list("person_id", flat=True)
        .first()
    )
    Person.objects.filter(pk=chosen).update(change_notices=Person.Notices.WEEKLY)
    after = material_impact(policy)
    assert after.people == before.people
    assert after.by_email == before.by_email - 1
    assert after.in_digest == before.in_digest + 1


def _publish_material(editor, draft) -> str:
    """Publish `draft` as a material change today through the publish page; the page after."""
    response = editor.post(
        BERGEN + "publiser/",
        {
            "draft": draft.pk,
            "revision": draft.revision,
            "change_kind": "material",
            "change_note": "Nye regler.",
            "adopted_by": "",
            "adopted_on": "",
            "effective_from": timezone.localdate().isoformat(),
        },
        follow=True,
    )
    return response.content.decode()


def test_after_a_material_publish_the_editor_is_told_what_happens_next(editor, draft):
    # One of those who must confirm reads of changes only in the weekly digest.
    weekly = (
        Obligation.objects.filter(policy=bergen_policy())
        .exclude(person__email="")
        .values_list("person_id", flat=True)
        .first()
    )
    Person.objects.filter(pk=weekly).update(change_notices=Person.Notices.WEEKLY)
    html = _publish_material(editor, draft)
    version = PolicyVersion.objects.get(pk=draft.pk)
    # The worker writes the notices the publish queued (one job): as many as the editor was told.
    expand_queued()
    told = ChangeNotice.objects.filter(version=version).count()
    assert told == Email.objects.filter(kind="notice").count() > 0
    impact = material_impact(bergen_policy())
    assert (
        f"Versjon {version.number} er publisert. {impact.people} personer må bekrefte innen" in html
    )
    assert f"{told} av dem får e-post om det nå" in html


def test_after_an_editorial_publish_the_editor_is_told_nobody_must_confirm(editor, draft):
    response = editor.post(
        BERGEN + "publiser/",
        {
            "draft": draft.pk,
            "revision": draft.revision,
            "change_kind": "editorial",
            "change_note": "Rettet skrivefeil.",
            "adopted_by": "",
            "adopted_on": "",
            "effective_from": timezone.localdate().isoformat(),
        },
        follow=True,
    )
    assert "tidligere bekreftelser gjelder fortsatt" in response.content.decode()
    assert Email.objects.filter(kind="notice").count() == 0


# --- History filter ------------------------------------------------------------------------------


def test_the_history_filters_by_kind_of_event(editor, draft):
    policy = bergen_policy()
    Event.objects.create(
        organisation=policy.organisation,
        policy=policy,
        actor=person("leder.bergen"),
        verb=EventVerb.EXPORTED,
        detail={"format": "csv"},
    )
    everything = editor.get(BERGEN + "historikk/").content.decode()
    assert "Eksportert" in everything and "Utkast opprettet" in everything
    text_only = editor.get(BERGEN + "historikk/?vis=tekst").content.decode()
    assert "Utkast opprettet" in text_only and '<th scope="row">Eksportert' not in text_only
    managers = editor.get(BERGEN + "historikk/?vis=ledere").content.decode()
    assert '<th scope="row">Eksportert' in managers and "Utkast opprettet" not in managers
    # An unknown kind shows everything rather than an error.
    assert editor.get(BERGEN + "historikk/?vis=<script>").status_code == 200


# --- The editor page ---------------------------------------------------------------------------


def test_the_draft_page_has_a_toolbar_and_a_way_to_discard(editor, draft):
    html = editor.get(BERGEN + "utkast/").content.decode()
    assert 'class="md-toolbar" role="group" aria-label="Formatering av teksten" hidden' in html
    for label in ("Overskrift", "Fet", "Kursiv", "Punktliste", "Nummerert liste", "Lenke"):
        assert f">{label}</button>" in html
    assert "Forkast utkastet" in html and f'name="revision" value="{draft.revision}"' in html


@pytest.mark.parametrize(
    ("notices", "said"),
    [
        (
            Person.Notices.AT_ONCE,
            "personer må bekrefte innen {deadline}, og alle får e-post om det nå.",
        ),
        (Person.Notices.WEEKLY, "på «Mine retningslinjer»; ingen får e-post nå."),
    ],
)
def test_the_publish_message_speaks_of_others_only_when_there_are_others(
    editor, draft, notices, said
):
    Person.objects.update(change_notices=notices)
    html = _publish_material(editor, draft)
    version = PolicyVersion.objects.get(pk=draft.pk)
    deadline = version.effective_from + datetime.timedelta(days=version.deadline_days)
    assert said.format(deadline=f"{deadline:%d.%m.%Y}") in html
    assert "de andre" not in html
