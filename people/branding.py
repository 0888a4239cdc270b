"""A kommune's own look: its accent colour as Designsystemet theme tokens, kept at WCAG 2.1 AA.

Designsystemet colours every button, link and tinted surface through `--ds-color-accent-*` custom
properties. From one accent colour chosen by the kommune's editors we derive the whole light-scheme
set, so the look changes without a deploy. The colour is validated on the server: it must carry
white text and be readable as link text on white (4.5:1, WCAG 1.4.3); the derived shades are
checked pair by pair in tests.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

RGB = tuple[int, int, int]
WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)
AA = 4.5
_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


def parse_hex(value: str) -> RGB | None:
    """'#1a5e9a', '1A5E9A' or '#15a' as RGB; None for anything else."""
    match = _HEX.match((value or "").strip())
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def to_hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: RGB) -> float:
    """WCAG relative luminance."""
    r, g, b = (_channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG contrast ratio, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def mix(colour: RGB, other: RGB, amount: float) -> RGB:
    """`amount` of `colour` and the rest of `other`."""
    return tuple(round(c * amount + o * (1 - amount)) for c, o in zip(colour, other, strict=True))  # type: ignore[return-value]


def darken_until(colour: RGB, against: RGB, ratio: float = AA) -> RGB:
    """The lightest shade of `colour` (towards black) with at least `ratio` against `against`."""
    for step in range(101):
        shade = mix(colour, BLACK, 1 - step / 100)
        if contrast(shade, against) >= ratio:
            return shade
    return BLACK


def _ratio_text(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


def accent_problem(value: str) -> str:
    """A Norwegian message when `value` cannot be the accent colour, else ''."""
    rgb = parse_hex(value)
    if rgb is None:
        return _("Skriv fargen som en heksadesimal fargekode, for eksempel #1a5e9a.")
    ratio = contrast(rgb, WHITE)
    if ratio < AA:
        suggestion = to_hex(darken_until(rgb, WHITE))
        return _(
            "Fargen er for lys: kontrasten mot hvit er %(ratio)s:1, og må være minst 4,5:1 for at "
            "tekst og knapper skal kunne leses (WCAG 2.1 AA). Prøv en mørkere variant, for "
            "eksempel %(suggestion)s."
        ) % {"ratio": _ratio_text(ratio), "suggestion": suggestion}
    return ""


def normalise(value: str) -> str:
    """The stored form of a valid colour: '#rrggbb' in lower case."""
    rgb = parse_hex(value)
    return to_hex(rgb) if rgb else ""


def theme_tokens(value: str) -> dict[str, str]:
    """Designsystemet's light-scheme accent tokens derived from a valid accent colour."""
    base = parse_hex(value)
    if base is None or accent_problem(value):
        return {}
    surface_tinted = mix(base, WHITE, 0.12)
    background_tinted = mix(base, WHITE, 0.06)
    tokens = {
        "background-default": WHITE,
        "background-tinted": background_tinted,
        "surface-default": WHITE,
        "surface-tinted": surface_tinted,
        "surface-hover": mix(base, WHITE, 0.2),
        "surface-active": mix(base, WHITE, 0.3),
        "border-subtle": mix(base, WHITE, 0.4),
        "border-default": base,
        "border-strong": mix(base, BLACK, 0.85),
        # Text must stay readable on the tinted surfaces too, not only on white.
        "text-subtle": darken_until(base, mix(base, WHITE, 0.3)),
        "text-default": darken_until(mix(base, BLACK, 0.55), mix(base, WHITE, 0.3), 7.0),
        "base-default": base,
        "base-hover": mix(base, BLACK, 0.85),
        "base-active": mix(base, BLACK, 0.7),
        "base-contrast-default": WHITE,
        "base-contrast-subtle": WHITE,
    }
    return {f"--ds-color-accent-{name}": to_hex(rgb) for name, rgb in tokens.items()}


def theme_css(value: str) -> str:
    """A stylesheet that gives the page the kommune's accent (empty for no or an invalid colour)."""
    tokens = theme_tokens(value)
    if not tokens:
        return ""
    # More specific than the theme's :root / [data-color-scheme] so that it wins wherever it loads.
    body = "".join(f"{name}:{colour};" for name, colour in tokens.items())
    return f"html[data-color-scheme]{{{body}}}\n"
