from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What a kommune's IT department runs: evidence checksums, retention, offboarding, metrics."""

    name = "operations"
    verbose_name = "Drift"
    default_auto_field = "django.db.models.BigAutoField"
