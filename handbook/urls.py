"""Public addresses are a contract (intranets link to them): keep them stable and Norwegian."""

from django.contrib import admin
from django.urls import path

from policies.views import account, reading

handler400 = "policies.views.errors.bad_request"
handler403 = "policies.views.errors.permission_denied"
handler404 = "policies.views.errors.page_not_found"
handler500 = "policies.views.errors.server_error"

urlpatterns = [
    path("", reading.organisation_list, name="home"),
    path("logg-inn/", account.login_view, name="login"),
    path("logg-ut/", account.logout_view, name="logout"),
    path("admin/", admin.site.urls),
    path("ressurser/<slug:slug>/", reading.resource_detail, name="resource_detail"),
    # Organisation-level addresses last: their first segment is free text.
    path("<slug:org_slug>/", reading.organisation_handbook, name="organisation_handbook"),
    path("<slug:org_slug>/<slug:policy_slug>/", reading.policy_detail, name="policy_detail"),
    path(
        "<slug:org_slug>/<slug:policy_slug>/versjon/<int:number>/",
        reading.version_detail,
        name="version_detail",
    ),
]
