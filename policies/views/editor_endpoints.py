"""The editor page's background endpoints: markdownx's preview and image upload, and the analysis
(table of contents and readability) that the page's script refreshes while the editor types.

They answer fragments or JSON rather than pages, and all of them require an editor.
"""

from __future__ import annotations

import posixpath
from functools import wraps
from urllib.parse import urlsplit

from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from markdownx.views import ImageUploadView, MarkdownifyView

from people.language import supported

from ..access import editor_required
from ..models import MAX_BODY_LENGTH
from ..readability import analyse_html
from ..rendering import render, render_html
from ..uploads import EditorImageForm, upload_too_large


def analysis_context(body: str, title: str) -> dict:
    """The table of contents and readability of a body, for `editorial/_analysis.html`."""
    rendered = render(body, title=title)
    return {"toc": rendered.toc, "readability": analyse_html(rendered.html)}


@editor_required
@require_POST
def analyse(request):
    """The table of contents and readability of the posted text, for the editor page's script."""
    content = request.POST.get("content", "")
    if len(content) > MAX_BODY_LENGTH:
        return HttpResponse(
            format_html(
                '<p class="ds-paragraph">{}</p>', _("Teksten er for lang til å analyseres.")
            ),
            status=400,
        )
    html = render_to_string(
        "editorial/_analysis.html", analysis_context(content, request.POST.get("title", ""))
    )
    return HttpResponse(html)


class EditorMarkdownifyView(MarkdownifyView):
    """markdownx's preview, through our render-and-sanitise function, with size limit."""

    def post(self, request, *args, **kwargs):
        content = request.POST.get("content", "")
        if len(content) > MAX_BODY_LENGTH:
            return HttpResponse(
                format_html(
                    '<p class="ds-paragraph">{}</p>', _("Teksten er for lang til forhåndsvisning.")
                ),
                status=400,
            )
        return HttpResponse(render_html(content))


class EditorImageUploadView(ImageUploadView):
    """markdownx's upload, accepting only real JPEG and PNG images of a few MB, answering JSON."""

    form_class = EditorImageForm
    http_method_names = ["post"]

    def form_invalid(self, form):
        return JsonResponse(
            {"image": [str(e) for errors in form.errors.values() for e in errors]}, status=400
        )

    def form_valid(self, form):
        try:
            image_path = form.save(commit=True)
        except (OSError, ValueError):
            return JsonResponse(
                {
                    "image": [
                        _("Bildet kunne ikke leses. Prøv å lagre det på nytt som JPEG eller PNG.")
                    ]
                },
                status=400,
            )
        # Whatever address the storage would give (a blob URL in production), the page links to
        # the portal's own address for it, which checks who is asking (policies.views.images).
        name = posixpath.basename(urlsplit(image_path).path)
        url = reverse("policy_image", kwargs={"name": name})
        # The placeholder goes into the text, so it is in the text's language: the editor page's
        # button sends it as `sprak`, markdownx's drop upload in its address; else the interface's.
        asked = self.request.POST.get("sprak") or self.request.GET.get("sprak")
        with override(supported(asked) or get_language()):
            alt = _("Beskriv bildet")
        return JsonResponse({"image_code": f"![{alt}]({url})"})


def upload_checks(view):
    """Refuse an oversized upload from its Content-Length before anything reads the body, then
    check the CSRF token (which reads the body), and only then call `view`.

    This takes the place of CsrfViewMiddleware (the view is csrf_exempt) and runs where it would
    have: before any other check, so that a forged upload is refused as a forgery whoever sends it.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST":
            too_large = upload_too_large(request)
            if too_large:
                return JsonResponse({"image": [too_large]}, status=413)
            refused = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
            if refused is not None:
                return JsonResponse(
                    {"image": [_("Skjemaet er utløpt. Last siden på nytt og prøv igjen.")]},
                    status=403,
                )
        return view(request, *args, **kwargs)

    return wrapper


markdownify = editor_required(require_POST(EditorMarkdownifyView.as_view()))
image_upload = csrf_exempt(
    upload_checks(editor_required(require_POST(EditorImageUploadView.as_view())))
)
