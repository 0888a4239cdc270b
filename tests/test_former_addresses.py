"""A policy's former addresses: after an editor changes its address, links to the old one (in
e-mails already sent, in bookmarks) lead to the new one, without shadowing another policy's current
address and without telling anyone more about an internal policy than its address now would."""

import pytest

from policies.authoring import change_settings
from policies.models import Acknowledgement, Policy, Visibility

from .factories import make_organisation, make_person, make_policy, publish_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def kommune():
    return make_organisation(slug="fjordby")


def renamed(policy: Policy, slug: str) -> Policy:
    return change_settings(policy, by=None, slug=slug)


def settings_form(policy: Policy, slug: str) -> dict:
    """The settings page's form for `policy` as it is, with the address `slug`."""
    return {
        "title": policy.title,
        "slug": slug,
        "summary": "",
        "audience": "all",
        "visibility": policy.visibility,
        "review_interval_months": "24",
        "deadline_days": "30",
    }


def test_an_old_address_leads_permanently_to_the_new_one(client, kommune):
    policy = renamed(make_policy(kommune, slug="gammel"), "ny")
    response = client.get("/fjordby/gammel/")
    assert response.status_code == 301
    assert response["Location"] == "/fjordby/ny/"
    assert client.get(response["Location"]).status_code == 200
    assert policy.get_absolute_url() == "/fjordby/ny/"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/fjordby/gammel/?sprak=nn", "/fjordby/ny/?sprak=nn"),
        ("/fjordby/gammel/versjon/1/", "/fjordby/ny/versjon/1/"),
        ("/fjordby/gammel/versjon/2/?sprak=nb", "/fjordby/ny/versjon/2/?sprak=nb"),
        ("/fjordby/gammel/endringer/?fra=1&til=2", "/fjordby/ny/endringer/?fra=1&til=2"),
    ],
)
def test_pages_under_an_old_address_keep_their_path_and_query_string(client, kommune, old, new):
    policy = make_policy(kommune, slug="gammel")
    publish_version(policy, body="## Formål\n\nEndret tekst.\n")
    renamed(policy, "ny")
    response = client.get(old)
    assert (response.status_code, response["Location"]) == (301, new)
    assert client.get(new).status_code == 200


def test_a_confirmation_sent_to_an_old_address_is_sent_on_as_it_was(client, kommune):
    reader = make_person(kommune)
    policy = renamed(make_policy(kommune, slug="gammel"), "ny")
    version = policy.versions.current().get()
    form = {"versjon": version.number, "tekst": version.text_hash}
    client.force_login(reader)
    response = client.post("/fjordby/gammel/bekreft/", form)
    # 308, not 301: the browser sends the form again to the new address instead of a GET.
    assert (response.status_code, response["Location"]) == (308, "/fjordby/ny/bekreft/")
    client.post(response["Location"], form)
    assert Acknowledgement.objects.filter(person=reader, version=version).exists()


def test_changing_the_address_on_the_settings_page_keeps_the_old_one(client, kommune):
    policy = make_policy(kommune, slug="gammel", title="Bruk av sosiale medier")
    client.force_login(make_person(kommune, is_editor=True))
    response = client.post("/redaksjon/fjordby/gammel/innstillinger/", settings_form(policy, "ny"))
    assert response.status_code == 302
    assert client.get("/fjordby/gammel/")["Location"] == "/fjordby/ny/"


def test_the_redirect_is_remembered_by_no_browser_or_proxy(client, kommune):
    renamed(make_policy(kommune, slug="gammel"), "ny")
    response = client.get("/fjordby/gammel/")
    # The old address may become a policy's own again (changed back, or taken by another
    # policy): a remembered redirect would then lead away from it, or in a circle.
    assert "no-store" in response["Cache-Control"]
    assert "X-Accel-Expires" not in response


def test_an_old_address_redirects_at_once_even_when_its_page_was_cached(
    client, kommune, django_capture_on_commit_callbacks
):
    policy = make_policy(kommune, slug="gammel")
    assert client.get("/fjordby/gammel/").status_code == 200
    assert client.get("/fjordby/gammel/").status_code == 200  # now from the page cache
    with django_capture_on_commit_callbacks(execute=True):
        renamed(policy, "ny")
    for _ in range(2):
        response = client.get("/fjordby/gammel/")
        assert (response.status_code, response["Location"]) == (301, "/fjordby/ny/")


def test_a_current_address_of_another_policy_wins_over_a_former_one(client, kommune):
    moved = renamed(make_policy(kommune, slug="felles", title="Den gamle"), "flyttet")
    # The old address is free for a new policy, which then has it.
    client.force_login(make_person(kommune, is_editor=True))
    response = client.post(
        "/redaksjon/ny/",
        {
            "title": "Den nye",
            "slug": "felles",
            "summary": "",
            "audience": "all",
            "visibility": "public",
            "review_interval_months": "24",
            "deadline_days": "30",
        },
    )
    assert response.status_code == 302
    newcomer = Policy.objects.get(organisation=kommune, slug="felles")
    publish_version(newcomer, body="## Om\n\nDen nye teksten.\n", title="Den nye")
    client.logout()
    response = client.get("/fjordby/felles/")
    assert response.status_code == 200
    assert "Den nye" in response.content.decode()
    assert "Den gamle" not in response.content.decode()
    assert client.get("/fjordby/flyttet/").status_code == 200
    assert moved.former_slugs.get().slug == "felles"


def test_a_current_address_wins_also_for_someone_who_may_not_read_its_policy(client, kommune):
    renamed(make_policy(kommune, slug="felles"), "flyttet")
    make_policy(kommune, slug="felles", visibility=Visibility.INTERNAL)
    client.force_login(make_person(make_organisation()))
    assert client.get("/fjordby/felles/").status_code == 404


def test_a_former_address_leads_to_the_policy_that_left_it_last(client, kommune):
    renamed(make_policy(kommune, slug="felles"), "forste")
    renamed(make_policy(kommune, slug="felles"), "andre")
    assert client.get("/fjordby/felles/")["Location"] == "/fjordby/andre/"


def test_an_internal_policy_asks_a_visitor_to_log_in_at_its_old_address_without_naming_the_new(
    client, kommune
):
    renamed(make_policy(kommune, slug="gammel", visibility=Visibility.INTERNAL), "hemmelig-ny")
    at_new = client.get("/fjordby/hemmelig-ny/")
    at_old = client.get("/fjordby/gammel/?fra=1")
    # What the new address tells a visitor: log in. The old one says the same, and comes back to
    # itself after the login, so the new address is not given away.
    assert at_new.status_code == at_old.status_code == 302
    assert at_old["Location"] == "/logg-inn/?next=/fjordby/gammel/%3Ffra%3D1"
    assert "hemmelig-ny" not in at_old["Location"] + at_old.content.decode()


def test_an_internal_policy_at_its_old_address_is_a_404_for_another_kommunes_person(
    client, kommune
):
    renamed(make_policy(kommune, slug="gammel", visibility=Visibility.INTERNAL), "hemmelig-ny")
    client.force_login(make_person(make_organisation()))
    assert client.get("/fjordby/hemmelig-ny/").status_code == 404
    response = client.get("/fjordby/gammel/")
    assert response.status_code == 404
    assert "hemmelig-ny" not in response.content.decode()


def test_an_internal_policy_leads_its_own_kommunes_reader_from_the_old_address(client, kommune):
    renamed(make_policy(kommune, slug="gammel", visibility=Visibility.INTERNAL), "ny")
    client.force_login(make_person(kommune))
    response = client.get("/fjordby/gammel/")
    assert (response.status_code, response["Location"]) == (301, "/fjordby/ny/")
    assert client.get("/fjordby/ny/").status_code == 200


def test_changing_the_address_back_and_forth_works(client, kommune):
    policy = make_policy(kommune, slug="forste", title="Frem og tilbake")
    for slug in ("andre", "forste", "andre"):
        policy = renamed(policy, slug)
    # And back once more as an editor does it, on the settings page.
    client.force_login(make_person(kommune, is_editor=True))
    response = client.post(
        "/redaksjon/fjordby/andre/innstillinger/", settings_form(policy, "forste")
    )
    assert response.status_code == 302
    client.logout()
    assert client.get("/fjordby/forste/").status_code == 200
    assert client.get("/fjordby/andre/")["Location"] == "/fjordby/forste/"
    assert list(policy.former_slugs.values_list("slug", flat=True)) == ["andre"]


def test_an_address_never_used_stays_a_404(client, kommune):
    renamed(make_policy(kommune, slug="gammel"), "ny")
    other = make_organisation(slug="annenby")
    assert client.get("/fjordby/aldri-brukt/").status_code == 404
    assert client.get("/fjordby/aldri-brukt/versjon/1/").status_code == 404
    # A former address belongs to its own kommune.
    assert client.get(f"/{other.slug}/gammel/").status_code == 404
