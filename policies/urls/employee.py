"""Addresses for the employee pages. Included before the reading pages, whose /<org>/ would shadow them."""

from django.urls import path

from policies.views import employee, receipts

urlpatterns = [
    path("sok/", employee.search_page, name="search"),
    path("meg/", employee.me, name="me"),
    path("meg/mine-data/", employee.my_data, name="my_data"),
    path("meg/mine-data.json", employee.my_data_json, name="my_data_json"),
    path("meg/mine-bekreftelser.csv", employee.my_data_csv, name="my_data_csv"),
    path("meg/varsler/", employee.my_notices, name="my_notices"),
    path("meg/kvitteringer/<int:pk>/", receipts.receipt, name="receipt"),
    path("meg/kvitteringer/<int:pk>/kvittering.pdf", receipts.receipt_pdf, name="receipt_pdf"),
    path("<slug:org_slug>/<slug:policy_slug>/bekreft/", employee.confirm, name="confirm"),
    path("<slug:org_slug>/<slug:policy_slug>/endringer/", employee.changes, name="changes"),
]
