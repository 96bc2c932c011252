"""The deploy's `verify`, against this machine's real stores: the bento the session
built (tests/service/conftest.py) and the model registered by `make repro`."""

import pytest

from {{ cookiecutter.package }}.deploy import DeployError
from {{ cookiecutter.package }}.deploy.manifest import Version
from {{ cookiecutter.package }}.deploy.verify import verify
from {{ cookiecutter.package }}.files import read_json
from {{ cookiecutter.package }}.model_store import register, stored_lineage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(project, bento_tag) -> tuple[Version, dict]:
    """The manifest entry of the bento just built, and its model's lineage."""
    lineage = read_json(project.lineage)
    version = Version(
        bento_tag=bento_tag, model_tag=lineage["model"]["tag"], lineage_id=lineage["lineage_id"]
    )
    return version, lineage


def test_the_built_bento_is_verified_byte_for_byte(trained):
    version, lineage = trained
    verified = verify(version)
    assert verified["model_digest"] == lineage["model"]["digest"]
    assert verified["bento_tag"] == version.bento_tag


@pytest.fixture
def first_registered_on_another_commit(project, trained):
    """The model store as it is when these bytes were first evaluated on another commit:
    training is deterministic, so a later `make repro` that reruns `evaluate` (a new
    commit, another risk tier) gives the same model tag a new lineage."""
    import bentoml

    version, lineage = trained
    earlier = {**lineage, "lineage_id": "e" * 16, "code": {"commit": "e" * 40, "dirty": False}}
    bentoml.models.delete(version.model_tag)
    register(project.model, earlier)
    yield earlier
    bentoml.models.delete(version.model_tag)
    register(project.model, lineage)


def test_the_lineage_a_deploy_checks_is_the_one_its_bento_packs(
    trained, first_registered_on_another_commit
):
    version, lineage = trained
    assert stored_lineage(version.model_tag)["lineage_id"] == "e" * 16
    assert verify(version)["model_digest"] == lineage["model"]["digest"]


def test_a_bento_the_store_does_not_hold_is_refused(trained):
    version, _ = trained
    missing = version.model_copy(update={"bento_tag": "{{ cookiecutter.package }}:notbuilt"})
    with pytest.raises(DeployError, match="is not in this machine's bento store"):
        verify(missing)


def test_a_manifest_naming_another_lineage_is_refused(trained):
    version, lineage = trained
    other = version.model_copy(update={"lineage_id": "0" * 16})
    with pytest.raises(DeployError, match=f"packs lineage {lineage['lineage_id']}, the manifest"):
        verify(other)


def test_a_model_the_store_does_not_hold_is_refused(trained):
    version, _ = trained
    with pytest.raises(DeployError):
        verify(version.model_copy(update={"model_tag": "{{ cookiecutter.package }}:0000000000000000"}))
