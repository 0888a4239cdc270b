"""Review dates: gyldig, nær revisjon (within 60 days), passert revisjonsfrist."""

import datetime

import pytest
from django.utils import timezone

from policies.review import ReviewState, add_months, review_of

from .factories import make_organisation, make_person, make_policy, publish_version

D = datetime.date


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (D(2024, 1, 15), 24, D(2026, 1, 15)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 11, 30), 3, D(2025, 2, 28)),
        (D(2024, 12, 1), 12, D(2025, 12, 1)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_last_of_a_short_month(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("today", "state"),
    [
        (D(2025, 1, 1), ReviewState.VALID),
        (D(2025, 11, 2), ReviewState.VALID),  # 61 days before
        (D(2025, 11, 3), ReviewState.NEAR),  # 60 days before
        (D(2026, 1, 2), ReviewState.NEAR),  # the due date itself
        (D(2026, 1, 3), ReviewState.OVERDUE),
    ],
)
def test_review_status_is_counted_from_when_the_current_version_took_effect(today, state):
    policy = make_policy(make_organisation(), effective_from=D(2024, 1, 2))
    policy.review_interval_months = 24
    review = review_of(policy, policy.versions.current().get(), today=today)
    assert review.due == D(2026, 1, 2)
    assert review.state == state


@pytest.mark.django_db
def test_a_policy_that_was_never_published_has_no_review_date():
    policy = make_policy(make_organisation(), published=False)
    review = review_of(policy, None)
    assert review.state == ReviewState.UNPUBLISHED and review.due is None


@pytest.mark.django_db
def test_dashboard_lists_overdue_policies_first(client):
    organisation = make_organisation()
    editor = make_person(organisation, is_editor=True, password="pw-123456789")
    today = timezone.localdate()
    make_policy(organisation, title="A gyldig", effective_from=today)
    make_policy(
        organisation, title="B passert", effective_from=today - datetime.timedelta(days=800)
    )
    make_policy(
        organisation,
        title="C nær",
        effective_from=add_months(today, -24) + datetime.timedelta(days=30),
    )
    client.force_login(editor)
    html = client.get("/redaksjon/").content.decode()
    assert html.index("B passert") < html.index("C nær") < html.index("A gyldig")
    assert (
        "Revisjonsfrist passert" in html and "Revisjon snart" in html and "Revisjon i rute" in html
    )


@pytest.mark.django_db
def test_readers_are_not_told_that_the_review_date_has_passed(client):
    organisation = make_organisation()
    policy = make_policy(organisation, effective_from=datetime.date(2015, 1, 1))
    html = client.get(policy.get_absolute_url()).content.decode()
    assert "Revisjonsfristen" not in html and "utdatert" not in html
    client.force_login(make_person(organisation))
    html = client.get(policy.get_absolute_url()).content.decode()
    assert "Revisjonsfristen" not in html and "utdatert" not in html


@pytest.mark.django_db
def test_editors_and_the_owner_see_that_the_review_date_has_passed(client):
    organisation = make_organisation()
    owner = make_person(organisation)
    policy = make_policy(organisation, effective_from=datetime.date(2015, 1, 1), owner=owner)
    for person in (owner, make_person(organisation, is_editor=True)):
        client.force_login(person)
        html = client.get(policy.get_absolute_url()).content.decode()
        assert "Revisjonsfristen for denne retningslinjen gikk ut 01.01.2017" in html


@pytest.mark.django_db
def test_editors_see_the_next_review_date_of_a_valid_policy(client):
    organisation = make_organisation()
    policy = make_policy(organisation, effective_from=timezone.localdate())
    client.force_login(make_person(organisation, is_editor=True))
    html = client.get(policy.get_absolute_url()).content.decode()
    assert "Neste planlagte revisjon" in html


@pytest.mark.django_db
def test_an_old_version_page_counts_the_review_from_the_current_version(client):
    organisation = make_organisation()
    policy = make_policy(organisation, effective_from=datetime.date(2015, 1, 1))
    publish_version(policy, body="Ny tekst.", effective_from=timezone.localdate())
    client.force_login(make_person(organisation, is_editor=True))
    html = client.get(f"{policy.get_absolute_url()}versjon/1/").content.decode()
    assert "Revisjonsfristen" not in html
    assert "Neste planlagte revisjon" in html
