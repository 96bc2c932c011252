"""A production environment on the local target, served by stand-in versions.

`fake_version.py` answers like `bentoml serve` (a parent and a worker in a
session of its own), and `verify` checks manifests against a stand-in store
the way the real one checks the bento and model stores, so these tests run
the real reconcile, router, process tracking and state in a few seconds.
"""

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.deploy import DeployError
from {{ cookiecutter.package }}.deploy.manifest import Version
from {{ cookiecutter.package }}.deploy.reconcile import Outcome, Reconciler
from {{ cookiecutter.package }}.deploy.targets.local import LocalTarget, stop_environment
from {{ cookiecutter.package }}.deploy.verify import claims
from {{ cookiecutter.package }}.serving.process import free_port

FAKE_VERSION = Path(__file__).with_name("fake_version.py")


def version(name: str, digit: str) -> dict[str, Any]:
    """A bento `svc:<name>` packing `model:<name>`, as the stand-in store holds it."""
    return {
        "bento_tag": f"svc:{name}",
        "model_tag": f"model:{name}",
        "lineage_id": digit * 16,
        "digest": "sha256:" + digit * 64,
    }


def served_lineage(version: dict[str, Any]) -> dict[str, Any]:
    """What the version's /lineage answers: a lineage record's id and model."""
    model = {"tag": version["model_tag"], "digest": version["digest"]}
    return {"lineage_id": version["lineage_id"], "model": model}


class Environment:
    """deploy/production.yaml of a scratch repository, and deploys of it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.p = Paths(root)
        self.store = {name: version(name, digit) for name, digit in [("one", "1"), ("two", "2")]}
        self.lineages = root / "lineages.json"
        served = {v["bento_tag"]: served_lineage(v) for v in self.store.values()}
        self.lineages.write_text(json.dumps(served))
        self.verified: list[str] = []
        self.write_params(low=60)

    def write_params(self, low: float) -> None:
        deploy = {
            "local": {"ports": {"staging": free_port(), "production": free_port()}},
            "keep_warm_after_rollback_minutes": {"low": low, "high": 240},
            "canary": {},
        }
        self.p.params.write_text(yaml.safe_dump({"deploy": deploy}))

    def manifest(self, current: str, previous: str | None = None, **changes: str) -> None:
        entry = {k: v for k, v in self.store[current].items() if k != "digest"}
        manifest = {
            "environment": "production",
            "risk_tier": "low",
            "current": {**entry, **changes},
            "previous": previous
            and {k: v for k, v in self.store[previous].items() if k != "digest"},
        }
        self.p.manifest("production").parent.mkdir(exist_ok=True)
        self.p.manifest("production").write_text(yaml.safe_dump(manifest))

    def verify(self, claimed: Version) -> dict[str, str]:
        """What `verify` checks, against the stand-in store."""
        packed = next((v for v in self.store.values() if v["bento_tag"] == claimed.bento_tag), None)
        if packed is None:
            raise DeployError(f"bento {claimed.bento_tag} is not in this machine's bento store")
        if packed["model_tag"] != claimed.model_tag:
            raise DeployError(
                f"bento {claimed.bento_tag} packs {packed['model_tag']}, not {claimed.model_tag}"
            )
        if packed["lineage_id"] != claimed.lineage_id:
            raise DeployError(f"bento {claimed.bento_tag} packs lineage {packed['lineage_id']}")
        self.verified.append(claimed.bento_tag)
        return {**claims(claimed), "model_digest": packed["digest"]}

    def serve(self, bento_tag: str, port: int) -> list[str]:
        return [sys.executable, str(FAKE_VERSION), bento_tag, str(port), str(self.lineages)]

    def reconciler(self) -> Reconciler:
        reconciler = Reconciler(self.p, "production", verifier=self.verify)
        port = reconciler.settings["router_port"]
        reconciler.target = LocalTarget(self.p, "production", port, serve=self.serve)
        return reconciler

    def deploy(self) -> Outcome:
        return self.reconciler().run()

    def target(self) -> LocalTarget:
        return self.reconciler().target

    def state(self) -> dict[str, Any]:
        return self.target().load_state()

    def entry(self, name: str) -> dict[str, Any]:
        return self.state()["versions"][f"svc:{name}"]


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DEPLOY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("DEPLOY_PORT", raising=False)
    monkeypatch.delenv("CANARY_WINDOW_SECONDS", raising=False)
    env = Environment(tmp_path)
    yield env
    stop_environment(env.p, "production")
