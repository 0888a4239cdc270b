"""Writes for the search synonyms an organisation's editors keep (policies.models.Synonym)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from .models import Event, EventVerb, Organisation, Person, Synonym
from .search import forget_plans


def save_synonym(
    *, organisation: Organisation, word: str, words: list[str], by: Person | None
) -> Synonym:
    """Add `word` ⇒ `words`, or replace what `word` meant. Saving the same twice changes nothing."""
    with transaction.atomic():
        synonym, created = Synonym.objects.select_for_update().get_or_create(
            organisation=organisation,
            word=word,
            defaults={"words": ", ".join(words), "updated_by": by},
        )
        if not created:
            if synonym.word_list == words:
                return synonym
            synonym.words = ", ".join(words)
            synonym.updated_by = by
            synonym.updated_at = timezone.now()
            synonym.save(update_fields=["words", "updated_by", "updated_at"])
        Event.objects.create(
            organisation=organisation,
            actor=by,
            verb=EventVerb.SYNONYM_SAVED,
            detail={"word": word, "words": words},
        )
        forget_plans()
        transaction.on_commit(forget_plans)
    return synonym


def delete_synonym(synonym: Synonym, *, by: Person | None) -> None:
    """Remove one of an organisation's synonyms (the national ones are data, not edited here)."""
    with transaction.atomic():
        Event.objects.create(
            organisation_id=synonym.organisation_id,
            actor=by,
            verb=EventVerb.SYNONYM_DELETED,
            detail={"word": synonym.word, "words": synonym.word_list},
        )
        synonym.delete()
        forget_plans()
        transaction.on_commit(forget_plans)
