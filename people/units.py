"""Writes to the organisation structure: units and their materialised paths."""

from __future__ import annotations

from django.db import transaction

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
