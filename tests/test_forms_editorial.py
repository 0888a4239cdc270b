"""The editorial forms: the settings form and the reuse form judge an address by the same rules."""

import pytest

from policies.forms_editorial import PolicySettingsForm, ReuseForm, suggest_slug

from .factories import make_organisation, make_policy

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", ["versjon", "sok", "Ikke Gyldig", "tatt"])
def test_reuse_form_refuses_every_address_the_settings_form_refuses(slug):
    organisation = make_organisation()
    make_policy(organisation=organisation, slug="tatt")
    data = {
        "title": "Sosiale medier",
        "slug": slug,
        "audience": "all",
        "visibility": "internal",
        "review_interval_months": 24,
        "deadline_days": 30,
    }
    settings = PolicySettingsForm(data, organisation=organisation)
    reuse = ReuseForm(data, organisation=organisation)
    assert not settings.is_valid()
    assert not reuse.is_valid()
    assert reuse.errors["slug"] == settings.errors["slug"]
    assert reuse.errors.as_data()["slug"][0].code == settings.errors.as_data()["slug"][0].code


@pytest.mark.parametrize("form_class", [PolicySettingsForm, ReuseForm])
def test_a_title_that_makes_no_address_asks_the_editor_to_write_one(form_class):
    data = {
        "title": "😀😀😀",
        "slug": "",
        "audience": "all",
        "visibility": "internal",
        "review_interval_months": 24,
        "deadline_days": 30,
    }
    form = form_class(data, organisation=make_organisation())
    assert not form.is_valid()
    assert form.errors.as_data()["slug"][0].code == "no_address_from_title"
    assert "Vi kunne ikke lage en adresse av tittelen" in form.errors["slug"][0]


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Retningslinjer for sosiale medier", "retningslinjer-for-sosiale-medier"),
        ("Bruk av e_post", "bruk-av-e-post"),
        ("Håndbok for ørsmå æresord", "handbok-for-orsma-aeresord"),
        ("😀😀😀", ""),
    ],
)
def test_the_suggested_address_is_a_valid_address_or_empty(title, slug):
    assert suggest_slug(title) == slug
