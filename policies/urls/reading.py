"""Reader-facing addresses. Organisation-level patterns come last: their first segment is free text."""

from django.urls import path

from policies.pagecache import cache_anonymous_page
from policies.views import branding, employee, pages, reading

urlpatterns = [
    # Visitors get the organisations, logged-in people "Mine retningslinjer".
    path("", employee.home, name="home"),
    path("ressurser/<slug:slug>/", reading.resource_detail, name="resource_detail"),
    path("tilgjengelighet/", pages.accessibility_statement, name="accessibility_statement"),
    path("tema/<slug:org_slug>.css", branding.kommune_theme, name="kommune_theme"),
    path("<slug:org_slug>/", reading.organisation_handbook, name="organisation_handbook"),
    path(
        "<slug:org_slug>/<slug:policy_slug>/",
        cache_anonymous_page(reading.policy_detail),
        name="policy_detail",
    ),
    path(
        "<slug:org_slug>/<slug:policy_slug>/versjon/<int:number>/",
        reading.version_detail,
        name="version_detail",
    ),
]
