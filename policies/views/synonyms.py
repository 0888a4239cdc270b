"""`/redaksjon/synonymer/`: the words staff search with, kept by the organisation's editors."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from handbook.http import post_only

from ..access import editor_required
from ..forms_editorial import SynonymForm
from ..models import Synonym
from ..synonyms import delete_synonym, save_synonym
from .editorial import own_organisation


@editor_required
@require_http_methods(["GET", "POST"])
def synonym_list(request):
    """The organisation's synonyms and the national ones, with a form to add or change one."""
    organisation = own_organisation(request)
    if organisation is None:
        return redirect(reverse("editorial_dashboard"))
    form = SynonymForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        synonym = save_synonym(
            organisation=organisation,
            word=form.cleaned_data["word"],
            words=form.cleaned_data["words"],
            by=request.user,
        )
        messages.success(
            request,
            _("Lagret: «%(word)s» finner også %(words)s.")
            % {"word": synonym.word, "words": synonym.words},
        )
        return redirect(reverse("editorial_synonyms"))
    return render(
        request,
        "editorial/synonyms.html",
        {
            "organisation": organisation,
            "form": form,
            "own": Synonym.objects.filter(organisation=organisation),
            "national": Synonym.objects.filter(organisation__isnull=True),
        },
        status=400 if form.errors else 200,
    )


@editor_required
@post_only("editorial_synonyms")
def synonym_delete(request, pk: int):
    """POST only: remove one of the organisation's own synonyms."""
    organisation = own_organisation(request)
    if organisation is None:
        return redirect(reverse("editorial_dashboard"))
    synonym = Synonym.objects.filter(pk=pk, organisation=organisation).first()
    if synonym is None:
        # Already removed (a double click), or another organisation's: nothing to do here.
        get_object_or_404(Synonym, pk=pk, organisation=organisation)
    delete_synonym(synonym, by=request.user)
    messages.success(request, _("Slettet: «%(word)s».") % {"word": synonym.word})
    return redirect(reverse("editorial_synonyms"))
