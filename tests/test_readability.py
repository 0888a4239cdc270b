"""LIX = words / sentences + 100 * long words / words (long: more than six letters).

Every text goes through the editor's analysis (Markdown -> the one renderer -> LIX of the HTML),
the path the editor page itself takes.
"""

import pytest

from policies.readability import Readability
from policies.views.editor_endpoints import analysis_context


def lix(markdown: str) -> Readability:
    return analysis_context(markdown, title="Tittel")["readability"]


def test_lix_of_a_known_text_matches_the_hand_count():
    text = (
        "Kommunen bruker sosiale medier. "
        "Alle ansatte må tenke seg om før de publiserer noe! "
        "Er det greit?"
    )
    # By hand: 4 + 10 + 3 = 17 words in 3 sentences; long words (> 6 letters): Kommunen, sosiale,
    # ansatte, publiserer = 4. LIX = 17/3 + 100*4/17 = 5.67 + 23.53 = 29.2 -> 29, "lettlest".
    result = lix(text)
    assert (result.words, result.sentences, result.long_words) == (17, 3, 4)
    assert result.score == 29
    assert result.band == "lettlest"


def test_six_letters_is_not_long_but_seven_is():
    result = lix("Bruker brukere.")
    assert result.words == 2 and result.long_words == 1


def test_markdown_syntax_is_not_counted_and_every_block_ends_a_sentence():
    source = "## Formål\n\nDette er **en** test.\n\n- Vær saklig\n- Vær høflig\n"
    result = lix(source)
    # "Formål" | "Dette er en test." | "Vær saklig" | "Vær høflig"
    assert result.sentences == 4
    assert result.words == 1 + 4 + 2 + 2
    assert result.long_words == 0


def test_abbreviations_and_dates_do_not_end_sentences():
    result = lix("Vedtatt i AMU 14.12.2015, f.eks. av lederen. Neste setning.")
    assert result.sentences == 2


def test_sentences_longer_than_25_words_are_listed():
    long_sentence = " ".join(["ord"] * 26) + "."
    short_sentence = " ".join(["ord"] * 25) + "."
    result = lix(f"{long_sentence} {short_sentence}")
    assert result.long_sentences == [long_sentence]


@pytest.mark.parametrize(
    ("long_words", "sentences", "band"),
    [
        (0, 5, "svært lettlest"),  # 100/5 = 20
        (0, 4, "lettlest"),  # 25
        (10, 4, "middels"),  # 25 + 10 = 35
        (20, 4, "vanskelig"),  # 45
        (29, 4, "vanskelig"),  # 54
        (30, 4, "svært vanskelig"),  # 55
    ],
)
def test_bands_follow_the_usual_lix_limits(long_words, sentences, band):
    assert Readability(words=100, sentences=sentences, long_words=long_words).band == band


def test_an_empty_text_has_no_score():
    result = lix("")
    assert result.score is None
    assert result.band == "ingen tekst"
