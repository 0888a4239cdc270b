from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """What a kommune's IT department runs: evidence checksums, retention, offboarding, metrics."""

    name = "operations"
    verbose_name = _("Drift")
    default_auto_field = "django.db.models.BigAutoField"
