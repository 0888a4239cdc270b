"""Writes to the organisation structure: creating and moving units.

The materialised paths themselves are kept by PostgreSQL (see Unit): these functions are the one
place that checks a change and explains a refusal in Norwegian, for the admin, the HR import and the
demo loader alike.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from people.models import Organisation, Unit


class UnitError(ValueError):
    """A change to the unit tree that is refused, with a message for the person who tried it."""


def check_parent(
    *, organisation: Organisation | int, parent: Unit | None, unit: Unit | None = None
):
    """Raise UnitError unless `parent` may be the parent of `unit` in `organisation`."""
    organisation_id = organisation if isinstance(organisation, int) else organisation.pk
    if parent is None:
        return
    if parent.organisation_id != organisation_id:
        raise UnitError(_("Overordnet enhet må høre til samme kommune."))
    if unit is not None and unit.pk is not None and f"/{unit.pk}/" in parent.path:
        raise UnitError(_("En enhet kan ikke flyttes inn under seg selv eller sine underenheter."))


def create_unit(organisation: Organisation, *, name: str, parent: Unit | None = None) -> Unit:
    """Create a unit under `parent` (or at the top); the database gives it its path."""
    check_parent(organisation=organisation, parent=parent)
    with transaction.atomic():
        unit = Unit.objects.create(organisation=organisation, parent=parent, name=name)
        unit.refresh_from_db(fields=["path"])
    return unit


def move_unit(unit: Unit, *, parent: Unit | None) -> Unit:
    """Move `unit` (with its sub-units) under `parent`, or to the top when `parent` is None."""
    check_parent(organisation=unit.organisation_id, parent=parent, unit=unit)
    with transaction.atomic():
        # Lock the unit: two moves of one subtree at once are serialised.
        Unit.objects.select_for_update().get(pk=unit.pk)
        unit.parent = parent
        unit.save(update_fields=["parent"])
        unit.refresh_from_db(fields=["path"])
    return unit


def save_unit(unit: Unit) -> Unit:
    """Create or change a unit as a whole (the admin form): name, organisation and parent."""
    check_parent(organisation=unit.organisation_id, parent=unit.parent, unit=unit)
    with transaction.atomic():
        unit.save()
        unit.refresh_from_db(fields=["path"])
    return unit


def get_or_create_unit(
    organisation: Organisation, *, name: str, parent: Unit | None = None
) -> Unit:
    """The unit called `name` under `parent`, created when there is none."""
    existing = Unit.objects.filter(organisation=organisation, parent=parent, name=name).first()
    return existing or create_unit(organisation, name=name, parent=parent)
