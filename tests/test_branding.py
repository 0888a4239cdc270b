"""A kommune's accent colour: validated on the server, every derived pair of colours AA."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from people.branding import (
    WHITE,
    accent_problem,
    contrast,
    normalise,
    parse_hex,
    theme_css,
    theme_tokens,
)

# Text colour on background colour, as Designsystemet pairs them.
PAIRS = [
    ("text-default", "background-default"),
    ("text-default", "background-tinted"),
    ("text-default", "surface-tinted"),
    ("text-default", "surface-active"),
    ("text-subtle", "background-default"),
    ("text-subtle", "surface-tinted"),
    ("text-subtle", "surface-hover"),
    ("base-contrast-default", "base-default"),
    ("base-contrast-default", "base-hover"),
    ("base-contrast-default", "base-active"),
]


def _pairs_of(colour: str):
    tokens = theme_tokens(colour)
    for text, background in PAIRS:
        yield (
            text,
            background,
            contrast(
                parse_hex(tokens[f"--ds-color-accent-{text}"]),
                parse_hex(tokens[f"--ds-color-accent-{background}"]),
            ),
        )


@pytest.mark.parametrize("colour", ["#1a5e9a", "#0062ba", "#8b0000", "#005f3c", "#000000"])
def test_kommune_colours_give_aa_contrast_in_every_pair(colour):
    for text, background, ratio in _pairs_of(colour):
        assert ratio >= 4.5, (colour, text, background, ratio)


@given(st.tuples(*[st.integers(0, 255)] * 3))
def test_every_accepted_colour_gives_aa_contrast_in_every_pair(rgb):
    colour = "#{:02x}{:02x}{:02x}".format(*rgb)
    if accent_problem(colour):
        assert theme_tokens(colour) == {}
        return
    for text, background, ratio in _pairs_of(colour):
        assert ratio >= 4.5, (colour, text, background, ratio)


def test_a_light_colour_is_refused_with_a_darker_suggestion():
    message = accent_problem("#ffcc00")
    assert "for lys" in message and "4,5:1" in message
    suggestion = message.rsplit(" ", 1)[1].rstrip(".")
    assert accent_problem(suggestion) == ""
    assert contrast(parse_hex(suggestion), WHITE) >= 4.5


@pytest.mark.parametrize("nonsense", ["", "blå", "#12345", "#1234567", "rgb(0,0,0)", "#ggg"])
def test_anything_but_a_hex_colour_gets_a_clear_message(nonsense):
    assert "heksadesimal" in accent_problem(nonsense)
    assert theme_css(nonsense) == ""


def test_colours_are_stored_in_one_form_and_become_css_custom_properties():
    assert normalise("1A5E9A") == "#1a5e9a" and normalise("#15a") == "#1155aa"
    css = theme_css("#1a5e9a")
    assert css.startswith("html[data-color-scheme]{")
    assert "--ds-color-accent-base-default:#1a5e9a;" in css
    assert "<" not in css and "}" not in css[:-2]
