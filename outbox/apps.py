from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"
    verbose_name = "Utgående e-post"
    default_auto_field = "django.db.models.BigAutoField"
