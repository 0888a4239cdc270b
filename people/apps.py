from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = "Personer og enheter"
    default_auto_field = "django.db.models.BigAutoField"
