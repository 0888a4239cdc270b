"""Image uploads from the editor: only real JPEG and PNG images of a few megabytes.

The browser's content type and the file name are not trusted: Pillow opens the file and says what it
is, and the stored file gets its name and type from that. markdownx then re-encodes the image, which
also drops anything appended to it.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from markdownx.forms import ImageForm
from PIL import Image, JpegImagePlugin, PngImagePlugin, UnidentifiedImageError

# Pillow format name -> the content type and extension we store.
ALLOWED_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
MAX_PIXELS = 25_000_000
# Room for the multipart envelope around the file itself.
_ENVELOPE = 64 * 1024


def max_upload_size() -> int:
    """The largest image an editor may upload, in bytes (read at call time so tests can change it)."""
    return settings.MARKDOWNX_UPLOAD_MAX_SIZE


def too_large_message(size: int) -> str:
    """The Norwegian error for an image of `size` bytes."""
    return _("Bildet er for stort (%(size)s). Største tillatte størrelse er %(limit)s.") % {
        "size": filesizeformat(size),
        "limit": filesizeformat(max_upload_size()),
    }


def too_many_pixels_message(width: int, height: int) -> str:
    """The Norwegian error for an image of `width` × `height` pixels, naming the limit."""
    side = math.isqrt(MAX_PIXELS)
    return _(
        "Bildet er for stort (%(width)s × %(height)s punkter). Et bilde kan ha høyst %(millions)s "
        "millioner punkter, for eksempel %(side)s × %(side)s."
    ) % {"width": width, "height": height, "millions": MAX_PIXELS // 1_000_000, "side": side}


def size_from_header(upload) -> tuple[int, int] | None:
    """The width and height a JPEG or PNG says it has, read from its header alone; None when it is
    neither. Image.open refuses an image of more than twice Image.MAX_IMAGE_PIXELS (Pillow's
    decompression-bomb check) before it tells us the size; the formats' own classes read the
    header without that check, and neither decodes anything."""
    for image_class in (PngImagePlugin.PngImageFile, JpegImagePlugin.JpegImageFile):
        upload.seek(0)
        try:
            return image_class(upload).size
        except (SyntaxError, OSError, ValueError):
            continue
    return None


def upload_too_large(request) -> str | None:
    """A Norwegian error when the request says it is bigger than an allowed image, else None."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _("Ugyldig opplasting.")
    if length > max_upload_size() + _ENVELOPE:
        return too_large_message(length)
    return None


class EditorImageForm(ImageForm):
    image = ImageForm.base_fields["image"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].error_messages = {
            "required": _("Velg et bilde å laste opp."),
            "empty": _("Filen er tom."),
            "invalid": _("Velg et bilde å laste opp."),
        }

    def clean(self):
        upload = self.cleaned_data.get("image")
        if not upload:
            raise ValidationError(_("Velg et bilde å laste opp."), code="required")
        if upload.size > max_upload_size():
            raise ValidationError(too_large_message(upload.size), code="too_large")
        not_an_image = ValidationError(
            _("Filen er ikke et bilde. Du kan laste opp JPEG- og PNG-bilder."), code="not_image"
        )
        try:
            with Image.open(upload) as probe:
                image_format = probe.format
                width, height = probe.size
                if image_format not in ALLOWED_FORMATS:
                    raise ValidationError(
                        _("Bare JPEG- og PNG-bilder kan lastes opp."), code="unsupported_format"
                    )
                if width * height > MAX_PIXELS:
                    raise ValidationError(
                        too_many_pixels_message(width, height), code="too_many_pixels"
                    )
                probe.verify()
            # verify() does not decode JPEG data: decode it all, so that a truncated or corrupt
            # image is refused here and not when markdownx resizes it.
            upload.seek(0)
            with Image.open(upload) as image:
                image.load()
        except ValidationError:
            raise
        except Image.DecompressionBombError:
            size = size_from_header(upload)
            if size is None:
                raise not_an_image from None
            raise ValidationError(too_many_pixels_message(*size), code="too_many_pixels") from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise not_an_image from None
        content_type, extension = ALLOWED_FORMATS[image_format]
        # What is stored is named and typed after what the file is, not what the browser said.
        upload.content_type = content_type
        upload.name = f"bilde.{extension}"
        upload.seek(0)
        return self.cleaned_data
