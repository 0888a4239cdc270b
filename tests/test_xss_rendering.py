"""Payloads from OWASP's XSS Filter Evasion Cheat Sheet, written into a policy body: none survives
rendering, whether in the editor's preview, on publication or on the reader's page."""

import html
import re
from html.parser import HTMLParser

import pytest

from policies.rendering import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ANCHORED_TAGS,
    render,
    render_html,
)

from .factories import make_organisation, make_person, make_policy
from .xss_payloads import XSS_PAYLOADS

# The shared OWASP list, plus what only a Markdown renderer meets (Markdown links and images,
# entity-encoded schemes, remote script sources): the cheat sheet's
# https://cheatsheetseries.owasp.org/cheatsheets/XSS_Filter_Evasion_Cheat_Sheet.html
RENDERING_PAYLOADS = [
    "<SCRIPT SRC=https://cdn.jsdelivr.net/gh/Moksh45/host-xss.rocks/index.js></SCRIPT>",
    '<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>',
    '<SCRIPT/SRC="http://xss.rocks/xss.js"></SCRIPT>',
    "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
    "<SCRIPT SRC=//xss.rocks/.j>",
    "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
    "<iframe src=http://xss.rocks/scriptlet.html <",
    "<IMG LOWSRC=\"javascript:alert('XSS')\">",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<IMG SRC='vbscript:msgbox(\"XSS\")'>",
    "<BODY ONLOAD=alert('XSS')>",
    "<BGSOUND SRC=\"javascript:alert('XSS');\">",
    "<STYLE>@import'http://xss.rocks/xss.css';</STYLE>",
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    "<TABLE><TD BACKGROUND=\"javascript:alert('XSS')\">",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyB4bWxuczpzdmc9Imh0dH A6Ly93d3cudzMub3JnLzIwMDAvc3ZnIiB4bWxucz0iaHR0cDovL3d3dy53My5vcmcv MjAwMC9zdmciIHhtbG5zOnhsaW5rPSJodHRwOi8vd3d3LnczLm9yZy8xOTk5L3hs aW5rIiB2ZXJzaW9uPSIxLjAiIHg9IjAiIHk9IjAiIHdpZHRoPSIxOTQiIGhlaWdodD0iMjAw IiBpZD0ieHNzIj48c2NyaXB0IHR5cGU9InRleHQvZWNtYXNjcmlwdCI+YWxlcnQoIlh TUyIpOzwvc2NyaXB0Pjwvc3ZnPg==" type="image/svg+xml" AllowScriptAccess="always"></EMBED>',
    "<A HREF=\"javascript:document.location='http://www.google.com/'\">XSS</A>",
    "<form><button formaction=javascript:alert(1)>X</button></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<details open ontoggle=alert(1)>",
    "[klikk](javascript:alert(1))",
    "[klikk](JaVaScRiPt:alert(1))",
    "[klikk](&#106;avascript:alert(1))",
    '[klikk](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg== "x")',
    '<https://example.com/"onmouseover="alert(1)>',
    '[x](https://example.com/" onmouseover="alert(1))',
]
PAYLOADS = XSS_PAYLOADS + RENDERING_PAYLOADS

FORBIDDEN_URL_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_harmless(fragment: str) -> None:
    collector = _Collector()
    collector.feed(fragment)
    for tag, attrs in collector.tags:
        assert tag in ALLOWED_TAGS, (tag, fragment)
        for name, value in attrs:
            assert not name.startswith("on"), (name, fragment)
            assert (
                name in ALLOWED_ATTRIBUTES.get(tag, set())
                or name == "rel"
                or (name == "id" and tag in ANCHORED_TAGS and re.fullmatch(r"[a-z0-9_-]+", value))
            ), (tag, name)
            if name in ("href", "src"):
                # As a browser parses a URL (WHATWG): tabs and newlines anywhere are dropped, and
                # control characters and spaces at either end.
                url = html.unescape(value or "")
                normalised = (
                    re.sub(r"[\t\n\r]", "", url)
                    .strip("\x00\x20\x7f" + "".join(map(chr, range(1, 32))))
                    .lower()
                )
                assert not normalised.startswith(FORBIDDEN_URL_SCHEMES), (value, fragment)
    lowered = fragment.lower()
    for marker in ("<script", "<iframe", "<object", "<embed", "<svg", "<style", "<meta", "<base"):
        assert marker not in lowered, (marker, fragment)


def test_there_are_enough_payloads():
    assert len(PAYLOADS) >= 40


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_in_a_body_never_survives_rendering(payload):
    assert_harmless(render_html(payload))
    # Inside surrounding text and after a heading, as an editor might paste it.
    assert_harmless(render(f"## Overskrift\n\nTekst {payload} mer tekst.\n", title="T").html)


@pytest.mark.django_db
def test_payloads_never_reach_the_preview_or_the_readers_page(client):
    organisation = make_organisation()
    body = "\n\n".join(PAYLOADS)
    policy = make_policy(organisation, body=body)
    page = client.get(policy.get_absolute_url()).content.decode()
    article = page[page.index('<article class="policy-text"') : page.index("</article>")]
    assert_harmless(article.split(">", 1)[1])

    client.force_login(make_person(organisation, is_editor=True))
    preview = client.post("/redaksjon/markdownx/markdownify/", {"content": body})
    assert_harmless(preview.content.decode())
