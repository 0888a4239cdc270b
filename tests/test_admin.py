"""The Django admin for support staff: what it refuses, and that its changes are recorded."""

import pytest
from django.urls import reverse

from policies.models import Event, EventVerb, Resource

from .factories import make_organisation, make_person, make_policy, make_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(make_person(username="brukerstotte", is_staff=True, is_superuser=True))
    return client


def _policy_form(policy, **changes):
    data = {
        "title": policy.title,
        "slug": policy.slug,
        "summary": policy.summary,
        "visibility": policy.visibility,
        "audience_all": "on" if policy.audience_all else "",
        "audience_elected": "on" if policy.audience_elected else "",
        "review_interval_months": policy.review_interval_months,
        "deadline_days": policy.deadline_days,
        "audience_units": [u.pk for u in policy.audience_units.all()],
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_the_admin_refuses_another_kommunes_unit_as_a_policy_audience(admin_client):
    organisation, other = make_organisation(), make_organisation()
    policy = make_policy(organisation)
    foreign = make_unit(other, "Fremmed enhet")
    url = reverse("admin:policies_policy_change", args=[policy.pk])

    response = admin_client.post(url, _policy_form(policy, audience_units=[foreign.pk]))

    assert response.status_code == 200
    assert "en annen kommune" in response.content.decode()
    assert not policy.audience_units.exists()
    assert not Event.objects.filter(policy=policy, verb=EventVerb.SETTINGS_CHANGED).exists()


def test_an_audience_changed_in_the_admin_is_recorded_as_an_event(admin_client):
    organisation = make_organisation()
    policy = make_policy(organisation)
    unit = make_unit(organisation, "Helse")
    url = reverse("admin:policies_policy_change", args=[policy.pk])

    response = admin_client.post(
        url, _policy_form(policy, audience_all="", audience_units=[unit.pk])
    )

    assert response.status_code == 302
    assert list(policy.audience_units.all()) == [unit]
    event = Event.objects.get(policy=policy, verb=EventVerb.SETTINGS_CHANGED)
    assert event.detail["changes"]["audience_units"] == [[], [unit.pk]]
    assert event.detail["changes"]["audience_all"] == [True, False]
    assert event.actor.username == "brukerstotte"


def test_a_resource_edited_in_the_admin_is_rendered_again_and_sanitised(admin_client):
    resource = Resource.objects.create(
        slug="veileder",
        title="Veileder",
        publisher="Digdir",
        body="Gammel",
        body_html="<p>Gammel</p>",
    )
    url = reverse("admin:policies_resource_change", args=[resource.pk])

    response = admin_client.post(
        url,
        {
            "slug": "veileder",
            "title": "Veileder",
            "publisher": "Digdir",
            "body": "## Ny overskrift\n\nNy tekst.<script>alert(1)</script>",
        },
    )

    assert response.status_code == 302
    resource.refresh_from_db()
    assert "<h2" in resource.body_html and "Ny tekst." in resource.body_html
    assert "<script" not in resource.body_html
    page = admin_client.get(resource.get_absolute_url()).content.decode()
    assert "Ny overskrift" in page
