"""The editorial forms: the settings form and the reuse form judge an address by the same rules."""

import pytest

from policies.forms_editorial import PolicySettingsForm, ReuseForm

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
