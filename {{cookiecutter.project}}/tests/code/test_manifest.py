"""deploy/<env>.yaml: a valid manifest round-trips; anything else is refused, naming the field."""

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package }}.config import PACKAGE, PROJECT
from {{ cookiecutter.package }}.deploy.manifest import (
    ManifestError,
    dump_manifest,
    load_manifest,
    load_optional_manifest,
    parse_manifest,
)

IMAGE = "ghcr.io/my-org/service@sha256:" + "0123456789abcdef" * 4


def version(n: int) -> dict[str, Any]:
    return {
        "bento_tag": f"{PROJECT}:{n:016x}",
        "model_tag": f"{PACKAGE}:{n + 1:016x}",
        "lineage_id": f"{n + 2:016x}",
        "image": IMAGE,
        "metrics": {"roc_auc": 0.99, "recall": 0.95},
    }


VALID: dict[str, Any] = {
    "environment": "production",
    "risk_tier": "high",
    "current": version(2),
    "previous": version(1),
    "traffic": {"stable": 90, "canary": 10},
}


def changed(path: str, value: Any) -> dict[str, Any]:
    """VALID with one dotted field set (or removed, for value ...)."""
    manifest = copy.deepcopy(VALID)
    *parents, key = path.split(".")
    target = manifest
    for parent in parents:
        target = target[parent]
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return manifest


def parse(data: Any) -> Any:
    return parse_manifest(yaml.safe_dump(data), "deploy/production.yaml")


def test_a_valid_manifest_round_trips():
    manifest = parse(VALID)
    text = dump_manifest(manifest)
    assert parse_manifest(text, "again") == manifest
    assert yaml.safe_load(text) == VALID
    assert manifest.current.bento_tag == VALID["current"]["bento_tag"]
    assert manifest.traffic.canary == 10


def test_defaults_give_all_traffic_to_the_current_version():
    minimal = {"environment": "staging", "risk_tier": "low", "current": version(1)}
    manifest = parse(minimal)
    assert (manifest.traffic.stable, manifest.traffic.canary) == (100, 0)
    assert manifest.previous is None
    assert "previous" not in yaml.safe_load(dump_manifest(manifest))


def test_a_manifest_cannot_be_changed_in_place():
    manifest = parse(VALID)
    with pytest.raises(ValueError):
        manifest.environment = "staging"


INVALID = {
    "bad-bento-tag": (changed("current.bento_tag", "My Service:v1"), "current.bento_tag"),
    "bad-model-tag": (changed("current.model_tag", "no-version"), "current.model_tag"),
    "tag-not-digest": (changed("current.image", "ghcr.io/my-org/x:latest"), "current.image"),
    "short-digest": (changed("current.image", "ghcr.io/x@sha256:abc"), "current.image"),
    "bad-lineage": (changed("previous.lineage_id", "not-hex"), "previous.lineage_id"),
    "unknown-env": (changed("environment", "prod"), "environment"),
    "unknown-tier": (changed("risk_tier", "medium"), "risk_tier"),
    "traffic-110": (changed("traffic", {"stable": 90, "canary": 20}), "must be 100, got 110"),
    "traffic-range": (changed("traffic", {"stable": 110, "canary": -10}), "traffic.stable"),
    "canary-low-risk": (changed("risk_tier", "low"), "only used for risk_tier high"),
    "canary-no-previous": (changed("previous", ...), "needs a previous version"),
    "extra-field": (changed("owner", "me"), "owner: Extra inputs are not permitted"),
    "extra-nested": (changed("current.digest", "x"), "current.digest: Extra inputs"),
    "no-current": (changed("current", ...), "current: Field required"),
    "nan-metric": (changed("current.metrics", {"roc_auc": float("nan")}), "metrics.roc_auc"),
    "text-metric": (changed("current.metrics", {"roc_auc": "good"}), "metrics.roc_auc"),
    "not-a-mapping": (["a", "list"], "manifest: Input should be a valid dictionary"),
}


@pytest.mark.parametrize("data, field", INVALID.values(), ids=INVALID)
def test_an_invalid_manifest_is_refused_naming_the_field(data, field):
    with pytest.raises(ManifestError) as refused:
        parse(data)
    message = str(refused.value)
    assert message.startswith("deploy/production.yaml is not a valid manifest: ")
    assert field in message


@pytest.mark.parametrize("text", ["environment: [unclosed", "a: b: c", "\t- tab"])
def test_text_that_is_not_yaml_is_refused(text):
    with pytest.raises(ManifestError, match=r"^deploy/production.yaml is not valid YAML"):
        parse_manifest(text, "deploy/production.yaml")


def test_an_empty_file_is_refused():
    with pytest.raises(ManifestError, match="manifest: Input should be a valid dictionary"):
        parse_manifest("", "deploy/production.yaml")


def test_load_reads_the_file_of_an_environment(tmp_path: Path):
    path = tmp_path / "production.yaml"
    assert path == tmp_path / "production.yaml"
    path.write_text(yaml.safe_dump(VALID))
    assert load_manifest(path) == parse(VALID)
    assert load_optional_manifest(path) == parse(VALID)


def test_a_missing_file_is_an_error_or_nothing_deployed_yet(tmp_path: Path):
    path = tmp_path / "staging.yaml"
    with pytest.raises(ManifestError, match=r"staging\.yaml does not exist"):
        load_manifest(path)
    assert load_optional_manifest(path) is None


def test_a_broken_file_is_an_error_even_when_optional(tmp_path: Path):
    path = tmp_path / "production.yaml"
    path.write_text("current: [")
    with pytest.raises(ManifestError, match=r"production\.yaml is not valid YAML"):
        load_optional_manifest(path)


def test_an_unreadable_file_is_refused(tmp_path: Path):
    path = tmp_path / "production.yaml"
    path.mkdir()  # exists, but cannot be read as a file
    with pytest.raises(ManifestError, match=r"production\.yaml cannot be read"):
        load_optional_manifest(path)


def test_binary_content_is_refused(tmp_path: Path):
    path = tmp_path / "production.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ManifestError, match=r"production\.yaml cannot be read"):
        load_manifest(path)


def test_a_manifest_in_the_wrong_environment_file_is_refused(tmp_path: Path):
    path = tmp_path / "production.yaml"
    path.write_text(yaml.safe_dump(changed("environment", "staging")))
    with pytest.raises(ManifestError, match="environment: 'staging' in the production manifest"):
        load_manifest(path)


def test_the_pre_commit_entry_point_refuses_an_invalid_manifest(tmp_path, capsys):
    from {{ cookiecutter.package }}.deploy.manifest import main

    broken = tmp_path / "production.yaml"
    broken.write_text("environment: production\nrisk_tier: medium\n")
    assert main([str(broken)]) == 1
    assert "ERROR:" in capsys.readouterr().out
    assert main([]) == 0
