"""A kommune's own look: the editors' page that sets it, and the stylesheet that applies it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from people.branding import theme_css
from people.models import Organisation

from ..access import editor_required
from ..authoring import LOOK_FIELDS, change_look
from ..forms_editorial import LookForm


@editor_required
@require_http_methods(["GET", "POST"])
def kommune_look(request):
    """`/redaksjon/kommune/`: colour, coat of arms, contact and personvernerklæring."""
    organisation = request.user.organisation
    if organisation is None:
        messages.error(request, _("Du hører ikke til en kommune, så det er ingen kommune å endre."))
        return redirect(reverse("editorial_dashboard"))
    if request.method == "POST":
        form = LookForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            change_look(
                organisation,
                by=request.user,
                logo=data["logo"],
                remove_logo=data["remove_logo"],
                **{name: data[name] for name in LOOK_FIELDS},
            )
            messages.success(
                request, _("Utseendet for %(name)s er lagret.") % {"name": organisation.name}
            )
            return redirect(reverse("editorial_kommune_look"))
        status = 400
    else:
        form = LookForm(initial={name: getattr(organisation, name) for name in LOOK_FIELDS})
        status = 200
    return render(
        request,
        "editorial/kommune_look.html",
        {"form": form, "kommune": organisation},
        status=status,
    )


@require_GET
def kommune_theme(request, org_slug: str):
    """`/tema/<kommune>.css`: Designsystemet's accent tokens in the kommune's colour.

    The address carries the time of the last change (?v=…), so the file may be cached for a day.
    """
    organisation = get_object_or_404(Organisation.objects.only("accent_color"), slug=org_slug)
    response = HttpResponse(theme_css(organisation.accent_color), content_type="text/css")
    response["Cache-Control"] = "public, max-age=86400"
    return response
