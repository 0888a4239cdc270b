"""In Chromium: a page that makes the browser fetch an export by itself (an image, a script's fetch,
a frame) records nothing; the manager's own click on a download link records one export (issue 14,
item 3). The sanitiser already drops such images from policy bodies; this checks the second wall,
for an address reached by other means (an old stored page, a redirect from another site)."""

import pytest
from playwright.sync_api import expect

from policies.models import Event, EventVerb

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIST = "/oversikt/retningslinje/sosiale-medier/"


def _exports() -> int:
    return Event.objects.filter(verb=EventVerb.EXPORTED).count()


def test_embedded_fetches_of_an_export_record_nothing_and_a_click_records_one(
    page, context, live_server, handbook, tmp_path
):
    log_in(context, live_server, "leder.bergen")
    page.goto(LIST)
    expect(page.get_by_role("link", name="Last ned CSV")).to_be_visible()

    statuses = page.evaluate(
        """async (base) => {
            const image = (url) => new Promise((resolve) => {
                const img = new Image();
                img.onload = () => resolve("loaded");
                img.onerror = () => resolve("refused");
                img.src = url;
            });
            const results = [];
            results.push(await image(base + "eksport.xlsx"));
            results.push(await image(base + "utskrift/"));
            results.push((await fetch(base + "eksport.csv")).status);
            results.push((await fetch(base + "eksport.xlsx", {method: "HEAD"})).status);
            return results;
        }""",
        LIST,
    )
    assert statuses == ["refused", "refused", 400, 405]
    assert _exports() == 0

    with page.expect_download() as download:
        page.get_by_role("link", name="Last ned Excel (XLSX)").click()
    download.value.save_as(tmp_path / "liste.xlsx")
    assert _exports() == 1

    page.get_by_role("link", name="Utskriftsvennlig liste").click()
    expect(page.get_by_text("bruk nettleserens utskriftsfunksjon")).to_be_visible()
    assert _exports() == 2
