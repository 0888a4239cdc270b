"""Policy language versions: a translation linked to one published version, shown to readers in
their målform (or marked as behind), confirmed with its language recorded, written by editors,
and searched."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies.acknowledgements import AcknowledgementError, acknowledge
from policies.models import (
    Acknowledgement,
    Confirmation,
    Event,
    EventVerb,
    Obligation,
    Translation,
    TranslationSection,
)
from policies.search import search
from policies.workflow import (
    AlreadyPublishedError,
    ConflictError,
    WorkflowError,
    publish_translation,
    save_translation,
)

from .factories import make_organisation, make_person, make_policy, make_unit, publish_version

pytestmark = pytest.mark.django_db

NYNORSK_BODY = (
    "## Føremål\n\nDesse retningslinene gjeld for alle tilsette i kommunen.\n\n"
    "## Reglar\n\n- Ver sakleg\n- Ver høfleg og ikkje skriv noko du ikkje kan stå for\n"
)


@pytest.fixture(autouse=True)
def _empty_cache(monkeypatch):
    monkeypatch.setattr("policies.pagecache.STAMP_SECONDS", 0)
    cache.clear()
    yield
    cache.clear()


def current_of(policy):
    return policy.versions.current().get()


def translate(policy, *, body=NYNORSK_BODY, title="Retningsliner for testing", by=None, note=""):
    version = current_of(policy)
    translation = save_translation(
        version, language="nn", by=by, title=title, body=body, note=note, revision=None
    )
    return publish_translation(translation, by=by)


def confirm_form(policy, *, language, text_hash, number=None):
    return {
        "versjon": number or current_of(policy).number,
        "tekst": text_hash,
        "sprak": language,
    }


def article_lang(html: str) -> str:
    return re.search(r'<article class="policy-text"[^>]*lang="([^"]+)"', html).group(1)


def nynorsk_person(organisation, **fields):
    return make_person(organisation, language="nn", **fields)


# --- The write: save, publish, freeze ---------------------------------------------------------


def test_a_published_translation_has_its_own_text_sections_and_events():
    policy = make_policy(make_organisation())
    translation = translate(policy)
    assert translation.is_published and translation.text_hash
    assert translation.text_hash != current_of(policy).text_hash
    headings = list(translation.sections.values_list("heading", flat=True))
    assert "Føremål" in headings and "Reglar" in headings
    verbs = list(Event.objects.filter(policy=policy).values_list("verb", flat=True))
    assert EventVerb.TRANSLATION_SAVED in verbs and EventVerb.TRANSLATION_PUBLISHED in verbs


def test_the_database_refuses_to_change_or_delete_a_published_translation():
    translation = translate(make_policy(make_organisation()))
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        Translation.objects.filter(pk=translation.pk).update(body="Endra i smug.")
    with pytest.raises(ProgrammingError, match="Cannot update or delete"), transaction.atomic():
        Translation.objects.filter(pk=translation.pk).delete()
    translation.refresh_from_db()
    assert translation.body == NYNORSK_BODY


def test_a_version_has_at_most_one_translation_per_malform():
    policy = make_policy(make_organisation())
    translation = translate(policy)
    with pytest.raises(IntegrityError), transaction.atomic():
        Translation.objects.create(version=translation.version, language="nn", title="To")


@pytest.mark.parametrize(
    ("language", "message"),
    [("nb", "Originalteksten er allerede"), ("se", "Velg en målform"), ("", "Velg en målform")],
)
def test_a_translation_into_the_originals_own_or_an_unknown_malform_is_refused(language, message):
    policy = make_policy(make_organisation())
    with pytest.raises(WorkflowError, match=message):
        save_translation(
            current_of(policy), language=language, by=None, title="T", body="B", revision=None
        )
    assert not Translation.objects.exists()


def test_a_superseded_version_cannot_be_translated_any_more():
    policy = make_policy(make_organisation())
    old = current_of(policy)
    publish_version(policy, body="## Ny\n\nNy tekst.\n")
    with pytest.raises(WorkflowError, match="ikke lenger gjeldende"):
        save_translation(old, language="nn", by=None, title="T", body="B", revision=None)
    assert not Translation.objects.exists()


def test_a_save_over_someone_elses_newer_text_is_refused_and_changes_nothing():
    version = current_of(make_policy(make_organisation()))
    first = save_translation(version, language="nn", by=None, title="T", body="A", revision=None)
    save_translation(version, language="nn", by=None, title="T", body="B", revision=first.revision)
    with pytest.raises(ConflictError):
        save_translation(
            version, language="nn", by=None, title="T", body="C", revision=first.revision
        )
    assert Translation.objects.get().body == "B"


def test_the_first_save_submitted_twice_makes_one_translation():
    version = current_of(make_policy(make_organisation()))
    one = save_translation(version, language="nn", by=None, title="T", body="A", revision=None)
    two = save_translation(version, language="nn", by=None, title="T", body="A", revision=None)
    assert one.pk == two.pk and Translation.objects.count() == 1


def test_publishing_twice_or_an_empty_translation_is_refused():
    version = current_of(make_policy(make_organisation()))
    empty = save_translation(version, language="nn", by=None, title="T", body=" ", revision=None)
    with pytest.raises(WorkflowError, match="Skriv både tittel og tekst"):
        publish_translation(empty, by=None)
    assert not Translation.objects.published().exists()
    filled = save_translation(
        version, language="nn", by=None, title="T", body="Tekst.", revision=empty.revision
    )
    publish_translation(filled, by=None)
    with pytest.raises(AlreadyPublishedError):
        publish_translation(filled, by=None)
    assert TranslationSection.objects.count() == 1


# --- Readers ----------------------------------------------------------------------------------


def test_a_nynorsk_reader_gets_the_translation_with_a_notice_and_a_link_to_the_original(client):
    organisation = make_organisation()
    policy = make_policy(organisation)
    translate(policy, note="Omsett for testen.")
    client.force_login(nynorsk_person(organisation))
    html = client.get(policy.get_absolute_url()).content.decode()
    assert '<html lang="nn"' in html
    assert article_lang(html) == "nn"
    assert "Ver høfleg" in html and "Vær høflig" not in html
    assert "Du les teksten på nynorsk" in html
    assert "Omsett for testen." in html
    assert 'href="?sprak=nb"' in html
    # Asking for the original shows it, marked as bokmål inside the nynorsk interface.
    original = client.get(policy.get_absolute_url() + "?sprak=nb").content.decode()
    assert article_lang(original) == "nb" and "Vær høflig" in original


def test_a_bokmal_reader_gets_the_original_and_is_offered_the_nynorsk_text(client):
    policy = make_policy(make_organisation())
    translate(policy)
    html = client.get(policy.get_absolute_url()).content.decode()
    assert article_lang(html) == "nb" and "Vær høflig" in html
    assert "Teksten finnes også på" in html and 'href="?sprak=nn"' in html
    assert (
        article_lang(client.get(policy.get_absolute_url() + "?sprak=nn").content.decode()) == "nn"
    )


def test_bad_language_input_shows_the_default_text_and_never_fails(client):
    policy = make_policy(make_organisation())
    translate(policy)
    for raw in ["xx", "", "nn' OR 1=1", "\x00", "n" * 500]:
        response = client.get(policy.get_absolute_url(), {"sprak": raw})
        assert response.status_code == 200
        assert article_lang(response.content.decode()) == "nb"


def test_after_a_new_version_the_translation_is_behind_and_readers_get_the_original(client):
    organisation = make_organisation()
    policy = make_policy(organisation)
    translate(policy)
    publish_version(policy, body="## Formål\n\nNy tekst på bokmål.\n")
    client.force_login(nynorsk_person(organisation))
    html = client.get(policy.get_absolute_url()).content.decode()
    assert article_lang(html) == "nb" and "Ny tekst på bokmål." in html
    assert "Versjonen på nynorsk er ikkje oppdatert enno" in html
    old_url = reverse("version_detail", args=[organisation.slug, policy.slug, 1])
    assert f"{old_url}?sprak=nn" in html
    old = client.get(f"{old_url}?sprak=nn").content.decode()
    assert article_lang(old) == "nn" and "Ver høfleg" in old
    assert "som ikkje lenger er gjeldande" in old


# --- Confirming a translation -------------------------------------------------------------------


def test_confirming_the_nynorsk_text_records_the_language_and_makes_the_person_compliant(client):
    organisation = make_organisation()
    policy = make_policy(organisation)
    translation = translate(policy)
    person = nynorsk_person(organisation)
    client.force_login(person)
    page = client.get(policy.get_absolute_url()).content.decode()
    assert f'name="tekst" value="{translation.text_hash}"' in page
    assert 'name="sprak" value="nn"' in page
    response = client.post(
        reverse("confirm", args=[organisation.slug, policy.slug]),
        confirm_form(policy, language="nn", text_hash=translation.text_hash),
        follow=True,
    )
    ack = Acknowledgement.objects.get(person=person)
    assert (ack.language, ack.text_hash, ack.version_id) == (
        "nn",
        translation.text_hash,
        translation.version_id,
    )
    assert "på nynorsk" in response.content.decode()
    obligation = Obligation.objects.get(person=person, policy=policy)
    assert obligation.status == Confirmation.CONFIRMED
    # The person's own record of it says which målform they read.
    receipt = client.get(reverse("my_data_csv")).content.decode("utf-8-sig").splitlines()
    column = receipt[0].split(";").index("Målform")
    assert receipt[1].split(";")[column] == "nynorsk"
    assert '"malform": "nn"' in client.get(reverse("my_data_json")).content.decode()


def test_a_confirmation_of_the_nynorsk_text_counts_exactly_as_one_of_the_original():
    organisation = make_organisation()
    policy = make_policy(organisation)
    translation = translate(policy)
    reader_nn, reader_nb = make_person(organisation), make_person(organisation)
    version = current_of(policy)
    acknowledge(reader_nn, version, shown_hash=translation.text_hash, language="nn")
    acknowledge(reader_nb, version, shown_hash=version.text_hash)
    statuses = dict(Obligation.objects.filter(policy=policy).values_list("person_id", "status"))
    assert statuses[reader_nn.pk] == statuses[reader_nb.pk] == Confirmation.CONFIRMED
    # A material version asks both again, in the same way.
    publish_version(policy, body="## Nytt\n\nNy regel.\n")
    statuses = dict(Obligation.objects.filter(policy=policy).values_list("person_id", "status"))
    assert statuses[reader_nn.pk] == statuses[reader_nb.pk] == Confirmation.OLDER


@pytest.mark.parametrize(
    ("language", "hash_of"),
    [("nn", "original"), ("nb", "translation"), ("nn", "nothing")],
)
def test_a_confirmation_whose_text_does_not_match_its_language_is_refused(language, hash_of):
    organisation = make_organisation()
    policy = make_policy(organisation)
    translation = translate(policy)
    version = current_of(policy)
    shown = {"original": version.text_hash, "translation": translation.text_hash, "nothing": ""}
    with pytest.raises(AcknowledgementError):
        acknowledge(
            make_person(organisation), version, shown_hash=shown[hash_of], language=language
        )
    assert not Acknowledgement.objects.exists()


def test_confirming_a_language_the_version_has_no_translation_in_records_nothing(client):
    organisation = make_organisation()
    policy = make_policy(organisation)
    client.force_login(make_person(organisation))
    url = reverse("confirm", args=[organisation.slug, policy.slug])
    for language in ["nn", "xx"]:
        response = client.post(
            url, confirm_form(policy, language=language, text_hash="0" * 64), follow=True
        )
        assert response.status_code == 200
        assert "Ingenting er registrert" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_a_behind_translation_cannot_be_confirmed_for_the_new_version():
    organisation = make_organisation()
    policy = make_policy(organisation)
    translation = translate(policy)
    new = publish_version(policy, body="## Nytt\n\nNy regel.\n")
    with pytest.raises(AcknowledgementError):
        acknowledge(make_person(organisation), new, shown_hash=translation.text_hash, language="nn")
    assert not Acknowledgement.objects.exists()


# --- Lists ------------------------------------------------------------------------------------

ORIGINAL_TITLE = "Retningslinjer for testing"
TRANSLATED_TITLE = "Retningsliner for testing"


def link_lang(html: str, title: str) -> str:
    """The lang of the link named `title`; fails when the page has no such link."""
    found = re.search(r'<a [^>]*lang="([^"]+)"[^>]*>' + re.escape(title) + "</a>", html)
    assert found, f"no link named {title!r}"
    return found.group(1)


def test_every_list_names_a_translated_policy_as_its_page_does_for_a_nynorsk_reader(client):
    organisation = make_organisation()
    unit = make_unit(organisation)
    policy = make_policy(organisation, summary="Kort om reglene.")
    make_policy(organisation, title="Bare på bokmål")
    translate(policy, title=TRANSLATED_TITLE)
    reader = nynorsk_person(organisation, unit=unit, manages=[unit])
    acknowledge(reader, current_of(policy), shown_hash=current_of(policy).text_hash)
    client.force_login(reader)
    for url in ["/", "/meg/", f"/{organisation.slug}/", "/oversikt/"]:
        html = client.get(url).content.decode()
        assert link_lang(html, TRANSLATED_TITLE) == "nn", url
        assert ORIGINAL_TITLE not in html, url
        # No translation of that one: the original's title, marked as bokmål.
        assert link_lang(html, "Bare på bokmål") == "nb", url
    # The summary has no translation: it stays the original's, marked so.
    html = client.get(f"/{organisation.slug}/").content.decode()
    assert '<span class="muted" lang="nb">Kort om reglene.</span>' in html


def test_a_visitor_with_the_nynorsk_cookie_gets_the_translated_title_in_the_kommunes_list(client):
    organisation = make_organisation()
    translate(make_policy(organisation), title=TRANSLATED_TITLE)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nn"
    html = client.get(f"/{organisation.slug}/").content.decode()
    assert link_lang(html, TRANSLATED_TITLE) == "nn" and ORIGINAL_TITLE not in html


def test_a_bokmal_reader_and_a_behind_translation_get_the_original_title_in_the_lists(client):
    organisation = make_organisation()
    bokmal_list = make_policy(organisation)
    translate(bokmal_list, title=TRANSLATED_TITLE)
    html = client.get(f"/{organisation.slug}/").content.decode()
    assert link_lang(html, ORIGINAL_TITLE) == "nb" and TRANSLATED_TITLE not in html
    # A new version without its translation: the page shows the original, so does the list.
    publish_version(bokmal_list, body="## Formål\n\nNy tekst.\n")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nn"
    html = client.get(f"/{organisation.slug}/").content.decode()
    assert link_lang(html, ORIGINAL_TITLE) == "nb" and TRANSLATED_TITLE not in html


def test_the_overview_explains_a_fall_naming_the_policy_as_its_row_does(client):
    organisation = make_organisation()
    unit = make_unit(organisation)
    policy = make_policy(organisation)
    publish_version(policy, body="## Formål\n\nNy regel.\n")
    translate(policy, title=TRANSLATED_TITLE)
    client.force_login(nynorsk_person(organisation, unit=unit, manages=[unit]))
    html = client.get("/oversikt/").content.decode()
    assert f'<strong lang="nn">{TRANSLATED_TITLE}</strong>' in html
    assert f'i <span lang="nn">{TRANSLATED_TITLE}</span>' in html
    assert ORIGINAL_TITLE not in html


def test_a_nynorsk_manager_meets_the_policy_by_its_translated_title_on_every_manager_page(
    client,
):
    organisation = make_organisation()
    unit = make_unit(organisation)
    policy = make_policy(organisation)
    translate(policy, title=TRANSLATED_TITLE)
    client.force_login(nynorsk_person(organisation, unit=unit, manages=[unit]))
    base = f"/oversikt/retningslinje/{policy.slug}/"
    for url in (base, base + "utskrift/", base + "paminnelse/"):
        html = client.get(url).content.decode()
        assert f'lang="nn">{TRANSLATED_TITLE}<' in html, url
        assert ORIGINAL_TITLE not in html, url


def _list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_translated_titles_cost_no_query_per_row_in_the_lists(client):
    organisation = make_organisation()
    unit = make_unit(organisation)
    reader = nynorsk_person(organisation, unit=unit, manages=[unit])
    for _ in range(2):
        translate(make_policy(organisation))
    client.force_login(reader)
    urls = ["/", "/meg/", f"/{organisation.slug}/", "/oversikt/"]
    few = [_list_queries(client, url) for url in urls]
    for _ in range(4):
        policy = make_policy(organisation)
        translate(policy)
        acknowledge(reader, current_of(policy), shown_hash=current_of(policy).text_hash)
    assert [_list_queries(client, url) for url in urls] == few


# --- Editors ----------------------------------------------------------------------------------


def translation_url(policy, number=1, language="nn"):
    return reverse(
        "editorial_translation", args=[policy.organisation.slug, policy.slug, number, language]
    )


def editor_of(organisation):
    return make_person(organisation, is_editor=True)


def test_the_translation_page_is_for_editors_of_the_policys_own_kommune(client):
    organisation = make_organisation()
    policy = make_policy(organisation)
    url = translation_url(policy)
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(make_person(organisation))
    assert client.get(url).status_code == 403
    client.force_login(editor_of(make_organisation()))
    assert client.get(url).status_code == 404
    assert client.post(url, {"title": "T", "body": "B"}).status_code == 404
    client.force_login(editor_of(organisation))
    page = client.get(url)
    assert page.status_code == 200
    assert 'lang="nn"' in page.content.decode()
    assert not Translation.objects.exists()


@pytest.mark.parametrize(
    ("number", "language"), [(1, "nb"), (1, "xx"), (9, "nn"), (99999999999, "nn")]
)
def test_a_translation_page_for_no_such_version_or_malform_is_a_404(client, number, language):
    organisation = make_organisation()
    policy = make_policy(organisation)
    client.force_login(editor_of(organisation))
    assert client.get(translation_url(policy, number, language)).status_code == 404


def test_an_editor_saves_and_publishes_a_translation(client):
    organisation = make_organisation()
    policy = make_policy(organisation)
    client.force_login(editor_of(organisation))
    url = translation_url(policy)
    response = client.post(
        url, {"title": "Retningsliner", "body": NYNORSK_BODY, "note": "", "handling": "lagre"}
    )
    assert response.status_code == 302
    draft = Translation.objects.get()
    assert not draft.is_published
    response = client.post(
        url,
        {
            "title": "Retningsliner",
            "body": NYNORSK_BODY,
            "note": "Omsett av kommunikasjon.",
            "revision": draft.revision,
            "handling": "publiser",
        },
    )
    assert response.status_code == 302
    published = Translation.objects.get()
    assert published.is_published and published.note == "Omsett av kommunikasjon."
    overview = client.get(reverse("editorial_policy", args=[organisation.slug, policy.slug]))
    assert "Språkversjoner" in overview.content.decode()
    # A late second submit of the publish form changes nothing.
    again = client.post(
        url,
        {"title": "Anna", "body": "Anna", "revision": draft.revision, "handling": "publiser"},
        follow=True,
    )
    assert again.status_code == 200
    assert Translation.objects.get().body == NYNORSK_BODY


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": " ", "body": "B"}, "Skriv en tittel."),
        ({"title": "T", "body": "B", "revision": "abc"}, "Skjemaet er ugyldig"),
        ({"title": "T", "body": " ", "handling": "publiser"}, "Skriv både tittel og tekst"),
        ({"title": "T" * 201, "body": "B"}, "høyst 200 tegn"),
    ],
)
def test_bad_translation_input_gets_a_norwegian_message_and_publishes_nothing(
    client, data, message
):
    organisation = make_organisation()
    policy = make_policy(organisation)
    client.force_login(editor_of(organisation))
    response = client.post(translation_url(policy), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Translation.objects.published().exists()


def test_a_stale_save_of_a_translation_is_a_conflict_and_keeps_the_other_text(client):
    organisation = make_organisation()
    policy = make_policy(organisation)
    version = current_of(policy)
    first = save_translation(version, language="nn", by=None, title="T", body="A", revision=None)
    save_translation(version, language="nn", by=None, title="T", body="B", revision=first.revision)
    client.force_login(editor_of(organisation))
    response = client.post(
        translation_url(policy), {"title": "T", "body": "C", "revision": first.revision}
    )
    assert response.status_code == 409
    assert Translation.objects.get().body == "B"


def test_the_overview_shows_a_translation_as_behind_after_a_new_version(client):
    organisation = make_organisation()
    policy = make_policy(organisation)
    translate(policy)
    client.force_login(editor_of(organisation))
    overview = reverse("editorial_policy", args=[organisation.slug, policy.slug])
    assert "Oppdatert" in client.get(overview).content.decode()
    publish_version(policy, body="## Nytt\n\nNy regel.\n")
    html = client.get(overview).content.decode()
    assert "Ikke oppdatert" in html
    assert translation_url(policy, 2) in html
    # The old version's translation page shows it, without a form.
    old = client.get(translation_url(policy, 1)).content.decode()
    assert "Ver høfleg" in old and 'name="body"' not in old


# --- Search -------------------------------------------------------------------------------------


def test_search_finds_the_nynorsk_text_and_links_to_it():
    organisation = make_organisation()
    policy = make_policy(organisation)
    translate(policy)
    # "tilsette" is nynorsk only ("ikkje" is a stopword); the bokmål original has no such word.
    result = search("tilsette", user=AnonymousUser())
    assert [(h.is_translation, h.language) for h in result.hits] == [(True, "nn")]
    assert "?sprak=nn#" in result.hits[0].url
    # Both texts are indexed with the same configuration: the nynorsk word finds the translation,
    # the bokmål word the original.
    assert "nn" in {h.language for h in search("høfleg", user=AnonymousUser()).hits}
    assert "nb" in {h.language for h in search("høflig", user=AnonymousUser()).hits}
    assert {h.language for h in search("tilsette", user=AnonymousUser()).hits} == {"nn"}


def test_search_does_not_show_an_internal_translation_to_outsiders():
    organisation = make_organisation()
    policy = make_policy(organisation, visibility="internal")
    translate(policy)
    assert search("tilsette", user=AnonymousUser()).hits == []
    assert search("tilsette", user=make_person(make_organisation())).hits == []
    assert search("tilsette", user=make_person(organisation)).hits


def test_search_finds_a_behind_translation_only_among_earlier_versions():
    policy = make_policy(make_organisation())
    translate(policy)
    publish_version(policy, body="## Nytt\n\nNy regel.\n")
    assert search("tilsette", user=AnonymousUser()).hits == []
    hits = search("tilsette", user=AnonymousUser(), include_earlier=True).hits
    assert [(h.is_translation, h.is_current) for h in hits] == [(True, False)]


def test_offboarding_a_kommune_exports_and_removes_its_translations(tmp_path):
    import zipfile

    from operations.offboarding import offboard

    organisation = make_organisation()
    policy = make_policy(organisation)
    translation = translate(policy)
    person = make_person(organisation)
    acknowledge(person, current_of(policy), shown_hash=translation.text_hash, language="nn")
    archive = offboard(organisation, to=tmp_path)
    assert archive.counts["oversettelser"] == 1
    with zipfile.ZipFile(archive.path) as zipped:
        names = zipped.namelist()
        translated = [n for n in names if n.endswith(f"{policy.slug}/versjon-1.nn.md")]
        assert translated and "Ver høfleg" in zipped.read(translated[0]).decode()
        confirmations = zipped.read(next(n for n in names if n.endswith("bekreftelser.csv")))
        assert ";nn;" in confirmations.decode("utf-8-sig")
    assert not Translation.objects.exists() and not TranslationSection.objects.exists()


def test_a_nynorsk_kommunes_policy_is_written_in_nynorsk_and_translated_into_bokmal(client):
    organisation = make_organisation()
    organisation.language = "nn"
    organisation.save()
    policy = make_policy(organisation, body="## Føremål\n\nDesse retningslinene gjeld alle.\n")
    assert current_of(policy).language == "nn"
    editor = editor_of(organisation)
    client.force_login(editor)
    assert client.get(translation_url(policy, 1, "nn")).status_code == 404
    assert client.get(translation_url(policy, 1, "nb")).status_code == 200
    # A bokmål reader of the nynorsk original sees it marked as nynorsk.
    client.logout()
    html = client.get(policy.get_absolute_url()).content.decode()
    assert article_lang(html) == "nn"


def test_the_states_of_many_policies_take_one_query(django_assert_num_queries):
    from policies.translations import translation_states_of

    organisation = make_organisation()
    translated, behind, missing = (make_policy(organisation) for _ in range(3))
    translate(translated)
    translate(behind)
    publish_version(behind, body="## Ny\n\nNy regel.\n")
    rows = [(p, current_of(p)) for p in (translated, behind, missing)]
    with django_assert_num_queries(1):
        states = translation_states_of(rows)
    assert [(s.language, s.state) for s in states[translated.pk]] == [("nn", "published")]
    assert [(s.language, s.state) for s in states[behind.pk]] == [("nn", "behind")]
    assert [(s.language, s.state) for s in states[missing.pk]] == [("nn", "missing")]
