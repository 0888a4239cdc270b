"""The relevance set of bench/relevance.py over the real documents: a floor for search quality."""

import pytest

from bench.relevance import QUESTIONS, anonymous_urls, evaluate

pytestmark = pytest.mark.django_db


def test_the_relevance_set_has_at_least_forty_questions():
    assert len(QUESTIONS) >= 40
    assert all(relevant for _, relevant in QUESTIONS)


def test_most_questions_find_an_answering_section_among_the_first_three(handbook):
    score = evaluate(anonymous_urls)
    assert score.success_at_3 >= 0.9, score.misses
    assert score.mrr_at_10 >= 0.8, score.misses


def test_every_judged_section_exists(handbook):
    # A renamed heading would otherwise silently turn a question into a miss.
    from policies.models import ResourceSection, Section, Status

    urls = {
        f"/{s.version.policy.organisation.slug}/{s.version.policy.slug}/#{s.anchor}"
        for s in Section.objects.filter(version__status=Status.PUBLISHED).select_related(
            "version__policy__organisation"
        )
    } | {f"/ressurser/{s.resource.slug}/#{s.anchor}" for s in ResourceSection.objects.all()}
    judged = set().union(*(relevant for _, relevant in QUESTIONS))
    assert judged <= urls, judged - urls
