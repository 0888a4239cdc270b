"""Editors' pages for language versions: a translation of a published version, written side by
side with the original and then published (policies.workflow holds the writes)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..access import editor_required, get_editable_policy
from ..forms_editorial import TranslationForm
from ..models import Status
from ..rendering import render_html
from ..translations import language_name, requested_language
from ..workflow import (
    AlreadyPublishedError,
    ConflictError,
    WorkflowError,
    publish_translation,
    save_translation,
)


def translation_url(policy, number: int, language: str) -> str:
    return reverse(
        "editorial_translation", args=[policy.organisation.slug, policy.slug, number, language]
    )


@editor_required
@require_http_methods(["GET", "POST"])
def translation_edit(request, org_slug: str, policy_slug: str, number: int, language: str):
    """Write (and publish) the translation of version `number` into `language`.

    The policy is fetched through the editor's access check (another kommune's is a 404); only a
    version that has been published can be translated, into a målform other than its own.
    """
    policy = get_editable_policy(request.user, org_slug, policy_slug)
    version = get_object_or_404(policy.versions.exclude(status=Status.DRAFT), number=number)
    if requested_language(language) is None or language == version.language:
        raise Http404
    translation = version.translations.filter(language=language).first()
    editable = (
        version.status in (Status.PUBLISHED, Status.SCHEDULED)
        and not policy.is_retired
        and not (translation and translation.is_published)
    )
    status = 200
    if request.method == "POST":
        form = TranslationForm(request.POST, language=language)
        if not editable:
            messages.error(request, _("Denne oversettelsen kan ikke endres. Ingenting er lagret."))
            return redirect(translation_url(policy, number, language))
        if form.is_valid():
            data = form.cleaned_data
            try:
                translation = save_translation(
                    version,
                    language=language,
                    by=request.user,
                    title=data["title"],
                    body=data["body"],
                    note=data["note"],
                    revision=data["revision"],
                )
                if request.POST.get("handling") == "publiser":
                    publish_translation(
                        translation, by=request.user, expected_revision=translation.revision
                    )
                    messages.success(
                        request,
                        _("Oversettelsen til %(language)s er publisert.")
                        % {"language": language_name(language)},
                    )
                    return redirect(reverse("editorial_policy", args=[org_slug, policy_slug]))
            except AlreadyPublishedError as error:
                messages.info(request, str(error))
                return redirect(translation_url(policy, number, language))
            except ConflictError as error:
                form.add_error(None, str(error))
                status = 409
            except WorkflowError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                messages.success(request, _("Oversettelsen er lagret."))
                return redirect(translation_url(policy, number, language))
        else:
            status = 400
        translation = version.translations.filter(language=language).first()
    else:
        source = translation or version
        form = TranslationForm(
            initial={
                "title": source.title,
                "body": source.body,
                "note": translation.note if translation else "",
                "revision": translation.revision if translation else None,
            },
            language=language,
        )
    return render(
        request,
        "editorial/translation_edit.html",
        {
            "organisation": policy.organisation,
            "policy": policy,
            "version": version,
            "translation": translation,
            "language": language,
            "language_label": language_name(language),
            "original_label": language_name(version.language),
            "form": form,
            "editable": editable,
            # A draft's text as it will be shown, rendered and sanitised like any text.
            "preview": render_html(translation.body)
            if translation and not translation.is_published
            else "",
        },
        status=status,
    )
