import pytest

from policies.rendering import render, render_html, slugify_heading

from .test_xss_rendering import assert_harmless


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[klikk](javascript:alert(1))",
        '<a href="javascript:alert(1)">klikk</a>',
        '<svg onload="alert(1)"></svg>',
        '<iframe src="https://example.com"></iframe>',
        '<p style="background:url(javascript:alert(1))">x</p>',
        "<body onload=alert(1)>",
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
    ],
)
def test_rendering_strips_script_handlers_and_javascript_links(payload):
    html = render_html(f"Tekst før.\n\n{payload}\n\nTekst etter.")
    lowered = html.lower()
    assert "<script" not in lowered
    assert "onerror" not in lowered and "onload" not in lowered
    # A link the renderer refuses stays as its harmless text; no attribute may carry the scheme.
    assert_harmless(html)
    assert "<iframe" not in lowered and "<svg" not in lowered and "style=" not in lowered
    assert "Tekst etter." in html


def test_headings_get_stable_readable_ids():
    html = render_html("## Din rolle som privatperson\n\ntekst\n\n## Lojalitet og taushetsplikt\n")
    assert '<h2 id="din-rolle-som-privatperson">' in html
    assert '<h2 id="lojalitet-og-taushetsplikt">' in html
    assert render_html("## Din rolle som privatperson\n") == render_html(
        "## Din rolle som privatperson\n"
    )


def test_norwegian_letters_are_transliterated_in_ids():
    assert slugify_heading("Hva må avklares før øvelsen?") == "hva-ma-avklares-for-ovelsen"


def test_ids_never_collide_with_the_page_or_each_other():
    rendered = render("## Main\n\n## Innledning\n\n## Regler\n\n## Regler\n", title="T")
    anchors = [s.anchor for s in rendered.sections]
    assert len(set(anchors)) == len(anchors)
    assert "main" not in anchors and "innledning" not in anchors


def test_level_one_headings_become_level_two():
    assert "<h1" not in render_html("# Tittel\n\nTekst")


def test_sections_carry_heading_and_text():
    rendered = render(
        "Forord.\n\n## Første\n\nEn **viktig** regel.\n\n### Under\n\n- punkt\n", title="T"
    )
    assert [(s.level, s.heading, s.text) for s in rendered.sections] == [
        (1, "T", "Forord."),
        (2, "Første", "En viktig regel."),
        (3, "Under", "punkt"),
    ]
    assert [s.heading for s in rendered.toc] == ["Første", "Under"]
    assert len(rendered.text_hash) == 64


@pytest.mark.parametrize(
    "source",
    [
        "![](/oversikt/retningslinje/sosiale-medier/eksport.xlsx)",
        "![](/oversikt/enhet/1/retningslinje/sosiale-medier/utskrift/)",
        '<img src="/oversikt/retningslinje/sosiale-medier/eksport.csv">',
        "![x](http://127.0.0.1:8000/oversikt/retningslinje/sosiale-medier/eksport.csv)",
        "![x](//localhost/redaksjon/)",
        "![x](/media/../oversikt/retningslinje/sosiale-medier/eksport.csv)",
        "![x](/media/%2e%2E/oversikt/retningslinje/sosiale-medier/eksport.csv)",
        '<img src="/media/&#46;&#46;/meg/">',
        '<img src="/media\\..\\meg/">',
        "![x](eksport.xlsx)",
        "![x](../../oversikt/)",
    ],
)
def test_images_never_point_at_the_sites_own_pages(source):
    html = render_html(source)
    assert "<img" in html and "src=" not in html


@pytest.mark.parametrize(
    "src",
    ["/media/bilder/kart.png", "/static/logo.png", "https://www.bergen.kommune.no/bilde.jpg"],
)
def test_uploaded_static_and_external_images_keep_their_address(src):
    assert f'src="{src}"' in render_html(f"![Kart]({src})")
