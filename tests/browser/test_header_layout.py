"""The header at 1280 px: two rows by design, so the målform switch never wraps onto a line of its
own, and at a phone's width the main menu folds behind "Meny"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.browser


def _box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def test_at_1280_px_the_switch_sits_beside_the_search_and_the_menu_has_a_row_of_its_own(
    page, context, live_server, handbook
):
    # An editor has one of the longest menus (Mine retningslinjer, kommune, Redaksjon, name, Logg ut).
    log_in(context, live_server, "redaktor.bergen")
    page.goto("/")
    search, switch = _box(page, ".site-search"), _box(page, ".language-switch")
    logo = _box(page, ".site-logo")
    # The switch is on the first row, with the name and the search, not below them.
    assert abs(switch["y"] + switch["height"] / 2 - (search["y"] + search["height"] / 2)) < 12
    assert abs(logo["y"] + logo["height"] / 2 - (search["y"] + search["height"] / 2)) < 16
    # Every item of the main menu is on the second row, all on one line.
    items = page.locator(".site-nav__list > li")
    boxes = [items.nth(i).bounding_box() for i in range(items.count())]
    middles = [box["y"] + box["height"] / 2 for box in boxes]
    assert max(middles) - min(middles) < 8, middles
    assert min(box["y"] for box in boxes) > search["y"] + search["height"]


def test_on_a_phone_the_menu_folds_behind_a_button(page, context, live_server, handbook):
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(context, live_server, "ansatt.bergen")
    page.goto("/")
    menu = page.get_by_role("navigation", name="Hovedmeny")
    button = page.get_by_role("button", name="Meny")
    expect(menu).to_be_hidden()
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="Mine retningslinjer")).to_be_visible()
