"""Every state change of a policy and its versions: each one transaction that also writes its event."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from people.language import supported
from people.models import Person

from .audit import record_event
from .models import (
    MAX_CHANGE_NOTE_LENGTH,
    ChangeKind,
    EventVerb,
    Policy,
    PolicyVersion,
    Section,
    Status,
    Translation,
    TranslationSection,
    TranslationStatus,
)
from .notices import notify_change
from .rendering import render


class WorkflowError(Exception):
    """A change the rules do not allow; the message is Norwegian and meant for the user."""


class ConflictError(WorkflowError):
    """Someone else saved the draft since this editor loaded it."""

    def __init__(self, message: str, *, current: PolicyVersion):
        super().__init__(message)
        self.current = current


class AlreadyPublishedError(WorkflowError):
    """The draft was published (by someone else, or by an earlier submit of the same form)."""


# Said when the draft an editor wrote in was published and someone else has opened the next one.
DRAFT_REPLACED = gettext_lazy(
    "Utkastet du skrev i, er publisert, og noen har startet et nytt utkast. "
    "Teksten din er ikke lagret."
)


def _today() -> datetime.date:
    return timezone.localdate()


def create_draft(policy: Policy, *, by: Person | None, body: str | None = None) -> PolicyVersion:
    """Open a draft of the policy, starting from its newest published text.

    A policy has at most one open draft: asking again returns the existing one.
    """
    with transaction.atomic():
        # Lock the policy so two editors starting a draft at once end up in the same draft.
        policy = Policy.objects.select_for_update().get(pk=policy.pk)
        existing = policy.versions.drafts().first()
        if existing is not None:
            return existing
        latest = policy.versions.issued().order_by("-number").first()
        draft = create_draft_version(
            policy,
            by=by,
            title=latest.title if latest else policy.title,
            body=body if body is not None else (latest.body if latest else ""),
            based_on=latest,
        )
        record_event(EventVerb.DRAFT_CREATED, policy=policy, by=by, version=draft)
    return draft


def create_draft_version(policy: Policy, *, by: Person | None, **fields) -> PolicyVersion:
    """Insert a draft row of `policy`, written by `by`. The caller holds the transaction and writes
    the event: creating a policy records it after POLICY_CREATED, opening a draft on its own.

    The draft is written in the målform of the version it starts from, or else the kommune's."""
    based_on = fields.get("based_on")
    fields.setdefault(
        "language",
        based_on.language
        if based_on is not None
        else policy.organisation.language or settings.LANGUAGE_CODE,
    )
    return PolicyVersion.objects.create(
        policy=policy, status=Status.DRAFT, created_by=by, updated_by=by, **fields
    )


def save_draft(
    draft: PolicyVersion, *, by: Person | None, title: str, body: str, revision: int
) -> PolicyVersion:
    """Save a draft's text, refusing it when someone else saved since `revision` was loaded."""
    with transaction.atomic():
        updated = PolicyVersion.objects.filter(
            pk=draft.pk, status=Status.DRAFT, revision=revision
        ).update(
            title=title,
            body=body,
            revision=F("revision") + 1,
            updated_at=timezone.now(),
            updated_by=by,
        )
        current = PolicyVersion.objects.get(pk=draft.pk)
        if not updated:
            if current.status != Status.DRAFT:
                raise AlreadyPublishedError(_("Utkastet er allerede publisert og kan ikke endres."))
            raise ConflictError(
                _(
                    "Noen andre har lagret utkastet etter at du åpnet det. "
                    "Teksten din er ikke lagret."
                ),
                current=current,
            )
        record_event(EventVerb.DRAFT_SAVED, policy=current.policy, by=by, version=current)
    return current


def save_into_new_draft(
    policy: Policy, *, by: Person | None, title: str, body: str
) -> PolicyVersion:
    """Keep text written in a draft that was published meanwhile: it becomes the policy's new draft.

    Raises ConflictError when someone else has already opened (or saved) the next draft, so that
    their text is never overwritten.
    """
    with transaction.atomic():
        draft = create_draft(policy, by=by)
        if draft.created_by_id != getattr(by, "pk", None) or draft.revision != 1:
            raise ConflictError(DRAFT_REPLACED, current=draft)
        return save_draft(draft, by=by, title=title, body=body, revision=1)


def discard_draft(draft: PolicyVersion, *, by: Person | None, revision: int) -> bool:
    """Throw the open draft away; the policy keeps its published versions and may start a new draft.

    The row stays, marked discarded (its events point at it), and is never shown or published.
    Refused (ConflictError) when someone saved the draft after `revision` was loaded, so nobody
    throws away text they have not seen. Returns False when it was already discarded (a second
    submit), raises AlreadyPublishedError when it was published meanwhile.
    """
    with transaction.atomic():
        # The same lock as publishing: a discard and a publish of one draft cannot both happen.
        policy = Policy.objects.select_for_update().get(pk=draft.policy_id)
        current = PolicyVersion.objects.select_for_update().get(pk=draft.pk)
        if current.status == Status.DISCARDED:
            return False
        if current.status != Status.DRAFT:
            raise AlreadyPublishedError(_("Utkastet er allerede publisert og kan ikke forkastes."))
        if current.revision != revision:
            raise ConflictError(
                _(
                    "Noen har lagret utkastet etter at du åpnet det. Se over teksten før du forkaster."
                ),
                current=current,
            )
        current.status = Status.DISCARDED
        current.updated_at = timezone.now()
        current.updated_by = by
        current.save(update_fields=["status", "updated_at", "updated_by"])
        record_event(EventVerb.DRAFT_DISCARDED, policy=policy, by=by, version=current)
    return True


def publish(
    draft: PolicyVersion,
    *,
    by: Person | None,
    change_kind: str,
    change_note: str,
    effective_from: datetime.date | None = None,
    adopted_by: str = "",
    adopted_on: datetime.date | None = None,
    deadline_days: int | None = None,
    published_at: datetime.datetime | None = None,
    expected_revision: int | None = None,
) -> PolicyVersion:
    """Give the draft the next version number and freeze it.

    With an effective date ahead it is scheduled and becomes current on that date
    (activate_due_versions); otherwise it replaces the current version now. With
    `expected_revision`, the draft is published only if nobody saved it since the editor looked.
    """
    if not change_note.strip():
        raise WorkflowError(_("Skriv et endringsnotat."))
    # The publish form refuses it first; this is for every other caller (fixtures, the shell).
    if len(change_note.strip()) > MAX_CHANGE_NOTE_LENGTH:
        raise WorkflowError(_("Endringsnotatet kan være på høyst 2000 tegn."))
    if change_kind not in ChangeKind.values:
        raise WorkflowError(_("Velg om endringen er redaksjonell eller vesentlig."))
    effective_from = effective_from or _today()
    with transaction.atomic():
        # Lock the policy row: two editors publishing at once must not get the same number.
        policy = Policy.objects.select_for_update().get(pk=draft.policy_id)
        draft = PolicyVersion.objects.select_for_update().get(pk=draft.pk)
        if draft.status != Status.DRAFT:
            raise AlreadyPublishedError(_("Denne versjonen er allerede publisert."))
        if policy.retired_at is not None:
            raise WorkflowError(
                _(
                    "Retningslinjen er trukket tilbake. "
                    "Gjenopprett den før du publiserer en ny versjon."
                )
            )
        if expected_revision is not None and draft.revision != expected_revision:
            raise ConflictError(
                _(
                    "Noen har lagret utkastet etter at du åpnet publiseringen. Se over teksten igjen."
                ),
                current=draft,
            )
        if policy.versions.filter(status=Status.SCHEDULED).exists():
            raise WorkflowError(
                _(
                    "Det finnes allerede en planlagt versjon. "
                    "Vent til den trer i kraft før du publiserer."
                )
            )
        last = policy.versions.aggregate(n=Max("number"))["n"] or 0
        if last == 0:
            # The first version is what everyone confirms: it is material by definition.
            change_kind = ChangeKind.MATERIAL
        rendered = render(draft.body, title=draft.title)
        if rendered.problems:
            # Refused here, in Norwegian, rather than by a constraint or a column size later.
            raise WorkflowError(" ".join(rendered.problems))
        scheduled = effective_from > _today()
        if not scheduled:
            policy.versions.filter(status=Status.PUBLISHED).update(status=Status.SUPERSEDED)
        draft.number = last + 1
        draft.status = Status.SCHEDULED if scheduled else Status.PUBLISHED
        draft.body_html = rendered.html
        draft.text_hash = rendered.text_hash
        draft.change_kind = change_kind
        draft.change_note = change_note.strip()
        draft.adopted_by = adopted_by.strip()
        draft.adopted_on = adopted_on
        draft.effective_from = effective_from
        if deadline_days is not None:
            draft.deadline_days = deadline_days
        draft.published_at = published_at or timezone.now()
        draft.published_by = by
        draft.save()
        Section.objects.bulk_create(Section.build(draft, rendered.sections))
        if not scheduled and policy.title != draft.title:
            policy.title = draft.title
            policy.save(update_fields=["title"])
        record_event(
            EventVerb.SCHEDULED if scheduled else EventVerb.PUBLISHED,
            policy=policy,
            by=by,
            version=draft,
            number=draft.number,
            change_kind=change_kind,
            effective_from=effective_from.isoformat(),
        )
        if not scheduled:
            # Everyone who must confirm again hears of it the same day (a scheduled version: the
            # day it takes effect, in activate_due_versions).
            notify_change(draft)
    return draft


def activate_due_versions(
    *, today: datetime.date | None = None, policy: Policy | None = None
) -> int:
    """Make scheduled versions whose effective date has come the current ones. Idempotent."""
    today = today or _today()
    due = PolicyVersion.objects.filter(status=Status.SCHEDULED, effective_from__lte=today)
    if policy is not None:
        due = due.filter(policy=policy)
    activated = 0
    for version_id, policy_id in due.values_list("pk", "policy_id"):
        with transaction.atomic():
            locked_policy = Policy.objects.select_for_update().get(pk=policy_id)
            version = PolicyVersion.objects.select_for_update().get(pk=version_id)
            if version.status != Status.SCHEDULED:
                continue  # Another process activated it while we waited for the lock.
            locked_policy.versions.filter(status=Status.PUBLISHED).update(status=Status.SUPERSEDED)
            version.status = Status.PUBLISHED
            version.save(update_fields=["status"])
            if locked_policy.title != version.title:
                locked_policy.title = version.title
                locked_policy.save(update_fields=["title"])
            record_event(EventVerb.ACTIVATED, policy=locked_policy, by=None, version=version)
            notify_change(version)
            activated += 1
    return activated


def retire(policy: Policy, *, by: Person | None) -> Policy:
    """Take a policy out of the handbook; its versions and confirmations stay as evidence."""
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=policy.pk)
        if policy.retired_at is None:
            policy.retired_at = timezone.now()
            policy.save(update_fields=["retired_at"])
            record_event(EventVerb.RETIRED, policy=policy, by=by)
    return policy


def restore(policy: Policy, *, by: Person | None) -> Policy:
    """Bring a retired policy back into the handbook."""
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=policy.pk)
        if policy.retired_at is not None:
            policy.retired_at = None
            policy.save(update_fields=["retired_at"])
            record_event(EventVerb.RESTORED, policy=policy, by=by)
    return policy


# --- Translations -------------------------------------------------------------------------------
# A translation belongs to one published version. It is written as a draft (optimistic locking as
# for versions) and published once; from then on the database refuses to change it. A new version
# of the policy needs a new translation: the old one stays, linked to the version it translates,
# and readers see it marked as behind (policies.translations).


def _translatable(version: PolicyVersion, language: str) -> None:
    """Refuse a translation the rules do not allow, with a message for the editor."""
    if supported(language) is None:
        raise WorkflowError(_("Velg en målform som håndboka har."))
    if language == version.language:
        raise WorkflowError(_("Originalteksten er allerede på denne målformen."))
    if version.status not in (Status.PUBLISHED, Status.SCHEDULED):
        raise WorkflowError(
            _("Versjon %(number)s er ikke lenger gjeldende. Oversett gjeldende versjon i stedet.")
            % {"number": version.number}
        )
    if version.policy.retired_at is not None:
        raise WorkflowError(_("Retningslinjen er trukket tilbake og kan ikke oversettes."))


def save_translation(
    version: PolicyVersion,
    *,
    language: str,
    by: Person | None,
    title: str,
    body: str,
    note: str = "",
    revision: int | None,
) -> Translation:
    """Save the draft translation of `version` into `language`, creating it on the first save.

    `revision` is the revision the editor loaded (None for a new translation); a save over
    someone else's newer text is refused with ConflictError, a published one with
    AlreadyPublishedError.
    """
    with transaction.atomic():
        # Lock the version: two editors starting the same translation end up in the same row,
        # and a publish of the policy cannot supersede the version halfway through.
        version = (
            PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)
        )
        _translatable(version, language)
        translation = version.translations.filter(language=language).first()
        if translation is None:
            if revision is not None:
                raise WorkflowError(
                    _("Oversettelsen finnes ikke lenger. Teksten din er ikke lagret.")
                )
            translation = Translation.objects.create(
                version=version,
                language=language,
                title=title,
                body=body,
                note=note,
                created_by=by,
                updated_by=by,
            )
        else:
            if translation.is_published:
                raise AlreadyPublishedError(
                    _("Oversettelsen er allerede publisert og kan ikke endres.")
                )
            if revision is None and (translation.title, translation.body, translation.note) == (
                title,
                body,
                note,
            ):
                return translation  # The first save, submitted twice.
            updated = Translation.objects.filter(
                pk=translation.pk, status=TranslationStatus.DRAFT, revision=revision or 0
            ).update(
                title=title,
                body=body,
                note=note,
                revision=F("revision") + 1,
                updated_at=timezone.now(),
                updated_by=by,
            )
            if not updated:
                raise ConflictError(
                    _(
                        "Noen andre har lagret oversettelsen etter at du åpnet den. "
                        "Teksten din er ikke lagret."
                    ),
                    current=version,
                )
            translation.refresh_from_db()
        record_event(
            EventVerb.TRANSLATION_SAVED,
            policy=version.policy,
            by=by,
            version=version,
            language=language,
        )
    return translation


def publish_translation(
    translation: Translation, *, by: Person | None, expected_revision: int | None = None
) -> Translation:
    """Render and freeze a draft translation: readers of its målform see it from now on."""
    with transaction.atomic():
        version = (
            PolicyVersion.objects.select_for_update()
            .select_related("policy")
            .get(pk=translation.version_id)
        )
        translation = Translation.objects.select_for_update().get(pk=translation.pk)
        if translation.is_published:
            raise AlreadyPublishedError(_("Oversettelsen er allerede publisert."))
        _translatable(version, translation.language)
        if expected_revision is not None and translation.revision != expected_revision:
            raise ConflictError(
                _("Noen har lagret oversettelsen etter at du åpnet den. Se over teksten igjen."),
                current=version,
            )
        if not translation.title.strip() or not translation.body.strip():
            raise WorkflowError(_("Skriv både tittel og tekst før du publiserer oversettelsen."))
        rendered = render(translation.body, title=translation.title)
        if rendered.problems:
            raise WorkflowError(" ".join(rendered.problems))
        translation.status = TranslationStatus.PUBLISHED
        translation.body_html = rendered.html
        translation.text_hash = rendered.text_hash
        translation.published_at = timezone.now()
        translation.published_by = by
        translation.save()
        TranslationSection.objects.bulk_create(
            TranslationSection.build(translation, rendered.sections)
        )
        record_event(
            EventVerb.TRANSLATION_PUBLISHED,
            policy=version.policy,
            by=by,
            version=version,
            language=translation.language,
            number=version.number,
        )
    return translation
