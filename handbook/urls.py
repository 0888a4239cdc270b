"""Public addresses are a contract (intranets link to them): keep them stable and Norwegian."""

from django.contrib import admin
from django.urls import include, path

from people.views import choose_language
from policies.views import account, health, images

handler400 = "policies.views.errors.bad_request"
handler403 = "policies.views.errors.permission_denied"
handler404 = "policies.views.errors.page_not_found"
handler500 = "policies.views.errors.server_error"

urlpatterns = [
    path("logg-inn/", account.login_view, name="login"),
    path("logg-ut/", account.logout_view, name="logout"),
    path("admin/", admin.site.urls),
    path("helse/", health.health, name="health"),
    # Editor images, from storage, only for those who may read a policy that shows them.
    path("media/bilder/<str:name>", images.policy_image, name="policy_image"),
    path("sprak/", choose_language, name="choose_language"),
    path("redaksjon/", include("policies.urls.editorial")),
    path("oversikt/", include("policies.urls.manager")),
    path("", include("policies.urls.employee")),
    # Last: the reading pages, whose /<org>/ patterns would otherwise shadow the others.
    path("", include("policies.urls.reading")),
]
