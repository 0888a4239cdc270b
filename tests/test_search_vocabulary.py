"""The search vocabulary (SearchTerm) is shared by every kommune: publishing must never deadlock."""

import threading
import time
import uuid

import pytest
from django.db import connections, transaction

from policies.models import SearchTerm, Section

from .factories import make_organisation, make_policy


def add_section(version, position: int, word: str) -> None:
    Section.objects.create(
        version=version, position=position, anchor=f"a{position}", level=2,
        heading="Ord", text=f"Her står {word}.", title=version.title,
    )  # fmt: skip


def warm_up() -> None:
    # A new connection loads the Norwegian dictionary on first use (about a second): do it before
    # the timing below matters.
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT to_tsvector('handbook_nb', 'oppvarming')")


@pytest.mark.django_db(transaction=True)
def test_two_kommuner_publishing_the_same_new_words_in_opposite_order_do_not_deadlock():
    # Each transaction inserts one new word the other will also insert, in opposite orders. When
    # both hold a word the other waits for, PostgreSQL aborts one with a deadlock: that was the
    # vocabulary trigger's behaviour before it made writers of new words queue.
    # Letters only: words with digits are not part of the vocabulary.
    suffix = uuid.uuid4().hex[:8].translate(str.maketrans("0123456789", "ghijklmnop"))
    alfa, zeta = f"alfaord{suffix}", f"zetaord{suffix}"
    first = make_policy(make_organisation()).versions.get()
    second = make_policy(make_organisation()).versions.get()
    first_inserted, second_inserted = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def publish_first():
        try:
            warm_up()
            with transaction.atomic():
                add_section(first, 10, zeta)
                first_inserted.set()
                # Before the fix the second inserts its first word at once; with it, it queues
                # behind this transaction and never gets there while this one waits.
                second_inserted.wait(timeout=5)
                time.sleep(1)  # the second is now waiting for the word this one holds
                add_section(first, 11, alfa)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    def publish_second():
        try:
            warm_up()
            first_inserted.wait(timeout=30)
            with transaction.atomic():
                add_section(second, 10, alfa)
                second_inserted.set()
                add_section(second, 11, zeta)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish_first), threading.Thread(target=publish_second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert SearchTerm.objects.filter(word__in=[alfa, zeta]).count() == 2
    assert Section.objects.filter(text__contains=suffix).count() == 4


@pytest.mark.django_db
def test_every_word_of_a_new_section_joins_the_vocabulary():
    make_policy(make_organisation(), body="## Om\n\nVokabularordet og kaffekoppen.\n")
    assert set(
        SearchTerm.objects.filter(word__in=["vokabularordet", "kaffekoppen"]).values_list(
            "word", flat=True
        )
    ) == {"vokabularordet", "kaffekoppen"}
