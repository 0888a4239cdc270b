"""Review dates (revisjonsfrist): when each policy is due for review, as editors and readers see it.

A policy is due for review `review_interval_months` after its current version took effect: every
publication (editorial or material) restarts the interval, because publishing is a review.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Policy, PolicyVersion

NEAR_REVIEW_DAYS = 60


class ReviewState:
    VALID = "gyldig"
    NEAR = "naer"
    OVERDUE = "passert"
    UNPUBLISHED = "upublisert"


LABELS = {
    ReviewState.VALID: _("Revisjon i rute"),
    ReviewState.NEAR: _("Revisjon snart"),
    ReviewState.OVERDUE: _("Revisjonsfrist passert"),
    ReviewState.UNPUBLISHED: _("Ikke publisert"),
}
# Overdue first on the editors' dashboard, then those coming up, then the rest.
SORT_ORDER = {
    ReviewState.OVERDUE: 0,
    ReviewState.NEAR: 1,
    ReviewState.VALID: 2,
    ReviewState.UNPUBLISHED: 3,
}
TAG_COLORS = {
    ReviewState.VALID: "success",
    ReviewState.NEAR: "warning",
    ReviewState.OVERDUE: "danger",
    ReviewState.UNPUBLISHED: "neutral",
}


@dataclass(frozen=True)
class Review:
    state: str
    due: datetime.date | None
    days_left: int | None

    @property
    def label(self) -> str:
        return LABELS[self.state]

    @property
    def color(self) -> str:
        return TAG_COLORS[self.state]

    @property
    def sort_key(self) -> int:
        return SORT_ORDER[self.state]

    @property
    def is_overdue(self) -> bool:
        return self.state == ReviewState.OVERDUE

    @property
    def is_near(self) -> bool:
        return self.state == ReviewState.NEAR


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the month's last day when it is shorter (31.1. + 1 = 28.2.)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def review_of(
    policy: Policy, current: PolicyVersion | None, *, today: datetime.date | None = None
) -> Review:
    """The review status of `policy` whose current version is `current` (None: never published)."""
    if current is None:
        return Review(ReviewState.UNPUBLISHED, None, None)
    today = today or timezone.localdate()
    start = current.effective_from or timezone.localdate(current.published_at)
    due = add_months(start, policy.review_interval_months)
    days_left = (due - today).days
    if days_left < 0:
        state = ReviewState.OVERDUE
    elif days_left <= NEAR_REVIEW_DAYS:
        state = ReviewState.NEAR
    else:
        state = ReviewState.VALID
    return Review(state, due, days_left)
