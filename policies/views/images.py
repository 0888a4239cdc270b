"""Images uploaded in the editor, served from storage (object storage in production) only to
people who may read a policy that shows them (policies.access.may_see_image)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from ..access import may_see_image

# Only what the upload accepts (policies.uploads) is ever served.
_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


@require_safe
def policy_image(request: HttpRequest, name: str):
    """`/media/bilder/<name>`: the image, or 404 (also when the reader may not see it, so that
    an internal policy's images do not reveal that they exist)."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if "/" in name or suffix not in _TYPES:
        raise Http404
    path = settings.MARKDOWNX_MEDIA_PATH + name
    if not may_see_image(request.user, settings.MEDIA_URL + path):
        raise Http404
    try:
        stored = default_storage.open(path, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(stored, content_type=_TYPES[suffix])
    # Never kept by a shared proxy: whether it may be shown depends on who asks.
    response["Cache-Control"] = "private, max-age=300"
    return response
