"""Prototype, not in the product: exact top-201 across all kommuner by a threshold algorithm.

`python -m bench --only bench.search_threshold` (after `make bench` has built the corpus). It
builds its tables in the schema `bench_threshold` of handbook_bench once (about 2 minutes of
CPU; `BENCH_THRESHOLD_REBUILD=1` builds them again), then, for the 50 queries of bench/search.py
as an anonymous reader over every kommune, compares its ranking with policies.search's (the
(score, source, id) of the best COUNT_CAP + 1 policy texts must be identical) and times both.
Resources (11 rows) and translations (none in the corpus) are left to today's statements.

How it ranks. policies.search scores a section as coverage + phrase boost + R/(R + 1), where
R = ts_rank_cd(weights, vector, any_group). In ts_rank_cd every cover begins at a distinct
entry (a position holding a query lexeme), its value is at most the weight of its first entry
(the harmonic mean of weights that only fall along the vector: title A, then heading B, then
text C), and the first entry of a cover holds one of the tsquery's *leading* operands (any
operand of an OR or AND, the first of a phrase; see `leading`). So R is at most the sum, over
the leading operands, of the weights of their positions in the section: exactly R for an OR of
words whose positions are not shared. The tables hold that sum per (key, section), key being a
word ("=kommune") or the words with a common prefix (":kommune", for 'kommune':*), best first,
the first LIST_DEPTH of each key (the rest is below the key's `tail`). A query reads the lists
of its leading operands best first, scores the sections it meets with policies.search's own
score expression (so a score is never approximated), and stops when the 201st exact score is
above what any section not met yet could reach: classes still open (coverage, phrase) plus
f(sum of the lists' current weights). Ties: a section not met yet at the head of every list has
a higher id than the last read of each (lists are in (weight desc, id) order).

Result (2026-11-26, see README, Benchmarks, "The threshold prototype"): exact for every query
it finishes (36 of the 50), ~10 ms median; the other 14 cannot stop early. 12 of them have
terms the planner also splits into AND-ed parts (compounds: 'privat':* & 'person':*): the part
lists are led by sections that have one part and not the other, or that share its positions
with the compound itself, so the bound stays above the 201st score for tens of thousands of
sections. `ansatte` counts positions its alternatives share twice; `kan jeg kritisere kommunen
på facebook` has its 201st below the top coverage class.
"""

from __future__ import annotations

import math
import os
import re
import statistics
import time

LIST_DEPTH = int(os.environ.get("BENCH_THRESHOLD_DEPTH", 3000))
SCHEMA = "bench_threshold"
FIRST_DEPTH = 512
SCORE_BATCH = 400
# Scores come from PostgreSQL in float4 arithmetic; bounds here are float8.
EPS = 1e-6

_WEIGHT = "CASE x WHEN 'A' THEN 1.0 WHEN 'B' THEN 0.4 WHEN 'C' THEN 0.2 ELSE 0.1 END"


def build(cursor, *, rebuild: bool = False) -> None:
    """The per-(key, section) weight lists of every current or earlier section."""
    cursor.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.keys"])
    if cursor.fetchone()[0] and not rebuild:
        return
    started = time.perf_counter()
    cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    cursor.execute(f"CREATE SCHEMA {SCHEMA}")
    cursor.execute("SET LOCAL work_mem = '512MB'")
    cursor.execute(
        f"CREATE TABLE {SCHEMA}.vocabulary AS SELECT word, ndoc "
        "FROM ts_stat('SELECT search_vector FROM policies_section')"
    )
    cursor.execute(
        f"""CREATE UNLOGGED TABLE {SCHEMA}.words AS
            SELECT s.id AS sid, u.lexeme AS word,
                   (SELECT sum({_WEIGHT}) FROM unnest(u.weights) x)::real AS w
              FROM policies_section s, unnest(s.search_vector) u"""
    )
    # A prefix key for each set of two or more words sharing a prefix of at least four letters,
    # named by their longest common prefix (a prefix with one word is that word's key).
    cursor.execute(f"SELECT word FROM {SCHEMA}.vocabulary ORDER BY word")
    words = [w for (w,) in cursor.fetchall()]
    sets = {}
    for word in words:
        for i in range(4, len(word) + 1):
            with_prefix = [w for w in words if w.startswith(word[:i])]
            if len(with_prefix) > 1:
                sets[os.path.commonprefix(with_prefix)] = with_prefix
    cursor.execute(f"CREATE TABLE {SCHEMA}.keymap (key text, word text)")
    cursor.executemany(
        f"INSERT INTO {SCHEMA}.keymap VALUES (%s, %s)",
        [(":" + prefix, w) for prefix, ws in sets.items() for w in ws],
    )
    cursor.execute(
        f"""CREATE TABLE {SCHEMA}.lists AS
            WITH every_key AS (
                SELECT '=' || word AS key, sid, w FROM {SCHEMA}.words
                UNION ALL
                SELECT m.key, l.sid, sum(l.w)::real
                  FROM {SCHEMA}.keymap m JOIN {SCHEMA}.words l ON l.word = m.word
                 GROUP BY 1, 2
            ), numbered AS (
                SELECT key, sid, w, row_number() OVER (PARTITION BY key ORDER BY w DESC, sid) AS n
                  FROM every_key
            )
            SELECT key, sid, w, n FROM numbered WHERE n <= {LIST_DEPTH + 1}"""
    )
    cursor.execute(
        f"""CREATE TABLE {SCHEMA}.keys AS
            SELECT key, count(*) FILTER (WHERE n <= {LIST_DEPTH}) AS stored,
                   coalesce(max(w) FILTER (WHERE n = {LIST_DEPTH + 1}), 0) AS tail
              FROM {SCHEMA}.lists GROUP BY key"""
    )
    cursor.execute(f"DELETE FROM {SCHEMA}.lists WHERE n > {LIST_DEPTH}")
    cursor.execute(f"ALTER TABLE {SCHEMA}.lists DROP COLUMN n")
    cursor.execute(f"CREATE INDEX ON {SCHEMA}.lists (key, w DESC, sid)")
    cursor.execute(f"ALTER TABLE {SCHEMA}.keys ADD PRIMARY KEY (key)")
    cursor.execute(f"DROP TABLE {SCHEMA}.words")
    cursor.execute(f"ANALYZE {SCHEMA}.lists")
    print(f"   built {SCHEMA} in {time.perf_counter() - started:.0f} s", flush=True)


# tsquery text, as PostgreSQL prints it: operands, ! & | <-> <N> and parentheses.
_TOKEN = re.compile(
    r"\s*(?:(?P<op>'(?:[^']|'')+'(?::[*A-D]+)?)|(?P<phrase><(?:-|\d+)>)|(?P<sym>[&|!()]))"
)


def parse(text: str):
    """A tree of ("OP", (lexeme, prefix)), ("!", x), ("&" | "|" | "<>", x, y)."""
    tokens = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"tsquery text: {text[pos:]!r}")
        pos = m.end()
        if m.group("op"):
            body, _, flags = m.group("op")[1:].rpartition("'")
            tokens.append(("OP", (body.replace("''", "'"), "*" in flags)))
        elif m.group("phrase"):
            tokens.append(("<>", None))
        else:
            tokens.append((m.group("sym"), None))
    at = [0]

    def peek():
        return tokens[at[0]][0] if at[0] < len(tokens) else None

    def take():
        at[0] += 1
        return tokens[at[0] - 1]

    def binary(op, operand):
        def parse_level():
            node = operand()
            while peek() == op:
                take()
                node = (op, node, operand())
            return node

        return parse_level

    def unary():
        if peek() == "!":
            take()
            return ("!", unary())
        if peek() == "(":
            take()
            node = alternatives()
            if take()[0] != ")":
                raise ValueError("tsquery text: unbalanced parentheses")
            return node
        kind, value = take()
        if kind != "OP":
            raise ValueError(f"tsquery text: operand expected, got {kind}")
        return ("OP", value)

    alternatives = binary("|", binary("&", binary("<>", unary)))
    node = alternatives()
    if at[0] != len(tokens):
        raise ValueError("tsquery text: trailing tokens")
    return node


def operands(node) -> set:
    if node[0] == "OP":
        return {node[1]}
    return set().union(*(operands(child) for child in node[1:]))


def _has_not(node) -> bool:
    return node[0] == "!" or (node[0] != "OP" and any(_has_not(c) for c in node[1:]))


def has_and(node) -> bool:
    return node[0] in ("&", "!") or (node[0] != "OP" and any(has_and(c) for c in node[1:]))


def leading(node) -> set:
    """The operands one of which is in the first entry of every cover ts_rank_cd counts.

    A cover is a minimal extent satisfying the query: dropping its first entry makes it false,
    so that entry holds an operand the satisfied alternative needs: any operand of an AND or
    an OR, the first of a phrase (its other words come later). An entry with only words under a
    NOT (not nested in another NOT, not in a phrase) never begins one: adding it to an extent
    cannot make the query true. Otherwise under a NOT: every operand.
    """
    kind = node[0]
    if kind == "OP":
        return {node[1]}
    if kind == "!" and not _has_not(node[1]):
        return set()
    if kind == "!" or (kind == "<>" and _has_not(node)):
        return operands(node)
    if kind == "<>":
        return leading(node[1])
    return leading(node[1]) | leading(node[2])


class Fallback(Exception):
    """The lists end (LIST_DEPTH) before the bound falls below the 201st score."""


def _key(cursor, lexeme: str, prefix: bool) -> str | None:
    if not prefix:
        return "=" + lexeme
    like = lexeme.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    cursor.execute(f"SELECT word FROM {SCHEMA}.vocabulary WHERE word LIKE %s ORDER BY word", [like])
    words = [w for (w,) in cursor.fetchall()]
    if not words:
        return None
    return "=" + words[0] if len(words) == 1 else ":" + os.path.commonprefix(words)


def _covers(key: str, other: str) -> bool:
    """Whether the words of `key` include those of `other`."""
    return key == other or (key[0] == ":" and other[1:].startswith(key[1:]))


def _squash(r: float) -> float:
    return r / (r + 1)


def threshold_rank(scope, plan, limit: int, stats: dict | None = None):
    """The (score, source, id) of the best `limit` policy sections for `plan`, best first."""
    from django.db import connection

    from policies import search

    query = plan.literal or plan.any_group
    with connection.cursor() as cursor:
        lead = {_key(cursor, *op) for op in leading(parse(query))} - {None}
        # A prefix key already counts every word it covers: a key for some of them would count
        # their positions twice.
        lead = {k for k in lead if not any(o != k and _covers(o, k) for o in lead)}
        group_keys = [
            {_key(cursor, *op) for op in operands(parse(g))} - {None} for g in plan.groups
        ]
        cursor.execute(
            f"SELECT key, stored, tail FROM {SCHEMA}.keys WHERE key = ANY(%s)", [sorted(lead)]
        )
        info = {k: (stored, tail) for k, stored, tail in cursor.fetchall()}
        # A key without a list is in no section.
        keys = sorted(k for k in lead if k in info)
        score_sql, score_params = search._score_sql(search.SECTIONS, plan)
        source, source_params = scope.text_from(search.SECTIONS)
        depth = dict.fromkeys(keys, 0)
        wanted = dict.fromkeys(keys, FIRST_DEPTH)
        head = dict.fromkeys(keys, math.inf)
        last_id = dict.fromkeys(keys)
        seen: dict[int, dict[str, float]] = {}
        scored: dict[int, float | None] = {}
        best: list[tuple[float, int]] = []
        reads = scorings = 0
        while True:
            reading = [k for k in keys if wanted[k] > depth[k]]
            if reading:
                reads += 1
                cursor.execute(
                    "SELECT k.key, l.sid, l.w "
                    "FROM unnest(%s::text[], %s::int[], %s::int[]) AS k(key, skip, n) "
                    f"CROSS JOIN LATERAL (SELECT sid, w FROM {SCHEMA}.lists WHERE key = k.key "
                    "ORDER BY w DESC, sid OFFSET k.skip LIMIT k.n) AS l",
                    [reading, [depth[k] for k in reading], [wanted[k] - depth[k] for k in reading]],
                )
                got = dict.fromkeys(reading, 0)
                for key, sid, w in cursor.fetchall():
                    got[key] += 1
                    head[key], last_id[key] = w, sid
                    seen.setdefault(sid, {})[key] = w
                for key in reading:
                    asked = wanted[key] - depth[key]
                    depth[key] += got[key]
                    if got[key] < asked:  # the end of the stored list
                        stored, tail = info[key]
                        head[key] = tail
                        if tail > 0:
                            last_id[key] = None
            # What a section not met yet can still reach.
            # A group can still be matched while a list holding one of its words goes on.
            open_groups = sum(
                1
                for g in group_keys
                if any(head[k] > 0 and any(_covers(k, o) for o in g) for k in keys)
            )
            classes = 0.0
            if not plan.literal:
                classes = open_groups + (search.PHRASE_BOOST if plan.phrase else 0)
            unseen = classes + _squash(sum(head.values()))

            def bound(sid):
                weights = seen[sid]
                return classes + _squash(sum(weights.get(k, head[k]) for k in keys))  # noqa: B023

            while True:
                last = -best[limit - 1][0] if len(best) >= limit else -math.inf
                pending = sorted(
                    ((bound(s), s) for s in seen if s not in scored and bound(s) > last - EPS),
                    reverse=True,
                )
                if not pending:
                    break
                batch = [s for _, s in pending[:SCORE_BATCH]]
                scorings += 1
                cursor.execute(
                    f"SELECT {score_sql}, t.id {source} AND t.id = ANY(%s) "
                    "AND t.search_vector @@ %s::tsquery",
                    [*score_params, *source_params, batch, query],
                )
                scored.update({sid: score for score, sid in cursor.fetchall()})
                for sid in batch:
                    scored.setdefault(sid, None)
                best = sorted((-s, i) for i, s in scored.items() if s is not None)[:limit]
            last = -best[limit - 1][0] if len(best) >= limit else -math.inf
            if unseen < last - EPS or all(head[k] == 0 for k in keys):
                break
            lasts = [last_id[k] for k in keys if head[k] > 0]
            if unseen <= last + EPS and None not in lasts and best[limit - 1][1] <= max(lasts):
                break
            top = max(head.values())
            for key in keys:
                if head[key] > 0 and head[key] >= top / 2:
                    if depth[key] >= info[key][0]:
                        raise Fallback(f"{key} ends at {depth[key]}")
                    wanted[key] = depth[key] * 4
        if stats is not None:
            stats.update(reads=reads, scorings=scorings, scored=len(scored), keys=len(keys))
        return [(-negative, search.SECTIONS, sid) for negative, sid in best]


def _today(scope, plan, limit):
    from django.db import connection, transaction

    from policies import search

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        ((ranked, _resources),), _ = search._rank(
            scope, [plan], limit, tiered=True, resources=False
        )
    return ranked


def _ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _random_check(scope, limit: int) -> tuple[int, int, int]:
    """Exactness beyond the 50 bench queries: words of the vocabulary, alone, in pairs, as a
    quoted phrase and with -word, drawn with two fixed seeds."""
    import random

    from django.db import connection, transaction

    from policies import search

    with connection.cursor() as cursor:
        cursor.execute("SELECT word FROM policies_searchterm ORDER BY word")
        vocabulary = [w for (w,) in cursor.fetchall()]
    finished = same = fallbacks = 0
    for seed in (1, 2):
        draw = random.Random(seed).choice
        queries = [draw(vocabulary) for _ in range(60)]
        queries += [f"{draw(vocabulary)} {draw(vocabulary)}" for _ in range(30)]
        queries += [f'"{draw(vocabulary)} {draw(vocabulary)}"' for _ in range(5)]
        queries += [f"{draw(vocabulary)} -{draw(vocabulary)}" for _ in range(5)]
        for query in queries:
            plan = search.plan(search.clean_query(query), organisation_ids=[])
            if plan.is_empty:
                continue
            expected = _today(scope, plan, limit)
            try:
                with transaction.atomic():
                    found = threshold_rank(scope, plan, limit)
            except Fallback:
                fallbacks += 1
                continue
            finished += 1
            same += found == expected
            if found != expected:
                print(f"   NOT THE SAME: {query!r}", flush=True)
    return finished, same, fallbacks


def run():
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection, transaction

    from bench import Result, percentile
    from bench.search import QUERIES
    from policies import search

    with transaction.atomic(), connection.cursor() as cursor:
        build(cursor, rebuild=os.environ.get("BENCH_THRESHOLD_REBUILD") == "1")
    scope = search._scope(AnonymousUser(), organisation=None, include_earlier=False)
    limit = search.COUNT_CAP + 1
    rows = []
    for query in QUERIES:
        plan = search.plan(search.clean_query(query), organisation_ids=[])
        if plan.is_empty:
            continue
        expected = _today(scope, plan, limit)
        stats: dict = {}
        try:
            with transaction.atomic():
                found = threshold_rank(scope, plan, limit, stats)
            exact = found == expected
            how = "terskel"
        except Fallback as exc:
            exact, how = None, f"faller tilbake ({exc})"
        today, threshold = [], []
        for _ in range(3):
            today.append(_ms(lambda p=plan: _today(scope, p, limit)))
            if exact is not None:
                with transaction.atomic():
                    threshold.append(_ms(lambda p=plan: threshold_rank(scope, p, limit)))
        t_today = statistics.median(today)
        t_threshold = statistics.median(threshold) if threshold else None
        rows.append((query, t_today, t_threshold, exact))
        shown = f"{t_threshold:6.1f}" if t_threshold is not None else "     -"
        print(
            f"   {query!r:42} i dag {t_today:6.1f} ms  terskel {shown} ms  eksakt={exact}  {how} {stats}",
            flush=True,
        )
    random_finished, random_same, random_fallbacks = _random_check(scope, limit)
    finished = [r for r in rows if r[3] is not None]
    wrong = [r[0] for r in finished if not r[3]]
    # Today's path where the threshold cannot finish, as a product would have to do.
    hybrid = [r[2] if r[3] else r[1] + 0.0 for r in rows]
    only = [r[2] for r in finished]
    today_all = [r[1] for r in rows]
    print(f"   not exact: {wrong or 'none'}")
    return [
        Result(
            "Terskelprototype: samme rangering som i dag",
            f"{len(finished) - len(wrong)} av {len(finished)} som fullfører "
            f"({len(rows) - len(finished)} av {len(rows)} faller tilbake)",
            "alle",
            not wrong,
        ),
        Result(
            "Terskelprototype, 200 tilfeldige spørsmål fra ordlisten: samme rangering",
            f"{random_same} av {random_finished} som fullfører ({random_fallbacks} faller tilbake)",
            "alle",
            random_same == random_finished,
        ),
        Result(
            f"Terskelprototype, rangering alle kommuner: p50 / p95 ({len(only)} spørsmål den fullfører)",
            f"{statistics.median(only):.1f} / {percentile(only, 95):.1f} ms",
        ),
        Result(
            f"Rangering i dag, alle kommuner: p50 / p95 ({len(rows)} spørsmål)",
            f"{statistics.median(today_all):.1f} / {percentile(today_all, 95):.1f} ms",
        ),
        Result(
            "Terskel, ellers i dag: p50 / p95",
            f"{statistics.median(hybrid):.1f} / {percentile(hybrid, 95):.1f} ms",
            "p95 ≤ 50 ms",
            percentile(hybrid, 95) <= 50,
        ),
    ]
