import pytest

pytestmark = pytest.mark.django_db


def test_the_accessibility_statement_names_the_standard_status_gaps_feedback_and_complaints(client):
    response = client.get("/tilgjengelighet/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Tilgjengelighetserklæring" in html
    assert "WCAG</abbr> 2.1" in html and "nivå A og AA" in html
    for heading in ("Status", "Kjente mangler", "Gi tilbakemelding", "Klage"):
        assert f">{heading}</h2>" in html
    assert 'href="https://www.uutilsynet.no/"' in html
    assert "<time datetime=" in html


def test_the_footer_of_every_page_links_to_the_accessibility_statement(client):
    for url in ("/", "/logg-inn/", "/finnes-ikke/"):
        assert 'href="/tilgjengelighet/"' in client.get(url).content.decode()
