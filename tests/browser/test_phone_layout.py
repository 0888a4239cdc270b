"""What a phone (320 px) and a keyboard meet: headings that hyphenate long compounds, the person
list's caption and sorting in its stacked layout, and a header whose Tab order is its reading order."""

from __future__ import annotations

import functools

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
PEOPLE = "/oversikt/retningslinje/sosiale-medier/"


@pytest.mark.parametrize("url", ["/bergen/", "/bergen/sosiale-medier/", PEOPLE])
def test_headings_hyphenate_long_words_at_320_px_and_nothing_scrolls_sideways(
    page, context, live_server, handbook, url
):
    log_in(context, live_server, "leder.bergen")
    page.set_viewport_size(PHONE)
    page.goto(url)
    style = page.locator("h1").first.evaluate(
        "h => { const s = getComputedStyle(h); return [s.hyphens, s.overflowWrap]; }"
    )
    # Hyphenated in the heading's language; broken anywhere only where a word still cannot fit.
    assert style == ["auto", "break-word"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_person_lists_caption_takes_the_width_of_the_stacked_list(
    page, context, live_server, handbook
):
    log_in(context, live_server, "leder.bergen")
    page.set_viewport_size(PHONE)
    page.goto(PEOPLE)
    caption = page.locator("table caption").bounding_box()
    table = page.locator("table").bounding_box()
    assert caption["width"] >= table["width"] - 2, (caption, table)


def test_the_stacked_person_list_can_be_sorted_and_the_wide_one_by_its_headers(
    page, context, live_server, handbook
):
    log_in(context, live_server, "leder.bergen")
    page.set_viewport_size(PHONE)
    page.goto(PEOPLE)
    sorting = page.get_by_role("navigation", name="Sortering")
    expect(sorting).to_be_visible()
    sorting.get_by_role("link", name="Frist").click()
    assert "sort=frist" in page.url
    expect(sorting.get_by_role("link", name="Frist (stigende)")).to_have_attribute(
        "aria-current", "true"
    )
    # On a wide screen the table's own headers sort; the links above it would only repeat them.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(sorting).to_be_hidden()
    expect(page.locator("thead").get_by_role("link", name="Frist")).to_be_visible()


def _reading_order(boxes: list[dict]) -> list[int]:
    """Indexes of `boxes` top to bottom, left to right: two boxes whose middles are within half
    the lower one's height stand on the same row."""

    def before(a: dict, b: dict) -> int:
        middle_a, middle_b = a["y"] + a["height"] / 2, b["y"] + b["height"] / 2
        if abs(middle_a - middle_b) < min(a["height"], b["height"]) / 2:
            return -1 if a["x"] < b["x"] else 1
        return -1 if middle_a < middle_b else 1

    return sorted(
        range(len(boxes)), key=functools.cmp_to_key(lambda i, j: before(boxes[i], boxes[j]))
    )


def test_a_hidden_column_header_shows_when_a_keyboard_reaches_its_sort_link(
    page, context, live_server, handbook
):
    log_in(context, live_server, "leder.bergen")
    page.set_viewport_size(PHONE)
    page.goto(PEOPLE)
    header = page.locator("table thead")
    # Hidden in the stacked list (the same links stand above it) ...
    assert header.bounding_box()["height"] <= 1
    # ... but never focused out of sight.
    header.locator("a").first.focus()
    box = header.bounding_box()
    assert box["width"] > 100 and box["height"] > 10, box


def test_at_1280_px_the_header_is_tabbed_through_in_reading_order(
    page, context, live_server, handbook
):
    # Before, the målform switch at the top right came after "Logg ut" on the row below.
    log_in(context, live_server, "leder.bergen")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/")
    controls = page.locator(
        ".site-header a:visible, .site-header button:visible, .site-header input:visible"
    )
    names = [
        controls.nth(i).get_attribute("name") or controls.nth(i).inner_text()
        for i in range(controls.count())
    ]
    boxes = [controls.nth(i).bounding_box() for i in range(controls.count())]
    assert [names[i] for i in _reading_order(boxes)] == names
    assert names.index("language") < names.index("Logg ut")


def test_on_a_phone_the_switch_comes_before_the_opened_menu(page, context, live_server, handbook):
    log_in(context, live_server, "leder.bergen")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/")
    page.get_by_role("button", name="Meny").click()
    page.locator("#site-search-q").focus()
    page.keyboard.press("Tab")  # Søk
    page.keyboard.press("Tab")
    expect(page.locator(".language-switch button")).to_be_focused()
