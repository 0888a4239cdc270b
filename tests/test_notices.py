"""Change notices: a material version tells its audience the same day; an editorial one nobody."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone, translation

from outbox.models import Email
from people.models import Person
from policies.acknowledgements import acknowledge
from policies.models import ChangeKind, ChangeNotice
from policies.workflow import activate_due_versions

from .factories import make_organisation, make_person, make_policy, make_unit, publish_version
from .jobs import expand_queued, queued_email_ids, send_queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def kommune():
    organisation = make_organisation(name="Notisvik kommune")
    unit = make_unit(organisation, name="Helse")
    leader = make_person(
        organisation, unit=unit, first_name="Lise", last_name="Leder", manages=[unit]
    )
    nurse = make_person(organisation, unit=unit, first_name="Nina", last_name="Sykepleier")
    weekly = make_person(organisation, unit=unit, change_notices=Person.Notices.WEEKLY)
    stranger = make_person(make_organisation())
    policy = make_policy(organisation, title="Taushetsplikt")
    return organisation, policy, leader, nurse, weekly, stranger


def _material(policy, **kwargs):
    return publish_version(
        policy,
        body="## Formål\n\nNy og strengere tekst.\n",
        change_kind=kwargs.pop("change_kind", ChangeKind.MATERIAL),
        change_note="Strengere regler for deling.",
        **kwargs,
    )


def _to(address):
    """The e-mails the worker sent to `address` (the outbox's delivery, run here)."""
    send_queued()
    return [m for m in mail.outbox if address in m.to]


def test_a_material_version_tells_its_audience_the_same_day(
    kommune, django_capture_on_commit_callbacks
):
    organisation, policy, leader, nurse, weekly, stranger = kommune
    with django_capture_on_commit_callbacks(execute=True):
        version = _material(policy)
    (message,) = _to(nurse.email)
    today = timezone.localdate()
    deadline = today + datetime.timedelta(days=version.deadline_days)
    assert message.subject == (
        f"Endret retningslinje: «Taushetsplikt» – les og bekreft innen {deadline:%d.%m.%Y}"
    )
    assert (
        f"endret vesentlig {today:%d.%m.%Y}, alle må bekrefte på nytt innen {deadline:%d.%m.%Y}"
        in message.body
    )
    assert "Strengere regler for deling." in message.body
    assert f"{policy.get_absolute_url()}endringer/?fra=1&til=2" in message.body
    assert "lederen din, Lise Leder" in message.body
    # The leader must confirm too, and hears of it; nobody else does.
    assert len(_to(leader.email)) == 1
    assert _to(weekly.email) == [] and _to(stranger.email) == []


def test_an_editorial_version_tells_nobody(kommune, django_capture_on_commit_callbacks):
    policy = kommune[1]
    with django_capture_on_commit_callbacks(execute=True):
        _material(policy, change_kind=ChangeKind.EDITORIAL)
    assert Email.objects.count() == 0


def test_a_back_dated_version_tells_nobody(kommune, django_capture_on_commit_callbacks):
    policy = kommune[1]
    with django_capture_on_commit_callbacks(execute=True):
        _material(policy, effective_from=timezone.localdate() - datetime.timedelta(days=3))
    assert Email.objects.count() == 0


def test_a_scheduled_version_tells_its_audience_the_day_it_takes_effect(
    kommune, django_capture_on_commit_callbacks
):
    policy, nurse = kommune[1], kommune[3]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        _material(policy, effective_from=tomorrow)
    assert Email.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert activate_due_versions(today=tomorrow) == 1
    assert len(_to(nurse.email)) == 1


def test_nothing_is_sent_when_the_publish_is_rolled_back(
    kommune, django_capture_on_commit_callbacks
):
    from django.db import transaction

    policy = kommune[1]
    # Jobs other (transactional) tests left in procrastinate's queue are not this test's business.
    jobs_before = queued_email_ids()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _material(policy)
        raise RuntimeError("the request failed after publishing")
    assert Email.objects.count() == 0 and ChangeNotice.objects.count() == 0
    assert queued_email_ids() == jobs_before
    send_queued()
    assert mail.outbox == []


def test_the_manager_overview_explains_a_reset(client, kommune):
    organisation, policy, leader = kommune[:3]
    version = _material(policy)
    expand_queued()
    client.force_login(leader)
    html = client.get("/oversikt/").content.decode()
    deadline = version.effective_from + datetime.timedelta(days=version.deadline_days)
    assert "Hvorfor andelen har falt" in html
    assert (
        f"ble endret vesentlig {version.effective_from:%d.%m.%Y}, alle må bekrefte på nytt innen "
        f"{deadline:%d.%m.%Y}" in html
    )
    assert f"{policy.get_absolute_url()}endringer/?fra=1&amp;til=2" in html


def test_the_overview_says_nothing_of_an_editorial_change(client, kommune):
    policy, leader = kommune[1], kommune[2]
    _material(policy, change_kind=ChangeKind.EDITORIAL)
    client.force_login(leader)
    assert "Hvorfor andelen har falt" not in client.get("/oversikt/").content.decode()


def test_people_choose_email_at_once_or_only_the_weekly_digest(client, kommune):
    nurse = kommune[3]
    client.force_login(nurse)
    response = client.post("/meg/varsler/", {"varsler": "ukentlig"})
    assert response.status_code == 302
    nurse.refresh_from_db()
    assert nurse.change_notices == Person.Notices.WEEKLY
    response = client.post("/meg/varsler/", {"varsler": "hver time"}, follow=True)
    assert "Velg ett av alternativene" in response.content.decode()
    nurse.refresh_from_db()
    assert nurse.change_notices == Person.Notices.WEEKLY


def test_a_reminder_carries_the_same_context_and_names_the_leader(client, kommune):
    policy, leader, nurse, weekly = kommune[1], kommune[2], kommune[3], kommune[4]
    # The nurse confirmed version 1, so what changed is enough for her to read; the colleague
    # who never confirmed any version must read the whole policy.
    first = policy.versions.get(number=1)
    acknowledge(nurse, first, shown_hash=first.text_hash)
    version = _material(policy)
    send_queued()
    mail.outbox.clear()
    client.force_login(leader)
    client.post(f"/oversikt/retningslinje/{policy.slug}/paminnelse/")
    # The worker expands the manager's reminder run into e-mails, then sends them.
    expand_queued()
    (message,) = _to(nurse.email)
    body = message.body
    deadline = version.effective_from + datetime.timedelta(days=version.deadline_days)
    assert f"Retningslinjen ble endret vesentlig {version.effective_from:%d.%m.%Y}." in body
    assert f"Din frist for å bekrefte: {deadline:%d.%m.%Y}." in body
    assert "Strengere regler for deling." in body
    assert f"{policy.get_absolute_url()}endringer/?fra=1&til=2" in body
    assert "påminnelse fra lederen din, Lise Leder," in body
    (never_read,) = _to(weekly.email)
    assert "endringer/" not in never_read.body
    link = settings.SITE_URL + policy.get_absolute_url()
    assert f"Les retningslinjen og bekreft her:\n{link}\n" in never_read.body


def test_notices_are_queued_in_the_publishing_transaction_and_written_and_sent_by_the_worker(
    kommune,
):
    from procrastinate.contrib.django.models import ProcrastinateJob

    policy, nurse = kommune[1], kommune[3]
    version = _material(policy)
    # The publishing transaction wrote one job and nothing per person: the editor does not wait
    # for a whole kommune's e-mails.
    assert mail.outbox == [] and not ChangeNotice.objects.exists() and not Email.objects.exists()
    (job,) = ProcrastinateJob.objects.filter(task_name="policies.notify_change", status="todo")
    assert job.args["version_id"] == version.pk
    # The worker writes the notices and their e-mails, which wait in the outbox for their jobs.
    assert expand_queued() == 2
    notice = ChangeNotice.objects.get(version=version, person=nurse)
    assert notice.email.status == Email.Status.WAITING and notice.email.kind == "notice"
    assert notice.email.pk in queued_email_ids()
    send_queued()
    notice.email.refresh_from_db()
    assert notice.email.status == Email.Status.SENT


def test_a_version_notifies_each_person_only_once(kommune):
    from policies.notices import queue_notices

    policy = kommune[1]
    version = _material(policy)
    expand_queued()
    before = Email.objects.count()
    assert before == 2
    # The job run again (a retry, a worker killed after its commit) writes nothing twice.
    assert queue_notices(version.pk) == 0
    assert Email.objects.count() == before
    assert ChangeNotice.objects.filter(version=version).count() == before


def test_the_person_list_shows_each_notices_state(client, kommune):
    policy, leader, nurse = kommune[1], kommune[2], kommune[3]
    _material(policy)
    expand_queued()
    client.force_login(leader)
    url = f"/oversikt/retningslinje/{policy.slug}/"
    html = client.get(url).content.decode()
    assert (
        html.count(
            'data-label="Varsel om endring"><span class="ds-tag" data-color="neutral">Venter'
        )
        == 2
    )
    send_queued()
    Email.objects.filter(to=nurse.email).update(status=Email.Status.FAILED)
    html = client.get(url).content.decode()
    assert 'data-color="danger">Feilet</span>' in html
    assert 'data-color="success">Sendt</span>' in html


def test_a_manager_who_reads_nynorsk_is_told_of_the_reset_in_nynorsk(client, kommune):
    organisation, policy, leader = kommune[:3]
    leader.language = "nn"
    leader.save(update_fields=["language"])
    version = _material(policy)
    expand_queued()
    client.force_login(leader)
    html = client.get("/oversikt/").content.decode()
    deadline = version.effective_from + datetime.timedelta(days=version.deadline_days)
    assert (
        f"vart endra vesentleg {version.effective_from:%d.%m.%Y}, alle må stadfeste på nytt innan "
        f"{deadline:%d.%m.%Y}" in html
    )
    html = client.get(f"/oversikt/retningslinje/{policy.slug}/").content.decode()
    assert 'data-color="neutral">Ventar</span>' in html


def test_a_nynorsk_publisher_still_sends_a_bokmal_reader_the_bokmal_notice(
    kommune, django_capture_on_commit_callbacks
):
    """A notice speaks its recipient's form (tests/test_mail_language.py), never the publisher's."""
    policy, nurse = kommune[1], kommune[3]
    with translation.override("nn"), django_capture_on_commit_callbacks(execute=True):
        _material(policy)
    (message,) = _to(nurse.email)
    assert "endret vesentlig" in message.body and "endra vesentleg" not in message.body


def test_the_notice_choices_speak_nynorsk(client, kommune):
    nurse = kommune[3]
    nurse.language = "nn"
    nurse.save(update_fields=["language"])
    client.force_login(nurse)
    html = client.get("/meg/").content.decode()
    assert "E-post med ein gong" in html and "Berre i vekeoversikta" in html
    response = client.post("/meg/varsler/", {"varsler": "ukentlig"}, follow=True)
    assert "Valet ditt for varsel er lagra." in response.content.decode()
