"""What changed between two versions: the issue's two long inputs, before and after the section diff.

Input 1: two public versions of ≈ 20 000 words each, written independently (the worst case for a
word diff: almost nothing in common). Input 2: a ≈ 130 KB policy where every 50th word changed.

"Før" is the old whole-text word diff (the work one request did before), run in a child process
that is stopped after BEFORE_LIMIT seconds; "etter" is a whole anonymous request to
/<kommune>/<retningslinje>/endringer/?fra=1&til=2, first with an empty cache and then cached.
"""

from __future__ import annotations

import multiprocessing
import random
import statistics
import time

from django.core.cache import cache
from django.test import Client

from bench import Result
from bench.corpus import sentence_pool
from people.models import Organisation
from policies.diff import word_diff
from policies.models import ChangeKind, Policy, PolicyVersion, Visibility
from policies.workflow import create_draft, publish

ORG_SLUG = "endringsmaaling"
BEFORE_LIMIT = 60.0
TARGET_SECONDS = 0.5  # "a fraction of a second", per request, cache empty
ROUNDS = 5


def _text(rng: random.Random, words: int) -> str:
    sentences, headings = sentence_pool()
    parts: list[str] = []
    count = 0
    while count < words:
        parts.append(f"## {rng.choice(headings)}\n")
        for _ in range(rng.randint(2, 5)):
            paragraph = " ".join(rng.sample(sentences, rng.randint(2, 5)))
            parts.append(paragraph + "\n")
            count += len(paragraph.split())
        if rng.random() < 0.3:
            items = rng.sample(sentences, 4)
            parts.append("\n".join(f"- {s}" for s in items) + "\n")
            count += sum(len(s.split()) for s in items)
    return "\n".join(parts)


def _every_50th_word_changed(text: str) -> str:
    out, n = [], 0
    for line in text.splitlines():
        if line.startswith("#"):
            out.append(line)
            continue
        words = line.split(" ")
        for i, word in enumerate(words):
            n += 1
            if n % 50 == 0 and word.isalpha():
                words[i] = word + "e"
        out.append(" ".join(words))
    return "\n".join(out)


def _policy(slug: str, title: str, bodies: list[str]) -> Policy:
    org, _ = Organisation.objects.get_or_create(
        slug=ORG_SLUG, defaults={"name": "Endringsmåling kommune"}
    )
    policy = Policy.objects.filter(organisation=org, slug=slug).first()
    if policy is not None:
        return policy
    policy = Policy.objects.create(
        organisation=org, slug=slug, title=title, visibility=Visibility.PUBLIC
    )
    for body in bodies:
        draft = create_draft(policy, by=None, body=body)
        publish(draft, by=None, change_kind=ChangeKind.MATERIAL, change_note="Målt.")
    return policy


def _inputs() -> list[tuple[str, Policy]]:
    rng = random.Random(2026)
    first, second = _text(rng, 20_000), _text(rng, 20_000)
    long_text = _text(rng, 18_000)
    while len(long_text.encode()) < 130_000:
        long_text += "\n" + _text(rng, 500)
    return [
        ("to versjoner à 20 000 ord", _policy("to-lange-versjoner", "To lange versjoner", [first, second])),
        (
            "130 kB, hvert 50. ord endret",
            _policy("hvert-femtiende-ord", "Hvert femtiende ord", [long_text, _every_50th_word_changed(long_text)]),
        ),
    ]  # fmt: skip


def _old_diff(old_html: str, new_html: str, queue) -> None:
    started = time.perf_counter()
    word_diff(old_html, new_html)
    queue.put(time.perf_counter() - started)


def _before(policy: Policy) -> str:
    old, new = (v.body_html for v in PolicyVersion.objects.filter(policy=policy).order_by("number"))
    queue = multiprocessing.get_context("fork").Queue()
    process = multiprocessing.get_context("fork").Process(target=_old_diff, args=(old, new, queue))
    process.start()
    process.join(BEFORE_LIMIT)
    if process.is_alive():
        process.kill()
        process.join()
        return f"> {BEFORE_LIMIT:.0f} s (stoppet)"
    return f"{queue.get():.2f} s"


def _after(policy: Policy) -> tuple[list[float], float, int]:
    path = f"{policy.get_absolute_url()}endringer/?fra=1&til=2"
    client = Client()
    cold = []
    for _ in range(ROUNDS):
        cache.clear()
        started = time.perf_counter()
        response = client.get(path)
        cold.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    started = time.perf_counter()
    for _ in range(ROUNDS):
        response = client.get(path)
    warm = (time.perf_counter() - started) / ROUNDS
    return cold, warm, len(response.content)


def run() -> list[Result]:
    results = []
    for name, policy in _inputs():
        words = [len(v.body.split()) for v in policy.versions.order_by("number")]
        size = max(len(v.body_html.encode()) for v in policy.versions.all())
        print(f"   {name}: {words} ord, {size // 1024} kB HTML", flush=True)
        before = _before(policy)
        cold, warm, page = _after(policy)
        worst = max(cold)
        print(f"   før {before}; etter {statistics.median(cold):.3f} s (verst {worst:.3f} s), "
              f"hurtigbuffer {warm * 1000:.1f} ms, side {page // 1024} kB", flush=True)  # fmt: skip
        results += [
            Result(f"Endringer, {name}: før (hele teksten ord for ord)", before),
            Result(
                f"  etter, én forespørsel uten hurtigbuffer (median av {ROUNDS})",
                f"{statistics.median(cold) * 1000:.0f} ms (verst {worst * 1000:.0f} ms)",
                f"< {TARGET_SECONDS * 1000:.0f} ms",
                worst < TARGET_SECONDS,
            ),
            Result("  etter, fra hurtigbufferen", f"{warm * 1000:.1f} ms ({page // 1024} kB side)"),
        ]
    return results


if __name__ == "__main__":
    print(run())
