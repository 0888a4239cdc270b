"""Person-side reads: which policies one person must confirm, and where they stand.

Compliance is computed, never stored: the rows come from the view policies_obligation, the one
definition of who must confirm which version by when (see policies.models.Obligation). A person is
compliant for a policy when they have confirmed a version at least as new as its latest *material*
version among those that have been in force, so an editorial version never asks anyone to
confirm again.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from people.models import Person

from .models import STATE_LABELS, ChangeKind, Obligation, Policy, PolicyVersion, State
from .translations import shown_title, translated_title

__all__ = ["STATE_LABELS", "Obligation", "State", "obligation_for", "obligations_for"]


def obligations_for(
    person: Person, *, policies=None, language: str = settings.LANGUAGE_CODE
) -> list[Obligation]:
    """The policies `person` must confirm, with state, dates and their last confirmation.

    One query whatever the number of policies. `policies` narrows the set. Each row's
    `shown_title` names the policy for a reader of `language` (its current version's translation
    into it when there is one), read in the same query.
    """
    if not person.is_authenticated:
        return []
    rows = (
        Obligation.objects.of(person)
        .annotate(translated_title=translated_title(language, "current_version"))
        .select_related(
            "policy__organisation",
            "current_version",
            "required_version",
            "last_acknowledgement__version",
        )
        # The versions are named and numbered here, never shown: their texts stay in the database.
        .defer(
            *(
                f"{version}__{text}"
                for version in (
                    "current_version",
                    "required_version",
                    "last_acknowledgement__version",
                )
                for text in ("body", "body_html")
            )
        )
        .order_by("policy__organisation__name", "policy__title")
    )
    if policies is not None:
        rows = rows.filter(policy__in=[p.pk for p in policies])
    rows = list(rows)
    for row in rows:
        row.shown_title = shown_title(
            original=row.policy.title,
            original_language=row.current_version.language,
            translated=row.translated_title,
            wanted=language,
        )
    return rows


def obligation_for(person: Person, policy: Policy) -> Obligation | None:
    """The obligation for one policy, or None when the person is not in its audience.

    For the policy page, which has the policy at hand: the view's row alone, without the joins of
    `obligations_for` (they made its plan cost more than the rest of the page's queries together).
    Its columns say what the page shows (`acknowledged_number`, `acknowledged_at`, `due`, `status`);
    the related versions load only if something asks for them.
    """
    if not person.is_authenticated:
        return None
    # Through policies_obligation_of (migration 0012): the view's row with a plan kept per
    # connection, instead of planning the nested views on every page.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {OBLIGATION_OF_COLUMNS} FROM {OBLIGATION_OF.format(policy='%s')}",  # noqa: S608
            [person.pk, policy.pk],
        )
        return obligation_from_row(cursor.fetchone(), policy)


# One row of the view through policies_obligation_of(person, policy) as FROM items (the person
# a placeholder, the policy filled in with .format), and the columns that make an Obligation of
# it, in the order of OBLIGATION_FIELDS. The policy page reads it in the statement that checks
# access (access.get_readable_policy_page).
OBLIGATION_OF = (
    "policies_obligation_of(%s, {policy}) AS found, "
    "jsonb_populate_record(NULL::policies_obligation, found) AS found_row"
)
OBLIGATION_OF_COLUMNS = ", ".join(
    f'found_row."{f.column}"' for f in Obligation._meta.concrete_fields
)
OBLIGATION_FIELDS = [f.attname for f in Obligation._meta.concrete_fields]


def obligation_from_row(row, policy: Policy) -> Obligation | None:
    """The Obligation of OBLIGATION_OF_COLUMNS' values (None for no row, or a row of NULLs)."""
    if row is None or row[0] is None:
        return None
    obligation = Obligation.from_db(connection.alias, OBLIGATION_FIELDS, row)
    obligation.policy = policy
    return obligation


def recent_material_changes(policies, *, today: datetime.date | None = None, days: int = 30):
    """For each policy, its latest material version after the first, when it explains the
    managers' figures now: from the day it took effect until `days` after everyone's deadline.

    One query. Read from the versions themselves, so that a manager is told why a policy's share
    fell back ("endret vesentlig 26.11.2026, alle må bekrefte på nytt innen 26.12.2026").
    """
    from .notices import change_context

    today = today or timezone.localdate()
    ids = [p.pk for p in policies]
    if not ids:
        return []
    latest = (
        PolicyVersion.objects.published()
        .filter(policy_id__in=ids, change_kind=ChangeKind.MATERIAL, number__gt=1)
        .select_related("policy__organisation")
        .order_by("policy_id", "-number")
        .distinct("policy_id")
    )
    changes = [change_context(v) for v in latest]
    return [
        c for c in changes if c.changed_on <= today <= c.deadline + datetime.timedelta(days=days)
    ]
