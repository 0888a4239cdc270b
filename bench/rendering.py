"""Render times of the hostile inputs from issue 14 at 1x, 2x and 4x their size, before and after,
and of the compare pages' word diff:
`python -m bench.rendering [--timeout S] [--sizes 1,2,4]`.

- before: Python-Markdown as Håndboka used it until issue 14 (rebuilt here, only for comparison),
  each run in a child process so a quadratic case is stopped at the timeout and a RecursionError is
  reported rather than fatal;
- after: `policies.rendering.render`, what a worker now does with the text (refusing it when it is
  over the budget);
- parser only: markdown-it-py's parse and render with the budget check skipped, to show the growth
  is linear even where the budget would refuse the text.

Needs no database. Growth from 2x to 4x near 2.0 is linear; near 4.0 is quadratic.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Callable

CASES: dict[str, Callable[[int], str]] = {
    # name: the input at 1x, as the issue measured it
    "brackets [*20000 ]*20000 (40 kB)": lambda k: "[" * 20000 * k + "]" * 20000 * k,
    "ATX headings '# a' (199 kB)": lambda k: "# a\n" * 49_750 * k,
    "*** lines (32 kB)": lambda k: "***\n" * 8_000 * k,
    "setext headings (32 kB)": lambda k: "a\n=\n" * 8_000 * k,
    "abbreviation definitions (88 kB)": lambda k: "".join(
        f"*[A{i}]: x\n" for i in range(8_000 * k)
    ),
    "definition list 'a\\n: b\\n'*500 (3 kB)": lambda k: "a\n: b\n" * 500 * k,
    "'- '*1000 + 'x' (2 kB)": lambda k: "- " * 1000 * k + "x",
    "realistic guideline (150 kB)": None,  # filled in from the fixtures
    # The slowest texts the budget still accepts at 1x (5 000 lines, 10 000 markup characters).
    "accepted: 4 999 list items '- a' (20 kB)": lambda k: "- a\n" * 4_999 * k,
    "accepted: 10 000 '*a' (20 kB)": lambda k: "*a" * 10_000 * k,
    "accepted: 2 500 '[a](b)' links (18 kB)": lambda k: "[a](b) " * 2_500 * k,
}


def _realistic(k: int) -> str:
    from policies.fixtures import FIXTURES_DIR, read_document

    bodies = [read_document(p).body for p in sorted(FIXTURES_DIR.glob("handbook/*/*/*.md"))]
    one = "\n\n".join(bodies * 5)[:150_000]
    return "\n\n".join([one] * k)


def old_render(source: str) -> str:
    """Python-Markdown plus nh3, exactly as rendering.render_html was before issue 14."""
    import markdown
    import nh3

    from policies.rendering import ALLOWED_TAGS, ALLOWED_URL_SCHEMES, slugify_heading

    md = markdown.Markdown(
        extensions=["extra", "sane_lists", "toc"],
        extension_configs={"toc": {"slugify": slugify_heading, "toc_depth": "2-6"}},
        output_format="html",
    )
    raw = re.sub(r"<(/?)h1\b", r"<\1h2", md.convert(source))
    return nh3.clean(raw, tags=ALLOWED_TAGS, url_schemes=ALLOWED_URL_SCHEMES)


def old_diff(old_html: str, new_html: str) -> None:
    """The compare pages' word diff before issue 14: one SequenceMatcher over all words."""
    import difflib

    from policies.diff import words_of

    difflib.SequenceMatcher(
        None, words_of(old_html), words_of(new_html), autojunk=False
    ).get_opcodes()


def _timed_child(function, args, queue) -> None:
    try:
        started = time.perf_counter()
        function(*args)
        queue.put(f"{time.perf_counter() - started:.3f} s")
    except RecursionError:
        queue.put("RecursionError")


def before(source: str, timeout: float, function=None, args=None) -> str:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(
        target=_timed_child, args=(function or old_render, args or (source,), queue)
    )
    child.start()
    child.join(timeout)
    if child.is_alive():
        child.kill()
        child.join()
        return f"> {timeout:.0f} s"
    return queue.get() if not queue.empty() else f"died ({child.exitcode})"


def _seconds(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rendering")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per 'before' run")
    parser.add_argument("--sizes", default="1,2,4", help="multiples of the issue's input sizes")
    parser.add_argument("--no-before", action="store_true", help="skip Python-Markdown")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbook.settings")
    import django

    django.setup()
    from policies import rendering

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'input':42} {'size':>5} {'kB':>7} {'before':>16} {'after':>10} {'parser only':>12}")
    for name, make in CASES.items():
        make = make or _realistic
        parser_times = []
        for k in sizes:
            source = make(k)
            rendering._render_markdown.cache_clear()
            after = _seconds(lambda source=source: rendering.render(source, title="T"))
            refused = bool(rendering.budget_problems(source))
            parser_time = _seconds(lambda source=source: rendering._MD.render(source))
            parser_times.append(parser_time)
            old = "-" if args.no_before else before(source, args.timeout)
            print(
                f"{name:42} {k:>4}x {len(source) / 1000:7.0f} {old:>16} "
                f"{after * 1000:7.1f} ms{' (refused)' if refused else '':10} "
                f"{parser_time * 1000:7.0f} ms",
                flush=True,
            )
        if len(parser_times) >= 2 and parser_times[-2] > 0:
            print(f"{'':42} parser growth {sizes[-2]}x->{sizes[-1]}x: "
                  f"{parser_times[-1] / parser_times[-2]:.1f}x", flush=True)  # fmt: skip
    _compare(sizes, args)
    return 0


def _compare(sizes: list[int], args) -> None:
    """The compare page: a guideline against itself with its paragraphs reshuffled."""
    import random

    from policies.diff import word_diff
    from policies.rendering import render_html

    print(f"\n{'compare (word diff)':42} {'size':>5} {'kB':>7} {'before':>16} {'after':>10}")
    base = _realistic(1)[:28_000]
    for k in sizes:
        text = "\n\n".join([base] * k)
        paragraphs = text.split("\n\n")
        random.Random(1).shuffle(paragraphs)
        old_html, new_html = render_html(text), render_html("\n\n".join(paragraphs))
        after = _seconds(lambda a=old_html, b=new_html: word_diff(a, b))
        old = "-" if args.no_before else before("", args.timeout, old_diff, (old_html, new_html))
        print(f"{'reshuffled paragraphs':42} {k:>4}x {len(text) / 1000:7.0f} {old:>16} "
              f"{after * 1000:7.1f} ms", flush=True)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
