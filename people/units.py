"""Writes to the organisation structure: units and their materialised paths."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr

from people.models import Organisation, Unit


def create_unit(organisation: Organisation, *, name: str, parent: Unit | None = None) -> Unit:
    """Create a unit under `parent` (or at the top), with its materialised path."""
    if parent is not None and parent.organisation_id != organisation.pk:
        raise ValueError("A unit's parent must belong to the same organisation.")
    with transaction.atomic():
        unit = Unit.objects.create(organisation=organisation, parent=parent, name=name)
        unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
        unit.save(update_fields=["path"])
    return unit


def get_or_create_unit(
    organisation: Organisation, *, name: str, parent: Unit | None = None
) -> Unit:
    """The unit called `name` under `parent`, created when there is none."""
    existing = Unit.objects.filter(organisation=organisation, parent=parent, name=name).first()
    return existing or create_unit(organisation, name=name, parent=parent)


def move_unit(unit: Unit, *, parent: Unit | None) -> Unit:
    """Move `unit` (with its sub-units) under `parent`, or to the top when `parent` is None.

    Issue-11a's people/units.py replaces this with the database-kept paths; the signature is theirs.
    """
    if parent is not None and parent.organisation_id != unit.organisation_id:
        raise ValueError("A unit's parent must belong to the same organisation.")
    with transaction.atomic():
        unit = Unit.objects.select_for_update().get(pk=unit.pk)
        old_path = unit.path
        new_path = f"{parent.path if parent else '/'}{unit.pk}/"
        unit.parent = parent
        unit.path = new_path
        unit.save(update_fields=["parent", "path"])
        Unit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk).update(
            path=Concat(Value(new_path), Substr("path", len(old_path) + 1))
        )
    return unit
