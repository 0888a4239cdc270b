from django.contrib import admin
from procrastinate.contrib.django import models as procrastinate_models

# procrastinate registers its job tables in the admin; they are internals of the queue (the outbox
# rows are the record), so they stay out of the portal's admin.
for model in (
    procrastinate_models.ProcrastinateJob,
    procrastinate_models.ProcrastinateEvent,
    procrastinate_models.ProcrastinatePeriodicDefer,
    procrastinate_models.ProcrastinateWorker,
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
