"""The best policy sections across every kommune without ranking every match: a threshold
algorithm over impact-ordered lists.

policies.search scores a section as coverage + phrase boost + R / (R + 1), with
R = ts_rank_cd(weights, vector, the query). A common word matches most of the 178 000 sections
of the national corpus, and computing R for each of them is what made such a search take
hundreds of milliseconds. Here R is computed only for the sections that can still be among the
best `limit`:

- Each *term* of the query (one group of policies.search's plan: the word, its forms, splits and
  synonyms; or, for a web-search-syntax query, the literal query) has a RankingList: the
  sections that match it, each with a weight that is at least what the term adds to R there.
- Why that bound holds: ts_rank_cd sums the value of its covers (minimal extents that satisfy
  the query); a cover's value is at most the weight of its first position (a harmonic mean of
  its positions' weights, which only fall along a section: title, heading, text, divided by
  1 + its noise words), and covers begin at distinct entries. The first entry of a cover holds
  a *leading* operand (`leading`) of a term the section matches (a query without NOT is
  monotone, so a term not matched never needs an entry). So R is at most the sum, over the
  terms a section matches, of ts_rank_cd(weights, vector, the term's leading operands OR-ed,
  0), and for a term whose covers are single positions, or that is the whole question, of its
  own ts_rank_cd, which is tighter (see Term). That is the entry's weight.
- The lists are read best first, a few hundred entries at a time. A section met is looked up in
  the other lists (by primary key) and its phrase tested, in one statement, best rough bound
  first, which makes its bound exact in the usual case; the best by bound are scored with
  policies.search's own score expression (never approximated), where the reader may read them,
  before they are returned. Reading stops when the last of the best `limit` scores more than
  any section not met yet can: the coverage and phrase classes still open plus f(sum of the
  lists' current weights). Ties are settled as search orders them (by id): a section not met
  yet at the head of a list comes after the last one read from it.
- When the last of the best lacks the phrase, or every term, those classes are closed: the
  sections with the phrase are scored (found in the full-text index), then the sections with
  every term are met from the lists (see _close_a_class).

A list is built (one statement over the sections that match the term) the first time the term is
searched; triggers add the sections of every later publication (models.RankingList). Where the bound
cannot be used (a NOT inside a phrase, weight-restricted operands) or would mean reading more
than MAX_READ entries or scoring more than MAX_SCORED sections, `Unbounded` tells the caller to
rank every match, as before.
"""

from __future__ import annotations

import math
import re

from django.db import connection

from . import textsearch
from .models import RANKING_LOCK

# Entries read from a list the first time, then twice as many each time it is read again.
FIRST_READ = 300
# Sections whose weights in the other lists are looked up (and phrase tested) per statement:
# the best by rough bounds first, then twice as many each time, up to EXACT_BATCH.
EXACT_FIRST = 512
EXACT_BATCH = 4_000
# More sections than this to score, and ranking every match in one statement is cheaper.
MAX_SCORED = 4_000
# The sections with every term of a question are scored first when there are at most this many.
FULL_CAP = 1_000
# Entries read from all lists together before ranking every match is cheaper.
MAX_READ = 60_000
# The sections with every term are met (see _meet_every_term) if the shortest list has at most
# this many entries.
MAX_MEET = 20_000
# At most this many lists are kept; building one more drops the oldest.
MAX_LISTS = 5_000
# Search orders by the score rounded to this many decimals, then by id (policies.search): here
# scores and bounds are compared as whole units of that last decimal, so ties are exact.
SCORE_DECIMALS = 5
UNITS = 10**SCORE_DECIMALS


class Unbounded(Exception):
    """The threshold cannot answer this query: rank every match instead."""


# tsquery text as PostgreSQL prints it: operands, ! & | <-> <N> and parentheses.
_TOKEN = re.compile(
    r"\s*(?:(?P<op>'(?:[^']|'')+'(?::[*A-D]+)?)|(?P<phrase><(?:-|\d+)>)|(?P<sym>[&|!()]))"
)


def parse(text: str):
    """A tree of ("OP", operand text), ("!", x), ("&" | "|", x, y) and ("<>", x, y, operator)."""
    tokens = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise Unbounded(f"tsquery text: {text[pos:]!r}")
        pos = m.end()
        if m.group("op"):
            operand = m.group("op")
            if re.search(r":[*]*[A-D]", operand):
                raise Unbounded("an operand restricted to a weight")
            tokens.append(("OP", operand))
        elif m.group("phrase"):
            tokens.append(("<>", m.group("phrase")))
        else:
            tokens.append((m.group("sym"), None))
    at = 0

    def peek():
        return tokens[at][0] if at < len(tokens) else None

    def take():
        nonlocal at
        at += 1
        return tokens[at - 1]

    def binary(op, operand):
        def level():
            node = operand()
            while peek() == op:
                _, operator = take()
                node = (op, node, operand(), operator) if op == "<>" else (op, node, operand())
            return node

        return level

    def unary():
        if peek() == "!":
            take()
            return ("!", unary())
        if peek() == "(":
            take()
            node = alternatives()
            if take()[0] != ")":
                raise Unbounded("tsquery text: unbalanced parentheses")
            return node
        if peek() != "OP":
            raise Unbounded("tsquery text: an operand expected")
        return take()

    alternatives = binary("|", binary("&", binary("<>", unary)))
    node = alternatives()
    if at != len(tokens):
        raise Unbounded("tsquery text: trailing tokens")
    return node


def text_of(node) -> str:
    kind = node[0]
    if kind == "OP":
        return node[1]
    if kind == "!":
        return f"!( {text_of(node[1])} )"
    operator = node[3] if kind == "<>" else kind
    return f"( {text_of(node[1])} {operator} {text_of(node[2])} )"


def _has_not(node) -> bool:
    return node[0] == "!" or (node[0] != "OP" and any(_has_not(c) for c in node[1:3]))


def positive(node):
    """The node without what is under a NOT: every section where the node's positive operands
    can begin a cover matches it. None when nothing positive is left."""
    kind = node[0]
    if kind == "OP":
        return node
    if kind == "!":
        return None
    if kind == "<>":
        if _has_not(node):
            raise Unbounded("a NOT inside a phrase")
        return node
    left, right = positive(node[1]), positive(node[2])
    if left is None or right is None:
        if kind == "|":
            raise Unbounded("an alternative under a NOT only")
        return left or right
    return (kind, left, right)


def leading(node) -> list[str]:
    """The operands one of which is at the first position of every cover of `node` (without
    NOT): a cover is minimal, so its first position holds an operand the query needs there:
    any operand of an AND or an OR, the first of a phrase (its other words come later)."""
    kind = node[0]
    if kind == "OP":
        return [node[1]]
    if kind == "<>":
        return leading(node[1])
    return leading(node[1]) + leading(node[2])


def _positions(node) -> int:
    """How many word positions a phrase has (alternatives at one position count once)."""
    if node[0] == "<>":
        return _positions(node[1]) + _positions(node[2])
    return 1


def _composite(node) -> bool:
    """Whether a cover of `node` can span several positions (it has an AND or a phrase)."""
    return node[0] in ("&", "<>") or (
        node[0] != "OP" and any(_composite(child) for child in node[1:3])
    )


class Term:
    """One term's list: which sections it is built from (`query`: those that match the term's
    positive operands) and the tsquery whose ts_rank_cd is each one's weight (`rank`).

    The weight is the term's own rank where that is all it can add to the question's: when the
    term is the whole question, or its covers are single positions (each worth its weight, in
    the question as alone). A term with ANDs or phrases among others is weighed by its leading
    operands' positions instead: in the question a cover of it may hold another term's words
    between its own, which ts_rank_cd counts as fewer noise words, so it can be worth more than
    alone; never more than its first position's weight.
    """

    def __init__(self, tsquery: str, *, alone: bool = True):
        tree = parse(tsquery)
        found = positive(tree)
        if found is None:
            raise Unbounded("a term with nothing but NOT")
        self.query = text_of(found)
        if alone or not _composite(found):
            self.rank = text_of(tree)
        else:
            self.rank = " | ".join(dict.fromkeys(leading(found)))
        self.key = f"{self.query} => {self.rank}"


_FILL_SQL = f"""
WITH filled AS (
    INSERT INTO policies_rankingentry (ranking_list_id, section_id, weight)
    SELECT %(list)s, t.id,
           ts_rank_cd('{textsearch.RANK_WEIGHTS}'::float4[], t.search_vector, %(rank)s::tsquery, 0)
      FROM policies_section t JOIN policies_policyversion v ON v.id = t.version_id
     WHERE v.status IN ('published', 'superseded') AND t.search_vector @@ %(match)s::tsquery
    RETURNING 1
)
UPDATE policies_rankinglist SET size = (SELECT count(*) FROM filled) WHERE id = %(list)s
RETURNING size
"""  # noqa: S608 - a constant, no input.


def _lists(cursor, terms: list[Term]) -> dict[str, tuple[int, int]]:
    """The id and size of each term's list, built where it is missing.

    A list is built under an exclusive lock that a publication takes shared (models.
    RANKING_LOCK): the statement that fills it sees every publication before it, and every
    publication after it sees the list (and adds its sections to it).
    """
    keys = sorted({t.key for t in terms})
    cursor.execute("SELECT query, id, size FROM policies_rankinglist WHERE query = ANY(%s)", [keys])
    found = {key: (pk, size) for key, pk, size in cursor.fetchall()}
    missing = [t for t in {t.key: t for t in terms}.values() if t.key not in found]
    if missing:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RANKING_LOCK])
        for term in sorted(missing, key=lambda t: t.key):
            cursor.execute(
                "INSERT INTO policies_rankinglist (query, match_query, rank_query, built, size) "
                "VALUES (%s, %s, %s, now(), 0) ON CONFLICT (query) DO NOTHING RETURNING id",
                [term.key, term.query, term.rank],
            )
            row = cursor.fetchone()
            if row is None:  # built by another search while this one waited for the lock
                cursor.execute(
                    "SELECT id, size FROM policies_rankinglist WHERE query = %s", [term.key]
                )
                found[term.key] = cursor.fetchone()
                continue
            cursor.execute(_FILL_SQL, {"list": row[0], "rank": term.rank, "match": term.query})
            found[term.key] = (row[0], cursor.fetchone()[0])
        # Fresh statistics, before autovacuum's: with a new list's entries unknown to the
        # planner, a probe by (list, section) may read the whole list instead.
        cursor.execute("ANALYZE policies_rankingentry")
        cursor.execute(
            "WITH old AS (SELECT id FROM policies_rankinglist ORDER BY built DESC OFFSET %s), "
            "entries AS (DELETE FROM policies_rankingentry "
            "WHERE ranking_list_id IN (SELECT id FROM old)) "
            "DELETE FROM policies_rankinglist WHERE id IN (SELECT id FROM old)",
            [MAX_LISTS],
        )
    return found


def _squash(r: float) -> float:
    return r / (r + 1)


def _units_at_most(bound: float) -> int:
    """The highest rounded score, in units, of a section whose score is at most `bound`: the
    bound is summed in another order than the score (from float4 weights), up to 1e-7 apart."""
    return math.floor(bound * UNITS + 0.51)


def _units(score: float) -> int:
    """A rounded score from PostgreSQL, in units."""
    return round(score * UNITS)


def best(scope, plan, limit: int, *, stats: dict | None = None) -> list[tuple[float, str, int]]:
    """The (score, source, id) of the best `limit` policy sections (not translations) that the
    reader of `scope` may read and that match `plan`, best first, as policies.search ranks them.

    Raises Unbounded where the threshold cannot answer (see the module docstring).
    """
    from . import search

    # One term per group of the plan; a literal query is one term.
    groups = [plan.literal] if plan.literal else plan.groups
    terms = [Term(g, alone=len(groups) == 1) for g in groups]
    with connection.cursor() as cursor:
        lists = _lists(cursor, terms)
        threshold = _Threshold(
            cursor,
            scope,
            plan,
            [lists[t.key][0] for t in terms],
            [lists[t.key][1] for t in terms],
            limit,
        )
        found = threshold.run()
    if stats is not None:
        stats.update(reads=threshold.reads, scored=len(threshold.scored), lists=len(terms))
    return [(score, search.SECTIONS, sid) for score, sid in found]


class _Threshold:
    """The state of one ranking: how far each term's list is read, the sections met with their
    weights, the exact scores so far."""

    def __init__(self, cursor, scope, plan, lists: list[int], sizes: list[int], limit: int):
        from . import search

        self.cursor, self.plan, self.lists, self.sizes, self.limit = (
            cursor,
            plan,
            lists,
            sizes,
            limit,
        )
        self.score_sql, self.score_params = search._score_sql(search.SECTIONS, plan)
        self.query = plan.literal or plan.any_group
        self.source, self.source_params = scope.text_from(search.SECTIONS)
        self.visible, self.visible_params = scope.section_visible()
        terms = len(lists)
        self.depth, self.wanted = [0] * terms, [FIRST_READ] * terms
        self.head, self.ended = [math.inf] * terms, [False] * terms
        self.last_id: list[int | None] = [None] * terms
        # The next lower weight of a list below a head, by (list index, head): see _may_stop.
        self.below: dict[tuple[int, float], float | None] = {}
        self.seen: dict[int, dict[int, float]] = {}
        self.looked_up: set[int] = set()
        # The bounds, in units, of the sections whose bounds are exact (see _exact); they
        # change only when a class is closed.
        self.fixed: dict[int, int] = {}
        # Sections met and not scored whose bound may still beat the last of the best.
        self.alive: set[int] = set()
        # Sections taken among the best by their exact bounds, not scored yet.
        self.provisional: dict[int, int] = {}
        # Sections met that cannot beat the last as it is, with their bounds; met again if it
        # falls (unpark).
        self.parked: dict[int, int] = {}
        self.unpark = False
        # Sections whose phrase is known (readability is left to the score, see _make_exact),
        # and those without the phrase.
        self.inspected: set[int] = set()
        self.without_phrase: set[int] = set()
        # Scores in units (None: not for this reader), and as PostgreSQL gave them.
        self.scored: dict[int, int | None] = {}
        self.exact: dict[int, float] = {}
        # The best so far, scored or provisional: (-units, id), best first.
        self.top: list[tuple[int, int]] = []
        self.reads = 0
        # Coverage counts terms only for a question (not a literal query).
        self.n = 0 if plan.literal else terms
        self.phrase = search.PHRASE_BOOST if plan.phrase and not plan.literal else 0.0
        # The phrase is made of every term's words, one position each, unless a term is a
        # stopword that only its synonyms give a meaning (it has a group, not a position).
        self.phrase_has_every_term = bool(self.phrase) and _positions(parse(plan.phrase)) == self.n
        # Once every section with every term has been met (or every one with the phrase has
        # been scored), a section not met has not every term (or no phrase, which has every
        # term). None: not tried yet; False: too many.
        self.every_term_met: bool | None = None
        self.phrase_scored: bool | None = None

    def run(self) -> list[tuple[float, int]]:
        while True:
            self._read()
            self._take_what_may_beat_the_last()
            while self._may_stop():
                unverified = [sid for _, sid in self.top if sid in self.provisional]
                if not unverified:
                    return [(self.exact[sid], sid) for _, sid in self.top]
                # The best are known by their exact bounds: score them, as the reader may not
                # read some, and a bound may exceed the score where terms share positions.
                # With the next best known, a third as many again: they take the places of
                # those the reader may not read (a fifth of the national corpus is internal).
                shown = set(unverified)
                unverified += [
                    sid
                    for _, sid in sorted((-u, i) for i, u in self.provisional.items())
                    if sid not in shown
                ][: len(unverified) // 3 + 8]
                bounds = [self.provisional[sid] for sid in unverified]
                self._score(unverified)
                if [self.scored[sid] for sid in unverified] != bounds:
                    # Some scored less: others may take their places.
                    self.unpark = True
                    self._take_what_may_beat_the_last()
            # The best not met yet may be held back by a class the last has not got: score
            # the (few) sections with every term, or with the phrase, and close it.
            if not self._close_a_class():
                self._read_deeper()

    def _may_stop(self) -> bool:
        """Whether no section not met yet can be among the best."""
        if all(self.ended):
            return True
        last = self._last()
        if last is None:
            return False
        going = [i for i, ended in enumerate(self.ended) if not ended]
        classes = self._classes(len(going))
        unseen = _units_at_most(classes + _squash(sum(self.head)))
        if unseen != last[0]:
            return unseen < last[0]
        # Level with the last. A section not met yet reaches it only at the head weight of
        # every list, and then comes after the last id read from each (lists are in (weight,
        # id) order): after the last, if that is no later. One just below a head (the next
        # lower weight of that list) must fall below the last, as weights that differ in their
        # last bits can round to the same score.
        if any(self.last_id[i] is None or self.last_id[i] < last[1] for i in going):
            return False
        asked = [i for i in going if (i, self.head[i]) not in self.below]
        if asked:
            self.cursor.execute(
                "SELECT k.i, k.head, (SELECT max(e.weight) FROM policies_rankingentry e "
                "WHERE e.ranking_list_id = k.list AND e.weight < k.head) "
                "FROM unnest(%s::int[], %s::bigint[], %s::float8[]) AS k(i, list, head)",
                [asked, [self.lists[i] for i in asked], [self.head[i] for i in asked]],
            )
            self.below.update(((i, head), below) for i, head, below in self.cursor.fetchall())
        total = sum(self.head)
        return all(
            _units_at_most(
                classes + _squash(total - self.head[i] + (self.below[i, self.head[i]] or 0.0))
            )
            < last[0]
            for i in going
        )

    def _read_deeper(self) -> None:
        if sum(self.depth) > MAX_READ:
            raise Unbounded(f"more than {MAX_READ} entries to read")
        highest = max(h for h, ended in zip(self.head, self.ended, strict=True) if not ended)
        for i, head in enumerate(self.head):
            if not self.ended[i] and head >= highest / 2:
                self.wanted[i] = max(self.depth[i] * 2, FIRST_READ)

    def _may_beat(self, units: int, sid: int, last: tuple[int, int] | None = None) -> bool:
        """Whether a section scoring at most `units` can still be among the best: above the
        last (of the best so far, or `last`), or level with it and before it by id."""
        last = last or self._last()
        return last is None or units > last[0] or (units == last[0] and sid < last[1])

    def _last(self) -> tuple[int, int] | None:
        """The last of the best so far, (units, id), when there are `limit` of them."""
        if len(self.top) < self.limit:
            return None
        negative, sid = self.top[self.limit - 1]
        return -negative, sid

    def _classes(self, terms: int, sid: int | None = None) -> float:
        """The most coverage and phrase boost of a section not scored yet (`sid`, if it has
        been met) that may match `terms` of the terms."""
        if self.plan.literal:
            return 0
        if self.every_term_met and (sid is None or sid not in self.looked_up):
            # Every section with every term has been met and looked up: not this one.
            terms = min(terms, self.n - 1)
        if (
            (terms == self.n or not self.phrase_has_every_term)
            and not self.phrase_scored
            and sid not in self.without_phrase
        ):
            return terms + self.phrase
        return terms

    def _bound(self, sid: int) -> float:
        """The most a section met in some lists can score: it matches the terms in whose lists
        it is, and may match those whose lists go on (unless looked up: then it matches the
        terms in whose lists it is, and no other)."""
        weights = self.seen[sid]
        if sid in self.looked_up or len(self.lists) == 1:
            return self._classes(len(weights), sid) + _squash(sum(weights.values()))
        total, terms = 0.0, 0
        for i, head in enumerate(self.head):
            weight = weights.get(i)
            if weight is not None:
                total, terms = total + weight, terms + 1
            elif not self.ended[i]:
                total, terms = total + head, terms + 1
        return self._classes(terms, sid) + _squash(total)

    def _make_exact(self, sids: list[int]) -> None:
        """Make these sections' bounds exact, in one statement: each one's weight in every list
        (by its primary key: far cheaper than a score, and it often shows the section lacks a
        term) and, where the plan has a phrase and the section every term, whether it has the
        phrase (a fraction of the cost of a score). Whether the reader may read them is left to
        the score: testing that per section costs more than scoring the few that are not."""
        probes = len(self.lists) > 1
        phrase = self._phrase_open()
        if probes or phrase:
            # One primary-key probe per section and list, as a subquery per row so that a list
            # not yet analysed cannot be read whole instead; OFFSET 0 keeps each evaluated once.
            weights = ", ".join(
                "(SELECT e.weight FROM policies_rankingentry e "  # noqa: S608 - no input
                f"WHERE e.ranking_list_id = %s AND e.section_id = m.id) AS w{i}"
                for i in range(len(self.lists))
                if probes
            )
            every = " AND ".join(f"w{i} IS NOT NULL" for i in range(len(self.lists)))
            test = "NULL::bool"
            if phrase:
                # Only a section with every term can have a phrase made of them all.
                test = (
                    f"CASE WHEN {every if probes and self.phrase_has_every_term else 'true'} "  # noqa: S608
                    "THEN (SELECT s.search_vector @@ %s::tsquery FROM policies_section s "
                    "WHERE s.id = x.id) END"
                )
            self.cursor.execute(
                f"SELECT x.*, {test} FROM (SELECT m.id{', ' if probes else ''}{weights} "  # noqa: S608
                "FROM unnest(%s::bigint[]) AS m(id) OFFSET 0) AS x",
                [*([self.plan.phrase] if phrase else []), *(self.lists if probes else []), sids],
            )
            for sid, *found, has_phrase in self.cursor.fetchall():
                weights_of = self.seen[sid]
                for i, weight in enumerate(found):
                    if weight is not None:
                        weights_of[i] = weight
                if phrase and not has_phrase:
                    self.without_phrase.add(sid)
        if probes:
            self.looked_up.update(sids)
        self.inspected.update(sids)

    def _phrase_open(self) -> bool:
        return bool(self.phrase) and not self.phrase_scored

    def _read(self) -> None:
        reading = [i for i in range(len(self.lists)) if not self.ended[i]]
        reading = [i for i in reading if self.wanted[i] > self.depth[i]]
        if not reading:
            return
        self.reads += 1
        self.cursor.execute(
            "SELECT k.i, e.section_id, e.weight "
            "FROM unnest(%s::int[], %s::bigint[], %s::int[], %s::int[]) AS k(i, list, skip, n) "
            "CROSS JOIN LATERAL (SELECT section_id, weight FROM policies_rankingentry "
            "WHERE ranking_list_id = k.list ORDER BY weight DESC, section_id "
            "OFFSET k.skip LIMIT k.n) AS e",
            [
                reading,
                [self.lists[i] for i in reading],
                [self.depth[i] for i in reading],
                [self.wanted[i] - self.depth[i] for i in reading],
            ],
        )
        got = dict.fromkeys(reading, 0)
        for i, sid, weight in self.cursor.fetchall():
            got[i] += 1
            self.head[i], self.last_id[i] = weight, sid
            self.seen.setdefault(sid, {})[i] = weight
            if sid not in self.scored and sid not in self.provisional and sid not in self.parked:
                self.alive.add(sid)
        for i in reading:
            asked = self.wanted[i] - self.depth[i]
            self.depth[i] += got[i]
            if got[i] < asked:
                self.ended[i], self.head[i] = True, 0.0

    def _take_what_may_beat_the_last(self) -> None:
        """Take among the best, by their exact bounds, the sections met that may beat the last.

        A section's bound is made exact first: its weights in the other lists looked up, its
        phrase tested, each a fraction of the cost of a score. It is then what the section
        scores, if the reader may read it and its terms share no positions: the best are
        scored before they are returned (run). A section that cannot beat the last of the
        scores known is dropped for good (bounds only fall, that last only rises).
        """
        verified = self._verified_last()
        last = self._last()
        if self.unpark:
            # The last fell (the best included sections the reader may not read): those
            # parked that may now beat it are met again.
            back = [sid for sid, units in self.parked.items() if self._may_beat(units, sid, last)]
            for sid in back:
                del self.parked[sid]
            self.alive.update(back)
            self.unpark = False
        pending = []
        # (The comparisons of _may_beat, inline: this loop meets every section read.)
        floor_units, floor_sid = verified if verified is not None else (-1, 0)
        last_units, last_sid = last if last is not None else (-1, 0)
        fixed, scored, parked = self.fixed, self.scored, self.parked
        for sid in self.alive:
            if sid in scored:
                continue
            units = fixed.get(sid)
            if units is None:
                units = _units_at_most(self._bound(sid))
                if self._exact(sid):
                    fixed[sid] = units
            if units < floor_units or (units == floor_units and sid > floor_sid):
                continue  # dropped for good
            if last is None or units > last_units or (units == last_units and sid < last_sid):
                pending.append((-units, sid))
            else:
                # Its bound only falls and the last only rises, unless the best turn out to
                # include sections the reader may not read.
                parked[sid] = units
        self.alive = set()
        # Exact bounds, best first by rough bound, a batch at a time: once the last of the best
        # by exact bounds is above the next rough bound, the rest cannot beat it and is parked.
        pending.sort()
        batch, at = EXACT_FIRST, 0
        while at < len(pending):
            last = self._last()
            if last is not None and not self._may_beat(-pending[at][0], pending[at][1], last):
                for negative, sid in pending[at:]:
                    parked[sid] = -negative
                break
            chunk = pending[at : at + batch]
            at, batch = at + batch, min(batch * 2, EXACT_BATCH)
            self._make_exact([sid for _, sid in chunk if not self._exact(sid)])
            for _, sid in chunk:
                units = fixed.get(sid)
                if units is None:
                    units = fixed[sid] = _units_at_most(self._bound(sid))
                if self._may_beat(units, sid, last):
                    self.provisional[sid] = units
                else:
                    parked[sid] = units
            self._rank()

    def _exact(self, sid: int) -> bool:
        return (sid in self.looked_up or len(self.lists) == 1) and sid in self.inspected

    def _score(self, sids: list[int]) -> None:
        """Score these sections where the reader may read them (by primary key: the match is
        tested on each row, not looked up in the full-text index)."""
        if len(self.scored) >= MAX_SCORED:
            raise Unbounded(f"more than {MAX_SCORED} sections to score")
        self.cursor.execute(
            f"SELECT {self.score_sql}, t.id, t.search_vector @@ %s::tsquery "  # noqa: S608
            f"FROM policies_section t WHERE t.id = ANY(%s) AND {self.visible}",
            [*self.score_params, self.query, sids, *self.visible_params],
        )
        scores = dict.fromkeys(sids)  # None: not for this reader, or not matching
        scores.update((sid, score) for score, sid, matches in self.cursor.fetchall() if matches)
        self._keep(scores)

    def _keep(self, scores: dict[int, float | None]) -> None:
        """Record these sections' scores (None: not among the hits): they leave every other
        state, and the best are ranked again."""
        for sid, score in scores.items():
            self.scored[sid] = None if score is None else _units(score)
            if score is not None:
                self.exact[sid] = score
            self.provisional.pop(sid, None)
            self.parked.pop(sid, None)
        self.alive.difference_update(scores)
        self._rank()

    def _rank(self) -> None:
        best = [(-u, i) for i, u in self.scored.items() if u is not None]
        best += [(-u, i) for i, u in self.provisional.items()]
        self.top = sorted(best)[: self.limit]

    def _verified_last(self) -> tuple[int, int] | None:
        """The last of the best among the sections scored, (units, id): the best can only
        be better."""
        scores = sorted((-u, i) for i, u in self.scored.items() if u is not None)
        if len(scores) < self.limit:
            return None
        negative, sid = scores[self.limit - 1]
        return -negative, sid

    def _score_class(self, tsquery: str) -> bool:
        """Score every section the reader may read with the plan and `tsquery`, if there are
        at most FULL_CAP; whether there were. (They are counted first: where there are more,
        none is scored. The count comes on every row, and alone when there is none to score.)"""
        self.cursor.execute(
            f"WITH found AS MATERIALIZED (SELECT t.id {self.source} "  # noqa: S608
            # The plan's query as a filter of what the index finds with `tsquery`, not in the
            # index: an OR of every term's words costs more there than the phrase saves.
            f"AND (t.search_vector @@ %s::tsquery) IS TRUE AND t.search_vector @@ %s::tsquery "
            f"LIMIT {FULL_CAP + 1}) "
            f"SELECT n.found, s.* FROM (SELECT count(*) AS found FROM found) AS n "
            f"LEFT JOIN LATERAL (SELECT {self.score_sql}, t.id FROM policies_section t "
            f"JOIN found f ON f.id = t.id WHERE n.found <= {FULL_CAP}) AS s ON true",
            [*self.source_params, self.query, tsquery, *self.score_params],
        )
        rows = self.cursor.fetchall()
        if rows[0][0] > FULL_CAP:
            return False
        self._keep({sid: score for _found, score, sid in rows if sid is not None})
        return True

    def _close_a_class(self) -> bool:
        """When the last of the best lacks every term (or the phrase), a section not met yet
        could still have them: meet every section with every term (from the lists, with their
        weights), or score every one with the phrase, so that none not met yet can. Whether a
        class was closed."""
        last = self._last()
        if self.n < 2 or last is None:
            return False
        # The phrase first: its sections are found in the full-text index (the phrase's rarest
        # word narrows them), and once they are scored no other section needs its phrase
        # tested, such as the thousands met with every term below.
        if self.phrase and self.phrase_scored is None and last[0] < (self.n + self.phrase) * UNITS:
            self.phrase_scored = self._score_class(self.plan.phrase)
            if self.phrase_scored:
                self.fixed.clear()
                return True
        if self.every_term_met is None and last[0] < self.n * UNITS:
            self.every_term_met = min(self.sizes) <= MAX_MEET
            if self.every_term_met:
                self.fixed.clear()
                self._meet_every_term()
            return self.every_term_met
        return False

    def _meet_every_term(self) -> None:
        """Meet the sections in every list, with their weights: the shortest list read whole,
        each of its sections looked up in the others by their primary key."""
        shortest = min(range(len(self.lists)), key=lambda i: self.sizes[i])
        others = [i for i in range(len(self.lists)) if i != shortest]
        joins = " ".join(
            f"JOIN policies_rankingentry e{i} ON e{i}.ranking_list_id = %s "
            f"AND e{i}.section_id = a.section_id"
            for i in others
        )
        weights = ", ".join(f"e{i}.weight" for i in others)
        self.cursor.execute(
            f"SELECT a.section_id, a.weight, {weights} FROM policies_rankingentry a {joins} "  # noqa: S608
            "WHERE a.ranking_list_id = %s",
            [*(self.lists[i] for i in others), self.lists[shortest]],
        )
        for sid, first, *rest in self.cursor.fetchall():
            self.seen[sid] = {shortest: first, **dict(zip(others, rest, strict=True))}
            self.looked_up.add(sid)
            self.fixed.pop(sid, None)
            self.parked.pop(sid, None)
            if sid not in self.scored and sid not in self.provisional:
                self.alive.add(sid)
