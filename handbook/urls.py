"""Public addresses are a contract (intranets link to them): keep them stable and Norwegian."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from people.views import choose_language
from policies.views import health
from signin import views as signin

handler400 = "policies.views.errors.bad_request"
handler403 = "policies.views.errors.permission_denied"
handler404 = "policies.views.errors.page_not_found"
handler500 = "policies.views.errors.server_error"

urlpatterns = [
    path("logg-inn/", signin.login_page, name="login"),
    path("logg-inn/<slug:org>/", signin.start, name="signin_start"),
    path("logg-inn/<slug:org>/retur/", signin.callback, name="signin_callback"),
    path("logg-ut/", signin.logout_view, name="logout"),
    path("admin/", admin.site.urls),
    path("helse/", health.health, name="health"),
    path("sprak/", choose_language, name="choose_language"),
    path("redaksjon/", include("policies.urls.editorial")),
    path("oversikt/", include("policies.urls.manager")),
    path("", include("policies.urls.employee")),
    # Before the reading pages, whose /<org>/<policy>/ would take it.
    path("<slug:org>/logg-inn/", signin.organisation_login, name="organisation_login"),
    # Last: the reading pages, whose /<org>/ patterns would otherwise shadow the others.
    path("", include("policies.urls.reading")),
]

if not settings.PRODUCTION:
    # Images uploaded in the editor (MEDIA_ROOT/bilder/); in production the web server serves
    # MEDIA_URL. Inserted before the reading pages, whose /<org>/<policy>/ would shadow it.
    def _media(request, path):
        return serve(request, path, document_root=settings.MEDIA_ROOT)

    urlpatterns.insert(-1, re_path(r"^media/(?P<path>.*)$", _media))
