"""The renderer under random Markdown (issue 14): grammar fragments nested in each other and
repeated, with the XSS payloads mixed in. Whatever comes in, rendering never raises, never lets
markup through the sanitiser, and gives unique anchors that are none of the page's own ids."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.rendering import RESERVED_IDS, render

from .test_xss_rendering import PAYLOADS, _Collector, assert_harmless

WORDS = st.sampled_from(
    ["regel", "Ærlig", "øvelse", "på", "Čáhppes", "main", "bekreft", "x" * 130, "1", "&amp;", " "]
)
INLINE_BITS = st.sampled_from(
    ["*", "**", "_", "__", "`", "[", "]", "(", ")", "![", "](", "<", ">", "\\", "!", "|", "~~",
     "javascript:", "&#106;", "&lt;", "<h2 id=\"main\">", "</h2>", "<h3 id=\"bekreft\">", "-->",
     "<!--", "<br>", "</", "\t", "  \n"]
)  # fmt: skip
URLS = st.sampled_from(
    ["https://example.com/a b", "javascript:alert(1)", "/oversikt/retningslinje/x/eksport.csv",
     "/media/bilder/a.png", "data:text/html,<script>", "#main", "mailto:a@b.no", "", "<>", "\"x\""]
)  # fmt: skip
MAX_FRAGMENT = 4_000
LEAVES = st.one_of(WORDS, INLINE_BITS, st.sampled_from(PAYLOADS))


def _wrap(children):
    inner = st.lists(children, min_size=1, max_size=4).map(
        lambda parts: "".join(parts)[:MAX_FRAGMENT]
    )
    return st.one_of(
        inner,
        st.tuples(st.sampled_from(["*", "**", "_", "`", "~~"]), inner).map(
            lambda t: t[0] + t[1] + t[0]
        ),
        st.tuples(inner, URLS).map(lambda t: f"[{t[0]}]({t[1]})"),
        st.tuples(inner, URLS).map(lambda t: f"![{t[0]}]({t[1]})"),
        st.tuples(st.integers(1, 7), inner).map(lambda t: "#" * t[0] + " " + t[1] + "\n"),
        st.tuples(st.sampled_from(["- ", "* ", "1. ", "> ", "    ", "  - ", ": "]), inner).map(
            lambda t: t[0] + t[1].replace("\n", "\n" + t[0]) + "\n"
        ),
        inner.map(lambda s: f"{s}\n===\n"),
        inner.map(lambda s: f"| {s} | b |\n|---|---|\n| c | {s} |\n"),
        inner.map(lambda s: f"```\n{s}\n```\n"),
        inner.map(lambda s: f"<div>\n{s}\n</div>\n"),
        # Repeated, but capped: nested repeats would otherwise grow without bound.
        st.tuples(inner, st.integers(2, 60)).map(lambda t: (t[0] * t[1])[:MAX_FRAGMENT]),
        st.lists(inner, min_size=2, max_size=5).map("\n\n".join),
    )


MARKDOWN = st.recursive(LEAVES, _wrap, max_leaves=40).map(lambda s: s[: MAX_FRAGMENT * 4])


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(MARKDOWN)
def test_rendering_never_raises_and_never_lets_markup_through(source):
    rendered = render(source, title="T")
    assert_harmless(rendered.html)
    collector = _Collector()
    collector.feed(rendered.html)
    ids = [value for _tag, attrs in collector.tags for name, value in attrs if name == "id"]
    assert len(ids) == len(set(ids))
    assert not set(ids) & RESERVED_IDS
    assert [s.anchor for s in rendered.toc] == ids
