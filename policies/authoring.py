"""Writes on a policy's identity: creating it (from scratch or from another organisation's policy)
and changing its settings. Each is one transaction that writes its event; versions live in workflow.py.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from people.models import Organisation, Person, Unit

from .audit import record_event
from .models import (
    EventVerb,
    FormerSlug,
    Policy,
    PolicyVersion,
    Resource,
    ResourceSection,
    Visibility,
)
from .pagecache import forget_policy_page
from .rendering import render
from .workflow import create_draft_version

# The settings an editor may change after creation, in the order the history shows them.
SETTINGS_FIELDS = (
    "title",
    "slug",
    "summary",
    "visibility",
    "audience_all",
    "audience_elected",
    "review_interval_months",
    "deadline_days",
)


def create_policy(
    *,
    organisation: Organisation,
    by: Person | None,
    title: str,
    slug: str,
    summary: str = "",
    visibility: str,
    audience_all: bool = True,
    audience_units: list[Unit] | tuple = (),
    audience_elected: bool = False,
    review_interval_months: int = 24,
    deadline_days: int = 30,
    body: str = "",
    based_on: PolicyVersion | None = None,
) -> tuple[Policy, PolicyVersion]:
    """Create a policy and its first draft. With `based_on`, the draft starts from that text and the
    policy records where it came from."""
    with transaction.atomic():
        policy = Policy.objects.create(
            organisation=organisation,
            title=title,
            slug=slug,
            summary=summary,
            visibility=visibility,
            audience_all=audience_all,
            audience_elected=audience_elected,
            review_interval_months=review_interval_months,
            deadline_days=deadline_days,
            owner=by,
            based_on=based_on,
        )
        units = [u for u in audience_units if u.organisation_id == organisation.pk]
        policy.audience_units.set(units)
        draft = create_draft_version(
            policy, by=by, title=title, body=body, deadline_days=deadline_days
        )
        detail = {"title": title, "slug": slug}
        if based_on is not None:
            detail["based_on"] = {
                "organisation": based_on.policy.organisation.name,
                "policy": based_on.policy.title,
                "policy_id": based_on.policy_id,
                "version": based_on.number,
                "version_id": based_on.pk,
            }
        record_event(EventVerb.POLICY_CREATED, policy=policy, by=by, version=draft, **detail)
        record_event(EventVerb.DRAFT_CREATED, policy=policy, by=by, version=draft)
    return policy, draft


def start_from(
    source: PolicyVersion,
    *,
    organisation: Organisation,
    by: Person | None,
    title: str,
    slug: str,
    summary: str = "",
) -> tuple[Policy, PolicyVersion]:
    """Start from another organisation's text ("Bruk som utgangspunkt"): a new internal policy in
    `organisation` whose first draft is the text of `source`, a published version."""
    return create_policy(
        organisation=organisation,
        by=by,
        title=title,
        slug=slug,
        summary=summary,
        visibility=Visibility.INTERNAL,
        body=source.body,
        based_on=source,
    )


def _assign(obj, values: dict) -> dict[str, list]:
    """Set each of `values` on `obj` that differs; return {field: [old, new]} of those (what
    SETTINGS_CHANGED records)."""
    changes: dict[str, list] = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = [old, value]
            setattr(obj, name, value)
    return changes


def change_settings(
    policy: Policy, *, by: Person | None, audience_units: list[Unit] | tuple = (), **values
) -> Policy:
    """Change a policy's title, address, audience, visibility or review interval.

    Records SETTINGS_CHANGED with the old and new value of each field that changed; does nothing
    (and records nothing) when nothing changed. A changed address keeps the old one as a
    FormerSlug, so that links to it go on leading to the policy.
    """
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Unknown settings: {sorted(unknown)}")
    with transaction.atomic():
        policy = Policy.objects.select_for_update().get(pk=policy.pk)
        changes = _assign(policy, values)
        old_units = set(policy.audience_units.values_list("pk", flat=True))
        new_units = {u.pk for u in audience_units if u.organisation_id == policy.organisation_id}
        if old_units != new_units:
            changes["audience_units"] = [sorted(old_units), sorted(new_units)]
            policy.audience_units.set(new_units)
        if changes:
            policy.save()
            if "slug" in changes:
                _keep_former_slug(policy, changes["slug"][0])
            if "title" in changes:
                # The open draft carries the title that the next version will publish. Bumping its
                # revision makes an editor with the draft open see the change instead of undoing it.
                policy.versions.drafts().update(title=policy.title, revision=F("revision") + 1)
            record_event(EventVerb.SETTINGS_CHANGED, policy=policy, by=by, changes=changes)
    return policy


def _keep_former_slug(policy: Policy, old_slug: str) -> None:
    """Let `old_slug` lead to `policy` from now on; call it in change_settings' transaction."""
    # Of two policies that left the same address, the one that left it last has it.
    FormerSlug.objects.update_or_create(
        organisation_id=policy.organisation_id,
        slug=old_slug,
        defaults={"policy": policy, "left_at": timezone.now()},
    )
    # Back at an address it had before: that address is current again, not a former one.
    FormerSlug.objects.filter(policy=policy, slug=policy.slug).delete()
    # The event's own callback starts a new page generation at the new address only; a page
    # remembered at the old one would be served there until it expired instead of the redirect.
    transaction.on_commit(lambda: forget_policy_page(policy, slug=old_slug))


def save_resource(resource: Resource) -> Resource:
    """Store a background resource with its HTML and its search sections rendered from its Markdown."""
    rendered = render(resource.body, title=resource.title)
    with transaction.atomic():
        resource.body_html = rendered.html
        resource.save()
        resource.sections.all().delete()
        ResourceSection.objects.bulk_create(ResourceSection.build(resource, rendered.sections))
    return resource


LOOK_FIELDS = ("accent_color", "contact", "contact_email", "contact_phone", "privacy_url")


def change_look(
    organisation: Organisation,
    *,
    by: Person | None,
    logo=None,
    remove_logo: bool = False,
    **values,
) -> Organisation:
    """Change a kommune's own look (colour, logo, contact, personvernerklæring).

    `logo` is an uploaded image already checked by the form. Records SETTINGS_CHANGED for the
    organisation with the old and new value of each field that changed.
    """
    unknown = set(values) - set(LOOK_FIELDS)
    if unknown:
        raise TypeError(f"Unknown look fields: {sorted(unknown)}")
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        changes = _assign(organisation, values)
        if logo is not None:
            organisation.logo.save(f"{organisation.slug}-{logo.name}", logo, save=False)
            changes["logo"] = ["", organisation.logo.name]
        elif remove_logo and organisation.logo:
            changes["logo"] = [organisation.logo.name, ""]
            organisation.logo = ""
        if changes:
            organisation.look_updated_at = timezone.now()
            organisation.save()
            record_event(
                EventVerb.SETTINGS_CHANGED, organisation=organisation, by=by, kommune=changes
            )
            # The header and footer of every page of the kommune change: cached pages are stale.
            policies = list(
                Policy.objects.filter(organisation=organisation).select_related("organisation")
            )
            transaction.on_commit(lambda: [forget_policy_page(p) for p in policies])
    return organisation
