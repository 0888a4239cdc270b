"""Read, then confirm: the deadline banner, the message where the reader is, and the receipt."""

import pytest

from policies.acknowledgements import acknowledge
from policies.models import Acknowledgement, ChangeKind
from policies.receipts import find

from .factories import make_organisation, make_person, make_policy, publish_version
from .test_views_employee import MOSKENES, confirm_form, moskenes_policy, person

pytestmark = pytest.mark.django_db


def _confirm(client, username="ansatt.moskenes"):
    client.force_login(person(username))
    client.post(f"{MOSKENES}bekreft/", confirm_form(moskenes_policy()))
    return Acknowledgement.objects.get(person__username=username)


def test_someone_who_must_confirm_sees_the_deadline_at_the_top(client, handbook):
    client.force_login(person("ansatt.moskenes"))
    html = client.get(MOSKENES).content.decode()
    banner = html.index("Les og bekreft innen")
    assert banner < html.index('class="policy-text')
    assert "Bekreftelsen står nederst, etter teksten" in html


def test_the_banner_is_gone_once_confirmed(client, handbook):
    _confirm(client)
    assert "Les og bekreft innen" not in client.get(MOSKENES).content.decode()


def test_a_material_change_explains_itself_in_the_banner(client):
    organisation = make_organisation()
    reader = make_person(organisation)
    policy = make_policy(organisation)
    first = policy.versions.get(number=1)
    acknowledge(reader, first, shown_hash=first.text_hash)
    publish_version(policy, body="## Formål\n\nNy tekst.\n", change_kind=ChangeKind.MATERIAL)
    client.force_login(reader)
    html = client.get(policy.get_absolute_url()).content.decode()
    assert "Endret vesentlig" in html and "må bekrefte versjon 2" in html
    assert f"{policy.get_absolute_url()}endringer/?fra=1&amp;til=2" in html


def test_the_message_after_confirming_is_in_the_confirmation_block_only(client, handbook):
    _confirm(client)
    html = client.get(MOSKENES).content.decode()
    assert html.count("Bekreftet: du har lest og forstått versjon 2") == 1
    block = html[html.index('id="bekreft"') :]
    assert 'id="kvittering" tabindex="-1" data-focus-target' in block
    assert "Bekreftet: du har lest og forstått versjon 2" in block


def test_the_receipt_names_kommune_policy_version_time_and_reference(client, handbook):
    ack = _confirm(client)
    html = client.get(f"/meg/kvitteringer/{ack.pk}/").content.decode()
    for text in (
        "Moskenes kommune",
        "Veileder for bruk av sosiale medier",
        "Versjon",
        ack.reference,
    ):
        assert text in html
    assert " kl. " in html
    assert ack.reference.startswith(f"B-{ack.pk}-")


def test_the_receipt_downloads_as_a_pdf(client, handbook):
    ack = _confirm(client)
    response = client.get(f"/meg/kvitteringer/{ack.pk}/kvittering.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "kvittering-sosiale-medier-versjon-2.pdf" in response["Content-Disposition"]


def test_someone_else_cannot_see_my_receipt(client, handbook):
    ack = _confirm(client)
    client.force_login(person("ansatt.bergen"))
    assert client.get(f"/meg/kvitteringer/{ack.pk}/").status_code == 404


def test_a_reference_is_found_only_with_its_check_and_in_its_own_kommune(client, handbook):
    ack = _confirm(client)
    assert find(ack.reference, organisation_id=ack.version.policy.organisation_id) == ack
    assert find(ack.reference.lower(), organisation_id=None) == ack
    wrong_check = ack.reference[:-1] + ("0" if ack.reference[-1] != "0" else "1")
    assert find(wrong_check, organisation_id=None) is None
    other = make_organisation()
    assert find(ack.reference, organisation_id=other.pk) is None
    for nonsense in ("", "B-", "x" * 40, "B-99999999-ABCDEF", "B-1-'; DROP"):
        assert find(nonsense, organisation_id=None) is None


def test_editors_look_up_a_reference_of_their_own_kommune(client, handbook):
    ack = _confirm(client)
    client.force_login(person("redaktor.moskenes"))
    html = client.get(f"/redaksjon/kvittering/?referanse={ack.reference}").content.decode()
    assert "Bekreftelsen finnes" in html and ack.person.display_name in html
    client.force_login(person("redaktor.bergen"))
    response = client.get(f"/redaksjon/kvittering/?referanse={ack.reference}")
    assert response.status_code == 404
    assert "Fant ingen bekreftelse" in response.content.decode()
    assert ack.person.display_name not in response.content.decode()
