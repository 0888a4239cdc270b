"""The handbook_nb text-search configuration: what it splits, what it must not, and its fallback."""

import pytest
from django.db import connection

from policies import textsearch

pytestmark = pytest.mark.django_db


def lexemes(text: str, config: str = textsearch.CONFIG) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(to_tsvector(%s::regconfig, %s))", [config, text])
        return set(cursor.fetchone()[0])


def test_the_configuration_uses_the_norwegian_dictionary():
    # scripts/pg.sh installs hunspell-no; without it every test below would fail, not skip.
    with connection.cursor() as cursor:
        assert textsearch.splits_compounds(cursor)


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("elevkontakt", {"elev", "kontakt"}),
        ("nettvett", {"nett", "vett"}),
        ("krisekommunikasjon", {"krise", "kommunikasjon"}),
        ("saksbehandlingsrutiner", {"saks", "behandlingsrutine"}),
        ("IT-sikkerhet", {"it", "sikkerhet"}),
        ("privatperson", {"privatperson", "privat", "person"}),
    ],
)
def test_compounds_are_split_into_their_parts(word, parts):
    assert parts <= lexemes(word)


@pytest.mark.parametrize(
    ("word", "whole", "not_parts"),
    [
        # Known words stay whole: no "taushet" + "plikt", no "kommun" + "ikasjon".
        ("taushetsplikt", "taushetsplikt", {"taushet", "plikt"}),
        ("kommunikasjon", "kommunikasjon", {"kommun", "kommune"}),
        ("arbeidsgiver", "arbeidsgiver", {"arbeid", "giver"}),
    ],
)
def test_words_the_dictionary_knows_whole_are_not_split(word, whole, not_parts):
    found = lexemes(word)
    assert whole in found
    assert not (not_parts & found)


def test_inflected_forms_are_normalised_to_one_word():
    # The Snowball stemmer alone leaves "kommentarer" and "kommentar" apart.
    assert lexemes("kommentarer") & lexemes("kommentar")
    assert "elev" in lexemes("elevene")


@pytest.mark.parametrize("word", ["med", "kan", "og", "på", "jeg", "som"])
def test_stopwords_stay_stopwords(word):
    # The Ispell dictionary alone checks its stopwords after normalising: "med" became "mede".
    assert lexemes(word) == set()


def test_without_the_dictionary_files_the_configuration_falls_back_to_plain_norwegian():
    with connection.cursor() as cursor:
        cursor.execute(textsearch.create_sql("handbook_test_fallback", "no_such_dictionary"))
        try:
            assert not textsearch.splits_compounds(cursor, "handbook_test_fallback")
            assert lexemes("elevkontakt", "handbook_test_fallback") == lexemes(
                "elevkontakt", "norwegian"
            )
        finally:
            cursor.execute(textsearch.drop_sql("handbook_test_fallback"))
