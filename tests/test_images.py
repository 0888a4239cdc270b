"""Editor images: stored on local disk in development and in Azure Blob Storage (azurite, the real
emulator) otherwise, and served by the portal only to those who may read a policy showing them."""

import pytest
from django.core.files.storage import default_storage

from policies.models import Visibility

from .factories import make_organisation, make_person, make_policy
from .test_markdownx_endpoints import image_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def azurite(tmp_path_factory):
    from .azurite import AZURITE, Azurite

    if not AZURITE.exists():
        pytest.fail("azurite is missing: `make install` installs it from npm")
    server = Azurite(tmp_path_factory.mktemp("azurite"))
    server.start()
    server.create_container("bilder-test")
    yield server
    server.stop()


@pytest.fixture(params=["disk", "azurite"])
def storage(request, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    if request.param == "azurite":
        server = request.getfixturevalue("azurite")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.azure_storage.AzureStorage",
                "OPTIONS": {
                    "connection_string": server.connection_string,
                    "azure_container": "bilder-test",
                    "overwrite_files": False,
                },
            },
        }
    return request.param


def _upload(client, editor) -> str:
    client.force_login(editor)
    response = upload(client, "bilde.png", image_bytes("PNG"), "image/png")
    assert response.status_code == 200, response.content
    client.logout()
    code = response.json()["image_code"]
    return code[code.index("(") + 1 : -1]


def test_an_upload_is_stored_in_the_configured_storage_and_served_by_the_portal(client, storage):
    organisation = make_organisation()
    editor = make_person(organisation, is_editor=True)
    url = _upload(client, editor)
    assert url.startswith("/media/bilder/") and url.endswith(".png")
    name = url.removeprefix("/media/")
    assert default_storage.exists(name)
    if storage == "azurite":
        assert "AzureStorage" in type(default_storage._wrapped).__name__
    client.force_login(editor)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert response["Cache-Control"] == "private, max-age=300"


def test_an_image_in_a_public_policy_is_for_everyone(client, storage):
    organisation = make_organisation()
    url = _upload(client, make_person(organisation, is_editor=True))
    make_policy(organisation, body=f"## Bilde\n\n![Et bilde]({url})\n")
    assert client.get(url).status_code == 200


def test_an_image_of_an_internal_policy_is_only_for_those_who_may_read_it(client, storage):
    organisation = make_organisation()
    url = _upload(client, make_person(organisation, is_editor=True))
    make_policy(
        organisation, body=f"## Bilde\n\n![Et bilde]({url})\n", visibility=Visibility.INTERNAL
    )
    assert client.get(url).status_code == 404
    client.force_login(make_person(make_organisation()))  # someone of another kommune
    assert client.get(url).status_code == 404
    client.force_login(make_person(make_organisation(), is_editor=True))
    assert client.get(url).status_code == 404
    client.force_login(make_person(organisation))
    assert client.get(url).status_code == 200


def test_an_image_no_policy_uses_yet_is_for_editors_only(client, storage):
    organisation = make_organisation()
    url = _upload(client, make_person(organisation, is_editor=True))
    assert client.get(url).status_code == 404
    client.force_login(make_person(organisation))
    assert client.get(url).status_code == 404


def test_odd_image_addresses_are_not_found(client, storage):
    for url in ("/media/bilder/finnes-ikke.png", "/media/bilder/x.svg", "/media/bilder/..png"):
        assert client.get(url).status_code == 404
