"""Chromium through Playwright against pytest-django's live server, with the real handbook loaded.

One browser per test session, one fresh browser context (cookies, storage) per test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told otherwise. Tests only: set before Playwright starts.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from policies.models import Person  # noqa: E402

CHROMIUM = os.environ.get("HANDBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-gpu",
]


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class PageProblems:
    """What a page did that a user would notice: dialogs (alert, confirm) and script errors."""

    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.dialogs or self.console_errors or self.page_errors)

    def watch(self, page) -> None:
        """Record what `page` does from now on; dialogs are dismissed so the page goes on."""

        def on_dialog(dialog):
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="nb-NO", viewport={"width": 1280, "height": 900}
    )
    yield context
    context.close()


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(context, problems):
    page = context.new_page()
    problems.watch(page)
    yield page
    page.close()


@pytest.fixture
def handbook(transactional_db):
    """The real handbook, committed, so the live server's thread sees it."""
    import io

    from django.core.management import call_command

    call_command("load_handbook", stdout=io.StringIO())


def log_in(context, live_server, username: str) -> Person:
    """Give the browser context a logged-in session for `username` without typing the password."""
    person = Person.objects.get(username=username)
    client = Client()
    client.force_login(person)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": cookie.key, "value": cookie.value, "url": live_server.url, "httpOnly": True}]
    )
    return person


@pytest.fixture
def screenshots(tmp_path_factory):
    """A folder for screenshots to look at by hand (its path is printed on failure)."""
    return tmp_path_factory.mktemp("screenshots")
