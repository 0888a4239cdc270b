"""Exports and prints are recorded only when a person really downloads them (issue 14, item 3).

A policy body with `![](/oversikt/.../eksport.xlsx)` made a manager's browser fetch the workbook as an
image and forged an "Eksportert" event under his name; HEAD and OPTIONS wrote events too.
"""

import pytest

from policies.models import Event, EventVerb

from .manager_setup import make_world

pytestmark = pytest.mark.django_db


def _export_urls(world) -> list[str]:
    base = f"/oversikt/retningslinje/{world.policy.slug}/"
    unit_base = f"/oversikt/enhet/{world.health.pk}/retningslinje/{world.policy.slug}/"
    return [
        base + "eksport.csv",
        base + "eksport.xlsx",
        base + "utskrift/",
        unit_base + "eksport.csv",
        unit_base + "eksport.xlsx",
        unit_base + "utskrift/",
    ]


def _exports() -> int:
    return Event.objects.filter(verb=EventVerb.EXPORTED).count()


@pytest.mark.parametrize("method", ["head", "options", "post", "put", "delete"])
def test_exports_write_nothing_and_return_nothing_except_on_get(client, method):
    world = make_world()
    client.force_login(world.manager)
    for url in _export_urls(world):
        response = getattr(client, method)(url)
        assert response.status_code == 405, (method, url)
        assert b"Ansattnummer" not in b"".join(getattr(response, "streaming_content", [])) + (
            b"" if response.streaming else response.content
        )
    assert _exports() == 0


@pytest.mark.parametrize(
    "headers",
    [
        # What Chromium sends for <img src=...>.
        {"Sec-Fetch-Dest": "image", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "same-origin"},
        # fetch() from a script, <link rel=prefetch>, an <iframe>.
        {"Sec-Fetch-Dest": "empty", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate", "Sec-Purpose": "prefetch"},
        # Another site's script or self-submitting form sending the manager's browser here.
        {
            "Sec-Fetch-Dest": "document",
            "Sec-Fetch-Mode": "navigate",
            "Sec-Fetch-Site": "cross-site",
        },
    ],
)
def test_exports_fetched_by_an_embedded_element_write_nothing(client, headers):
    world = make_world()
    client.force_login(world.manager)
    for url in _export_urls(world):
        response = client.get(url, headers=headers)
        assert response.status_code == 400, url
        assert "lastes ned" in response.content.decode()
    assert _exports() == 0


def test_a_real_download_by_navigation_is_recorded_once(client):
    world = make_world()
    client.force_login(world.manager)
    navigation = {
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Site": "same-origin",
        "Sec-Fetch-User": "?1",
    }
    for url in _export_urls(world):
        response = client.get(url, headers=navigation)
        assert response.status_code == 200, url
    assert _exports() == len(_export_urls(world))


def test_a_link_clicked_on_another_site_downloads_and_is_recorded(client):
    world = make_world()
    client.force_login(world.manager)
    clicked = {
        "Sec-Fetch-Dest": "document",
        "Sec-Fetch-Mode": "navigate",
        "Sec-Fetch-Site": "cross-site",
        "Sec-Fetch-User": "?1",
    }
    url = f"/oversikt/retningslinje/{world.policy.slug}/eksport.csv"
    assert client.get(url, headers=clicked).status_code == 200
    assert _exports() == 1


def test_a_browser_that_sends_no_fetch_metadata_can_still_download(client):
    world = make_world()
    client.force_login(world.manager)
    response = client.get(f"/oversikt/retningslinje/{world.policy.slug}/eksport.csv")
    assert response.status_code == 200
    assert _exports() == 1
