"""Addresses for the editorial pages (under /redaksjon/)."""

from django.urls import path

from policies.views import editor_endpoints, editorial, reuse, synonyms, translations

policy = "<slug:org_slug>/<slug:policy_slug>/"

urlpatterns = [
    path("", editorial.dashboard, name="editorial_dashboard"),
    path("ny/", editorial.policy_new, name="editorial_policy_new"),
    path("gjenbruk/", reuse.reuse_list, name="editorial_reuse_list"),
    path(f"gjenbruk/{policy}", reuse.reuse_start, name="editorial_reuse_start"),
    path("side-om-side/", reuse.side_by_side, name="editorial_side_by_side"),
    path("analyse/", editor_endpoints.analyse, name="editorial_analyse"),
    path("synonymer/", synonyms.synonym_list, name="editorial_synonyms"),
    path("synonymer/<int:pk>/slett/", synonyms.synonym_delete, name="editorial_synonym_delete"),
    # markdownx's preview and upload, routed here so that they require an editor (its own urls do not).
    path("markdownx/markdownify/", editor_endpoints.markdownify, name="markdownx_markdownify"),
    path("markdownx/upload/", editor_endpoints.image_upload, name="markdownx_upload"),
    path(policy, editorial.policy_overview, name="editorial_policy"),
    path(f"{policy}innstillinger/", editorial.policy_settings, name="editorial_settings"),
    path(f"{policy}utkast/", editorial.draft_edit, name="editorial_draft"),
    path(f"{policy}utkast/start/", editorial.draft_start, name="editorial_draft_start"),
    path(f"{policy}utkast/sammenlign/", editorial.draft_compare, name="editorial_compare"),
    path(f"{policy}publiser/", editorial.publish_draft, name="editorial_publish"),
    path(f"{policy}trekk-tilbake/", editorial.policy_retire, name="editorial_retire"),
    path(f"{policy}gjenopprett/", editorial.policy_restore, name="editorial_restore"),
    path(f"{policy}historikk/", editorial.policy_history, name="editorial_history"),
    path(
        f"{policy}versjon/<int:number>/oversettelse/<slug:language>/",
        translations.translation_edit,
        name="editorial_translation",
    ),
]
