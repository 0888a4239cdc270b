"""Drafts, publishing and its effect on confirmations, scheduling, concurrency and the audit trail."""

import datetime
import threading
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from policies.acknowledgements import acknowledge
from policies.authoring import change_settings, create_policy, start_from
from policies.compliance import obligation_for
from policies.models import (
    Acknowledgement,
    ChangeKind,
    Event,
    EventVerb,
    Policy,
    PolicyVersion,
    Status,
    Visibility,
)
from policies.workflow import (
    ConflictError,
    WorkflowError,
    activate_due_versions,
    create_draft,
    publish,
    retire,
    save_draft,
    save_into_new_draft,
)

from .factories import make_organisation, make_person, make_policy, publish_version

pytestmark = pytest.mark.django_db


def is_compliant(person, policy: Policy) -> bool:
    """Where the person stands, as the site computes it (policies.compliance), not a copy of it."""
    obligation = obligation_for(person, policy)
    assert obligation is not None, "the person is not in the policy's audience"
    return obligation.is_confirmed


def confirm(person, version: PolicyVersion) -> Acknowledgement:
    """Confirm through the one write an employee makes."""
    return acknowledge(person, version, shown_hash=version.text_hash)


def test_publishing_a_draft_gives_the_next_number_and_supersedes_the_current_version():
    policy = make_policy(make_organisation())
    draft = create_draft(policy, by=None)
    save_draft(draft, by=None, title=draft.title, body="## Nytt\n\nNy tekst.", revision=1)
    version = publish(draft, by=None, change_kind=ChangeKind.EDITORIAL, change_note="Språk.")
    assert version.number == 2
    assert version.status == Status.PUBLISHED
    assert policy.versions.get(number=1).status == Status.SUPERSEDED
    assert list(version.sections.values_list("heading", flat=True)) == ["Nytt"]


def test_editorial_version_keeps_earlier_acknowledgements():
    organisation = make_organisation()
    policy = make_policy(organisation)
    person = make_person(organisation)
    confirm(person, policy.versions.get(number=1))
    assert is_compliant(person, policy)

    publish_version(policy, body="Rettet en skrivefeil.", change_kind=ChangeKind.EDITORIAL)

    assert policy.versions.current().get().number == 2
    assert is_compliant(person, policy)


def test_material_version_requires_everyone_to_confirm_again():
    organisation = make_organisation()
    policy = make_policy(organisation)
    person = make_person(organisation)
    confirm(person, policy.versions.get(number=1))
    publish_version(policy, body="Rettet en skrivefeil.", change_kind=ChangeKind.EDITORIAL)

    v3 = publish_version(policy, body="Nye regler.", change_kind=ChangeKind.MATERIAL)

    assert not is_compliant(person, policy)
    confirm(person, v3)
    assert is_compliant(person, policy)


def test_confirming_the_editorial_version_after_a_material_one_counts():
    organisation = make_organisation()
    policy = make_policy(organisation)
    person = make_person(organisation)
    publish_version(policy, body="Nye regler.", change_kind=ChangeKind.MATERIAL)
    v3 = publish_version(policy, body="Nye regler, rettet.", change_kind=ChangeKind.EDITORIAL)
    confirm(person, v3)
    assert is_compliant(person, policy)


def test_first_version_is_always_material():
    policy = make_policy(make_organisation(), published=False)
    draft = create_draft(policy, by=None, body="Tekst.")
    version = publish(draft, by=None, change_kind=ChangeKind.EDITORIAL, change_note="Første.")
    assert version.number == 1
    assert version.change_kind == ChangeKind.MATERIAL


def test_starting_a_second_draft_opens_the_existing_one():
    policy = make_policy(make_organisation())
    first = create_draft(policy, by=None)
    second = create_draft(policy, by=None)
    assert first.pk == second.pk
    assert policy.versions.drafts().count() == 1
    assert (
        Event.objects.filter(policy=policy, verb=EventVerb.DRAFT_CREATED).count() == 2
    )  # v1 + this


def test_a_new_draft_starts_from_the_current_text():
    policy = make_policy(make_organisation(), body="## Formål\n\nGammel tekst.")
    draft = create_draft(policy, by=None)
    assert draft.body == "## Formål\n\nGammel tekst."
    assert draft.based_on == policy.versions.get(number=1)


def test_optimistic_lock_refuses_a_save_based_on_an_old_revision():
    policy = make_policy(make_organisation())
    anne, bo = make_person(policy.organisation), make_person(policy.organisation)
    draft = create_draft(policy, by=anne)
    save_draft(draft, by=anne, title="T", body="Annes tekst.", revision=1)

    with pytest.raises(ConflictError) as refused:
        save_draft(draft, by=bo, title="T", body="Bos tekst.", revision=1)

    assert refused.value.current.body == "Annes tekst."
    assert refused.value.current.revision == 2
    draft.refresh_from_db()
    assert draft.body == "Annes tekst."
    # Saving deliberately on top of the revision shown in the conflict works.
    saved = save_draft(draft, by=bo, title="T", body="Flettet tekst.", revision=2)
    assert saved.body == "Flettet tekst." and saved.revision == 3


def test_publish_refuses_a_draft_saved_since_the_editor_looked():
    policy = make_policy(make_organisation())
    draft = create_draft(policy, by=None)
    save_draft(draft, by=None, title="T", body="Endret.", revision=1)
    with pytest.raises(ConflictError):
        publish(draft, by=None, change_kind="editorial", change_note="x", expected_revision=1)
    assert policy.versions.drafts().exists()


def test_publishing_twice_is_refused_and_makes_no_new_version():
    policy = make_policy(make_organisation())
    draft = create_draft(policy, by=None)
    publish(draft, by=None, change_kind="editorial", change_note="x")
    with pytest.raises(WorkflowError, match="allerede publisert"):
        publish(draft, by=None, change_kind="editorial", change_note="x")
    assert policy.versions.count() == 2


def test_publishing_refuses_a_change_note_longer_than_the_form_allows():
    # The publish form refuses it too; this is for every other caller (load_handbook, the shell).
    policy = make_policy(make_organisation())
    draft = create_draft(policy, by=None)
    with pytest.raises(WorkflowError, match="høyst 2000 tegn"):
        publish(draft, by=None, change_kind="editorial", change_note="a" * 20_000)
    assert PolicyVersion.objects.get(pk=draft.pk).status == Status.DRAFT
    publish(draft, by=None, change_kind="editorial", change_note="a" * 2000)


def test_scheduled_version_becomes_current_on_its_date_and_activation_is_idempotent():
    policy = make_policy(make_organisation())
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    draft = create_draft(policy, by=None, body="Ny tekst fra i morgen.")
    scheduled = publish(
        draft, by=None, change_kind="material", change_note="x", effective_from=tomorrow
    )
    assert scheduled.status == Status.SCHEDULED
    assert policy.versions.current().get().number == 1
    assert Event.objects.filter(policy=policy, verb=EventVerb.SCHEDULED).exists()

    assert activate_due_versions(today=timezone.localdate()) == 0
    assert activate_due_versions(today=tomorrow) == 1
    assert activate_due_versions(today=tomorrow) == 0

    assert policy.versions.current().get().number == 2
    assert policy.versions.get(number=1).status == Status.SUPERSEDED
    assert Event.objects.filter(policy=policy, verb=EventVerb.ACTIVATED).count() == 1


def test_activate_scheduled_command_dry_run_changes_nothing(capsys):
    policy = make_policy(make_organisation())
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    draft = create_draft(policy, by=None, body="Ny tekst.")
    publish(draft, by=None, change_kind="material", change_note="x", effective_from=tomorrow)

    with mock.patch("django.utils.timezone.localdate", return_value=tomorrow):
        call_command("activate_scheduled", "--dry-run")
        assert "1 versjon(er) ville blitt gjeldende" in capsys.readouterr().out
        assert policy.versions.filter(status=Status.SCHEDULED).count() == 1

        call_command("activate_scheduled")
        assert "1 versjon(er) ble gjeldende" in capsys.readouterr().out
        call_command("activate_scheduled")
        assert "0 versjon(er) ble gjeldende" in capsys.readouterr().out
    assert policy.versions.current().get().number == 2


def test_published_version_is_immutable_in_the_database():
    policy = make_policy(make_organisation())
    version = policy.versions.get(number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=version.pk).update(body="Forfalsket.")
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=version.pk).update(change_kind="editorial")
    version.refresh_from_db()
    assert version.body != "Forfalsket."


def test_create_policy_records_creation_and_its_first_draft():
    organisation = make_organisation()
    editor = make_person(organisation, is_editor=True)
    policy, draft = create_policy(
        organisation=organisation,
        by=editor,
        title="Bruk av KI",
        slug="bruk-av-ki",
        visibility=Visibility.INTERNAL,
        deadline_days=14,
    )
    assert draft.status == Status.DRAFT and draft.deadline_days == 14
    verbs = set(Event.objects.filter(policy=policy).values_list("verb", flat=True))
    assert verbs == {EventVerb.POLICY_CREATED, EventVerb.DRAFT_CREATED}
    assert Event.objects.get(policy=policy, verb=EventVerb.POLICY_CREATED).actor == editor


def test_start_from_another_organisation_records_where_the_text_came_from():
    source = make_policy(make_organisation(name="Bergen kommune", slug="bergen-x"), body="Kilde.")
    source_version = source.versions.get(number=1)
    mine = make_organisation()
    policy, draft = start_from(
        source_version, organisation=mine, by=None, title="Våre regler", slug="vare-regler"
    )
    assert policy.based_on == source_version
    assert policy.visibility == Visibility.INTERNAL
    assert draft.body == "Kilde."
    event = Event.objects.get(policy=policy, verb=EventVerb.POLICY_CREATED)
    assert event.detail["based_on"]["organisation"] == "Bergen kommune"
    assert event.detail["based_on"]["version"] == 1


def test_change_settings_records_what_changed_and_nothing_when_nothing_did():
    policy = make_policy(make_organisation())
    change_settings(policy, by=None, review_interval_months=12, title=policy.title)
    event = Event.objects.get(policy=policy, verb=EventVerb.SETTINGS_CHANGED)
    assert event.detail["changes"] == {"review_interval_months": [24, 12]}
    change_settings(policy, by=None, review_interval_months=12)
    assert Event.objects.filter(policy=policy, verb=EventVerb.SETTINGS_CHANGED).count() == 1


# --- Concurrency -------------------------------------------------------------------------------


def _publish_concurrently(draft_id: int, attempts: int) -> list:
    """`attempts` threads publish the same draft at the same moment, each on its own connection.

    Every attempt's outcome is returned: the version number, or whatever exception it raised (a
    thread that died of an IntegrityError must fail the test, not vanish from it).
    """
    barrier = threading.Barrier(attempts)
    outcomes: list = []
    lock = threading.Lock()

    def attempt():
        try:
            barrier.wait(timeout=10)
            draft = PolicyVersion.objects.get(pk=draft_id)
            version = publish(draft, by=None, change_kind="material", change_note="Samtidig.")
            result = version.number
        except Exception as error:  # noqa: BLE001 - every outcome is asserted by the caller
            result = error
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a publish hung"
    assert len(outcomes) == attempts
    return outcomes


def _assert_one_published_and_the_rest_refused(outcomes: list) -> None:
    numbers = [o for o in outcomes if isinstance(o, int)]
    others = [o for o in outcomes if not isinstance(o, int)]
    assert len(numbers) == 1, outcomes
    assert all(isinstance(o, WorkflowError) and "allerede publisert" in str(o) for o in others), (
        outcomes
    )


@pytest.mark.django_db(transaction=True)
def test_two_editors_publishing_the_same_draft_at_once_make_exactly_one_version():
    policy = make_policy(make_organisation())
    draft = create_draft(policy, by=None, body="Ny tekst.")

    outcomes = _publish_concurrently(draft.pk, 2)

    _assert_one_published_and_the_rest_refused(outcomes)
    assert [o for o in outcomes if isinstance(o, int)] == [2]
    assert list(policy.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    assert policy.versions.current().count() == 1


@pytest.mark.django_db(transaction=True)
def test_version_numbers_stay_gap_free_under_repeated_concurrent_publishing():
    policy = make_policy(make_organisation(), published=False)
    cycles = 6
    for _ in range(cycles):
        draft = create_draft(policy, by=None, body=f"Tekst {_}.")
        outcomes = _publish_concurrently(draft.pk, 4)
        _assert_one_published_and_the_rest_refused(outcomes)
    numbers = list(policy.versions.order_by("number").values_list("number", flat=True))
    assert numbers == list(range(1, cycles + 1))
    assert policy.versions.current().get().number == cycles
    published_events = Event.objects.filter(policy=policy, verb=EventVerb.PUBLISHED).count()
    assert published_events == cycles


def test_renaming_a_policy_renames_its_open_draft_and_moves_its_revision_on():
    policy = make_policy(make_organisation())
    draft = create_draft(policy, by=None)
    change_settings(policy, by=None, title="Nytt navn")
    draft.refresh_from_db()
    assert (draft.title, draft.revision) == ("Nytt navn", 2)
    # An editor who had the draft open at revision 1 now gets a conflict instead of undoing it.
    with pytest.raises(ConflictError):
        save_draft(draft, by=None, title="Gammelt navn", body=draft.body, revision=1)


def test_text_from_a_published_draft_becomes_the_new_draft_with_its_events():
    organisation = make_organisation()
    editor = make_person(organisation, is_editor=True)
    policy = make_policy(organisation)
    draft = save_into_new_draft(policy, by=editor, title="Ny tittel", body="## Ny\n\nTekst.\n")
    assert (draft.status, draft.title, draft.revision) == (Status.DRAFT, "Ny tittel", 2)
    assert draft.body == "## Ny\n\nTekst.\n"
    verbs = list(Event.objects.filter(version=draft).order_by("id").values_list("verb", flat=True))
    assert verbs == [EventVerb.DRAFT_CREATED, EventVerb.DRAFT_SAVED]


def test_text_from_a_published_draft_never_overwrites_a_draft_someone_else_opened():
    organisation = make_organisation()
    editor, colleague = (make_person(organisation, is_editor=True) for _ in range(2))
    policy = make_policy(organisation)
    theirs = create_draft(policy, by=colleague)
    with pytest.raises(ConflictError) as refused:
        save_into_new_draft(policy, by=editor, title="Min", body="Min tekst")
    assert refused.value.current.pk == theirs.pk
    theirs.refresh_from_db()
    assert (theirs.revision, theirs.updated_by_id) == (1, colleague.pk)


def test_publishing_a_new_version_of_a_retired_policy_is_refused_in_norwegian():
    policy = make_policy(make_organisation())
    draft = create_draft(policy, by=None, body="## Nytt\n\nNy tekst.")
    retire(policy, by=None)

    with pytest.raises(WorkflowError, match="trukket tilbake"):
        publish(draft, by=None, change_kind=ChangeKind.MATERIAL, change_note="Nytt.")

    assert policy.versions.current().get().number == 1
    assert PolicyVersion.objects.get(pk=draft.pk).status == Status.DRAFT
    assert not Event.objects.filter(policy=policy, verb=EventVerb.PUBLISHED, version=draft).exists()
