import threading

import pytest
from django.db import DatabaseError, IntegrityError, connection, connections, transaction

from people.models import Person
from policies.acknowledgements import AcknowledgementError, NotInAudience, acknowledge
from policies.models import Acknowledgement, ChangeKind, PolicyVersion
from policies.workflow import create_draft, publish, retire

from .factories import make_organisation, make_person, make_policy, make_unit, publish_version
from .locks import eventually, sessions_waiting_on_locks

pytestmark = pytest.mark.django_db


def current_version(policy) -> PolicyVersion:
    return policy.versions.current().get()


def setup_one():
    org = make_organisation()
    person = make_person(org)
    policy = make_policy(org)
    return person, policy, current_version(policy)


def test_acknowledging_records_person_version_time_and_the_hash_of_the_text_shown():
    person, _, version = setup_one()
    ack = acknowledge(person, version, shown_hash=version.text_hash)
    assert ack.person == person and ack.version == version
    assert ack.text_hash == version.text_hash and len(ack.text_hash) == 64
    assert ack.acknowledged_at is not None


def test_acknowledging_twice_leaves_one_row_and_returns_the_same_receipt():
    person, _, version = setup_one()
    first = acknowledge(person, version, shown_hash=version.text_hash)
    second = acknowledge(person, version, shown_hash=version.text_hash)
    assert first.pk == second.pk and first.acknowledged_at == second.acknowledged_at
    assert Acknowledgement.objects.count() == 1


def test_a_version_that_is_no_longer_current_is_refused_with_a_link_to_the_current_one():
    person, policy, old = setup_one()
    publish_version(policy, body="## Ny\n\nNy tekst.\n")
    with pytest.raises(AcknowledgementError) as caught:
        acknowledge(person, old, shown_hash=old.text_hash)
    assert "ikke lenger gjeldende" in str(caught.value)
    assert caught.value.current_url == policy.get_absolute_url()
    assert not Acknowledgement.objects.exists()


def test_a_text_that_differs_from_the_current_version_is_refused():
    person, _, version = setup_one()
    with pytest.raises(AcknowledgementError, match="ikke den gjeldende teksten"):
        acknowledge(person, version, shown_hash="0" * 64)
    assert not Acknowledgement.objects.exists()


def test_a_person_outside_the_audience_is_refused():
    org = make_organisation()
    unit, other_unit = make_unit(org), make_unit(org)
    policy = make_policy(org, audience_all=False)
    policy.audience_units.set([unit])
    outsider = make_person(org, unit=other_unit)
    with pytest.raises(NotInAudience):
        acknowledge(outsider, current_version(policy), shown_hash=current_version(policy).text_hash)
    assert not Acknowledgement.objects.exists()


def test_a_person_of_another_organisation_is_refused():
    _, _, version = setup_one()
    stranger = make_person(make_organisation())
    with pytest.raises(NotInAudience):
        acknowledge(stranger, version, shown_hash=version.text_hash)


def test_a_person_in_a_sub_unit_of_the_audience_may_confirm():
    org = make_organisation()
    unit = make_unit(org)
    sub = make_unit(org, parent=unit)
    policy = make_policy(org, audience_all=False)
    policy.audience_units.set([unit])
    person = make_person(org, unit=sub)
    version = current_version(policy)
    assert acknowledge(person, version, shown_hash=version.text_hash).pk


def test_elected_officials_confirm_only_policies_for_elected_officials():
    org = make_organisation()
    official = make_person(org, is_elected_official=True)
    staff_only = make_policy(org)
    for_officials = make_policy(org, audience_all=False, audience_elected=True)
    with pytest.raises(NotInAudience):
        v = current_version(staff_only)
        acknowledge(official, v, shown_hash=v.text_hash)
    v = current_version(for_officials)
    assert acknowledge(official, v, shown_hash=v.text_hash).pk


def test_a_retired_policy_cannot_be_confirmed():
    person, policy, version = setup_one()
    retire(policy, by=None)
    with pytest.raises(AcknowledgementError, match="trukket tilbake"):
        acknowledge(person, version, shown_hash=version.text_hash)


def test_an_editorial_version_is_confirmed_as_its_own_row():
    person, policy, v1 = setup_one()
    acknowledge(person, v1, shown_hash=v1.text_hash)
    v2 = publish_version(
        policy, body="## Formål\n\nDette er en test, rettet.\n", change_kind=ChangeKind.EDITORIAL
    )
    acknowledge(person, v2, shown_hash=v2.text_hash)
    assert Acknowledgement.objects.filter(person=person).count() == 2


def test_the_database_refuses_to_update_an_acknowledgement():
    person, _, version = setup_one()
    ack = acknowledge(person, version, shown_hash=version.text_hash)
    confirmed_at = ack.acknowledged_at
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE policies_acknowledgement SET acknowledged_at = now() - interval '1 year' WHERE id = %s",
            [ack.pk],
        )
    # Compared with the time noted before the UPDATE, not with a value read back after it.
    assert Acknowledgement.objects.get(pk=ack.pk).acknowledged_at == confirmed_at


def test_the_database_refuses_to_delete_an_acknowledgement():
    person, _, version = setup_one()
    ack = acknowledge(person, version, shown_hash=version.text_hash)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM policies_acknowledgement WHERE id = %s", [ack.pk])
    assert Acknowledgement.objects.filter(pk=ack.pk).exists()


def test_the_database_refuses_a_second_row_for_the_same_person_and_version():
    person, _, version = setup_one()
    acknowledge(person, version, shown_hash=version.text_hash)
    with pytest.raises(IntegrityError), transaction.atomic():
        Acknowledgement.objects.create(person=person, version=version, text_hash=version.text_hash)


@pytest.mark.django_db(transaction=True)
def test_several_threads_confirming_the_same_version_at_once_leave_one_row():
    person, _, version = setup_one()
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    receipts, errors = [], []

    def confirm():
        try:
            barrier.wait(timeout=10)
            ack = acknowledge(
                Person.objects.get(pk=person.pk), version, shown_hash=version.text_hash
            )
            receipts.append((ack.pk, ack.acknowledged_at))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm) for _ in range(threads_count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert len(receipts) == threads_count
    assert len(set(receipts)) == 1
    assert Acknowledgement.objects.filter(person=person, version=version).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_racing_a_publish_gets_no_receipt_for_the_version_just_superseded():
    """Publish has superseded version 1 but not committed; a confirmation of version 1 arrives.

    It must wait for the publish and then be refused, never be recorded against the old version.
    """
    person, policy, v1 = setup_one()
    draft = create_draft(policy, by=None, body="## Nytt\n\nNye regler.")
    published_uncommitted = threading.Event()
    outcome: dict = {}

    def publisher():
        try:
            with transaction.atomic():
                publish(draft, by=None, change_kind=ChangeKind.MATERIAL, change_note="Nytt.")
                published_uncommitted.set()
                _wait_until_blocked_or_done(outcome, seconds=10)
        finally:
            connections.close_all()

    def confirmer():
        try:
            assert published_uncommitted.wait(timeout=10)
            outcome["result"] = acknowledge(
                Person.objects.get(pk=person.pk), v1, shown_hash=v1.text_hash
            )
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["result"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publisher), threading.Thread(target=confirmer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)

    assert isinstance(outcome.get("result"), AcknowledgementError), outcome
    assert "ikke lenger gjeldende" in str(outcome["result"])
    assert not Acknowledgement.objects.filter(version=v1).exists()


def _wait_until_blocked_or_done(outcome: dict, *, seconds: float) -> None:
    """Hold the publishing transaction open until the confirmation waits on a lock (or finished)."""
    eventually(lambda: "result" in outcome or sessions_waiting_on_locks() >= 1, seconds)
