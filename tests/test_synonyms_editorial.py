"""/redaksjon/synonymer/: editors keep their organisation's search synonyms."""

import pytest

from policies.models import Event, EventVerb, Synonym
from policies.search import search

from .factories import make_organisation, make_person, make_policy

pytestmark = pytest.mark.django_db

URL = "/redaksjon/synonymer/"


@pytest.fixture
def editor():
    return make_person(make_organisation(), is_editor=True)


def test_an_editor_adds_a_synonym_and_it_is_audited(client, editor):
    client.force_login(editor)
    response = client.post(URL, {"word": "SoMe", "words": "sosiale medier, Facebook"})
    assert response.status_code == 302
    synonym = Synonym.objects.get(organisation=editor.organisation, word="some")
    assert synonym.word_list == ["sosiale medier", "facebook"]
    assert Event.objects.filter(verb=EventVerb.SYNONYM_SAVED, actor=editor).count() == 1


def test_sending_the_same_synonym_twice_changes_nothing(client, editor):
    client.force_login(editor)
    for _ in range(2):
        client.post(URL, {"word": "insta", "words": "instagram"})
    assert Synonym.objects.filter(organisation=editor.organisation).count() == 1
    assert Event.objects.filter(verb=EventVerb.SYNONYM_SAVED).count() == 1


def test_saving_a_word_again_replaces_what_it_meant(client, editor):
    client.force_login(editor)
    client.post(URL, {"word": "insta", "words": "instagram"})
    client.post(URL, {"word": "Insta", "words": "instagram, bilder"})
    assert Synonym.objects.get(organisation=editor.organisation).words == "instagram, bilder"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"word": "", "words": "x"}, "Skriv ordet de ansatte bruker."),
        ({"word": "to ord", "words": "x"}, "Skriv ett ord med bokstaver og tall"),
        ({"word": "<script>", "words": "x"}, "Skriv ett ord med bokstaver og tall"),
        ({"word": "some", "words": ""}, "Skriv minst ett ord som ordet skal finne."),
        ({"word": "some", "words": " , ,"}, "Skriv minst ett ord som ordet skal finne."),
        ({"word": "some", "words": "a:*&b"}, "kan ikke brukes"),
        ({"word": "some", "words": "some"}, "Ordet kan ikke være synonym for seg selv."),
        ({"word": "x" * 61, "words": "y"}, "Ordet kan ha høyst 60 tegn."),
        ({"word": "some", "words": "a" * 61}, "er for langt: høyst 60 tegn"),
        ({"word": "some", "words": ",".join(f"ord{i}" for i in range(11))}, "Høyst 10 ord"),
    ],
)
def test_bad_input_gets_a_norwegian_message_and_saves_nothing(client, editor, data, message):
    client.force_login(editor)
    response = client.post(URL, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Synonym.objects.filter(organisation=editor.organisation).exists()


def test_an_editor_deletes_an_own_synonym_once_even_when_asked_twice(client, editor):
    synonym = Synonym.objects.create(organisation=editor.organisation, word="insta", words="x")
    client.force_login(editor)
    assert client.post(f"{URL}{synonym.pk}/slett/").status_code == 302
    assert client.post(f"{URL}{synonym.pk}/slett/").status_code == 404
    assert not Synonym.objects.filter(pk=synonym.pk).exists()
    assert Event.objects.filter(verb=EventVerb.SYNONYM_DELETED).count() == 1


def test_an_editor_cannot_delete_another_organisations_or_a_national_synonym(client, editor):
    other = Synonym.objects.create(organisation=make_organisation(), word="insta", words="x")
    national = Synonym.objects.create(organisation=None, word="fb", words="facebook")
    client.force_login(editor)
    assert client.post(f"{URL}{other.pk}/slett/").status_code == 404
    assert client.post(f"{URL}{national.pk}/slett/").status_code == 404
    assert Synonym.objects.filter(pk__in=[other.pk, national.pk]).count() == 2


def test_the_page_lists_own_and_national_synonyms_but_not_other_organisations(client, editor):
    Synonym.objects.create(organisation=editor.organisation, word="egetord", words="x")
    Synonym.objects.create(organisation=make_organisation(), word="fremmedord", words="x")
    Synonym.objects.create(organisation=None, word="nasjonalord", words="x")
    client.force_login(editor)
    html = client.get(URL).content.decode()
    assert "egetord" in html and "nasjonalord" in html and "fremmedord" not in html


def test_a_saved_or_deleted_synonym_applies_at_once_to_a_question_asked_before(client, editor):
    # Search plans are cached (policies.search.plan): a change of synonyms must start anew.
    make_policy(editor.organisation, body="## Nett\n\nPassord og tofaktor beskytter kontoen.\n")
    reader = make_person(editor.organisation)
    assert search("innlogging", user=reader).count == 0
    client.force_login(editor)
    client.post(URL, {"word": "innlogging", "words": "tofaktor"})
    assert search("innlogging", user=reader).count == 1
    synonym = Synonym.objects.get(organisation=editor.organisation, word="innlogging")
    client.post(f"{URL}{synonym.pk}/slett/")
    assert search("innlogging", user=reader).count == 0
