"""Addresses for the manager pages, under /oversikt/."""

from django.urls import include, path

from policies.views import manager

# The same person list, exports and reminders for "all my units" and for one unit.
_policy_pages = [
    path("", manager.policy_people, name="people"),
    path("eksport.csv", manager.export_csv, name="export_csv"),
    path("eksport.xlsx", manager.export_xlsx, name="export_xlsx"),
    path("utskrift/", manager.print_list, name="print"),
    path("paminnelse/", manager.send_reminders, name="remind"),
]


def _named(prefix: str):
    return [path(str(p.pattern), p.callback, name=f"{prefix}_{p.name}") for p in _policy_pages]


urlpatterns = [
    path("", manager.overview, name="manager_overview"),
    path("enhet/<int:unit_id>/", manager.unit_detail, name="manager_unit"),
    path("retningslinje/<slug:slug>/", include(_named("manager_policy"))),
    path("enhet/<int:unit_id>/retningslinje/<slug:slug>/", include(_named("manager_unit_policy"))),
]
