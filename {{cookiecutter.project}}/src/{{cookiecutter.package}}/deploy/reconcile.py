"""`deploy <env>`: reconcile an environment to its manifest, or change nothing.

Order matters for a fast, safe switch:
1. validate the manifest and take the environment's lock;
2. verify the new current version: the bento exists, it packs the manifest's
   model, that model's lineage id is the manifest's, its bytes match the
   lineage digest;
3. make sure it runs (already warm after a rollback) and answers a smoke
   request and reports the expected lineage;
4. only then move traffic (an atomic rewrite of the routes);
5. warm the previous version, retire any other.
If a check fails before step 4, nothing has changed: the version serving now
keeps serving. Running it twice changes nothing the second time.
"""

import os
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from {{ cookiecutter.package }}.config import Paths, load_params
from {{ cookiecutter.package }}.deploy import DeployError
from {{ cookiecutter.package }}.deploy.manifest import Manifest, Version, load_manifest
from {{ cookiecutter.package }}.deploy.targets.local import LocalTarget
from {{ cookiecutter.package }}.serving.process import stop_tree
from {{ cookiecutter.package }}.serving.smoke import smoke_problem


@dataclass
class Outcome:
    environment: str
    changed: bool
    serving: str
    warm: str | None
    switch_seconds: float | None = None
    notes: list[str] = field(default_factory=list)
    canary_pending: bool = False


def settings(p: Paths, environment: str) -> dict[str, Any]:
    section = load_params(p.params).get("deploy", {})
    port = os.environ.get("DEPLOY_PORT") or section["local"]["ports"][environment]
    canary = dict(section.get("canary", {}))
    if os.environ.get("CANARY_WINDOW_SECONDS"):
        canary["window_seconds"] = float(os.environ["CANARY_WINDOW_SECONDS"])
    return {"router_port": int(port), "canary": canary}


def verify(version: Version) -> None:
    """The bento and model are the ones the manifest names, byte for byte."""
    import bentoml

    from {{ cookiecutter.package }}.model_store import stored_lineage
    from {{ cookiecutter.package }}.serving.bento import bento_model_digest

    try:
        bentoml.bentos.get(version.bento_tag)
    except bentoml.exceptions.NotFound:
        raise DeployError(
            f"bento {version.bento_tag} is not in this machine's bento store; "
            "build it (`make bento`) from the commit that produced it, or import it"
        ) from None
    try:
        lineage = stored_lineage(version.model_tag)
        packed = bento_model_digest(version.bento_tag, version.model_tag)
    except (LookupError, ValueError, FileNotFoundError) as error:
        raise DeployError(str(error)) from None
    if lineage["lineage_id"] != version.lineage_id:
        raise DeployError(
            f"model {version.model_tag} has lineage {lineage['lineage_id']}, "
            f"the manifest says {version.lineage_id}"
        )
    if packed != lineage["model"]["digest"]:
        raise DeployError(
            f"the model in {version.bento_tag} has digest {packed}, "
            f"its lineage says {lineage['model']['digest']}"
        )


def smoke(url: str, version: Version) -> None:
    """The running version answers a prediction and serves the manifest's lineage."""
    problem = smoke_problem(url, version.lineage_id)
    if problem:
        raise DeployError(f"smoke check of {version.bento_tag} failed: {problem}")


def routes_for(manifest: Manifest, urls: dict[str, str], canary_done: bool) -> dict[str, Any]:
    """Where the router sends requests.

    `traffic.canary` is how a high-risk version rolls out: that share first,
    everything once the canary analysis passed (recorded in the state).
    """
    current = {"tag": manifest.current.bento_tag, "url": urls[manifest.current.bento_tag]}
    if manifest.traffic.canary and manifest.previous and not canary_done:
        stable = {"tag": manifest.previous.bento_tag, "url": urls[manifest.previous.bento_tag]}
        return {"stable": stable, "canary": current, "canary_share": manifest.traffic.canary}
    return {"stable": current, "canary": None, "canary_share": 0}


def confirm_switch(target: LocalTarget, tag: str, deadline_s: float = 10) -> float:
    """Seconds from now until the router answers from `tag`."""
    began = time.monotonic()
    while time.monotonic() - began < deadline_s:
        try:
            response = httpx.get(f"{target.router_url}/readyz", timeout=2)
            if response.headers.get("x-bento-tag") == tag:
                return time.monotonic() - began
        except httpx.TransportError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"the router did not answer from {tag} within {deadline_s}s")


class Reconciler:
    def __init__(self, p: Paths, environment: str) -> None:
        self.p = p
        self.environment = environment
        self.settings = settings(p, environment)
        self.target = LocalTarget(p, environment, self.settings["router_port"])

    def manifest(self) -> Manifest:
        return load_manifest(self.p.manifest(self.environment))

    def run(self) -> Outcome:
        manifest = self.manifest()  # a manifest that does not validate stops here
        with self.target.lock():
            return self._reconcile(manifest)

    def _reconcile(self, manifest: Manifest) -> Outcome:
        state = self.target.load_state()
        versions = state["versions"]
        current = manifest.current.bento_tag
        started = self._ensure_running(manifest.current, versions)
        try:
            smoke(self.target.url(versions[current]), manifest.current)
        except Exception:
            if started:
                self._retire(current, versions)
                self.target.save_state(state)
            raise
        canary_done = current in state.get("canary_passed", [])
        if manifest.traffic.canary and manifest.previous and not canary_done:
            self._ensure_running(manifest.previous, versions)  # it takes the stable share
        urls = {tag: self.target.url(entry) for tag, entry in versions.items()}
        routes = routes_for(manifest, urls, canary_done)
        unchanged = routes == self.target.load_routes() and self.target.router_running(state)
        switch = None if unchanged else self._switch(routes, state)
        notes = self._warm_previous(manifest, versions)
        self._retire_others(manifest, versions)
        self.target.save_state(state)
        outcome = Outcome(
            self.environment,
            started or not unchanged,
            routes["stable"]["tag"],
            manifest.previous.bento_tag if manifest.previous else None,
            switch,
            notes,
        )
        outcome.canary_pending = routes["canary"] is not None
        return outcome

    def _ensure_running(self, version: Version, versions: dict[str, Any]) -> bool:
        """Start the version unless it already runs, verified, for this lineage.

        A warm version was verified when it started, so a rollback to it skips
        the (slow) store checks and moves traffic at once; the smoke request
        still confirms the lineage it serves.
        """
        entry = versions.get(version.bento_tag)
        same_lineage = entry is not None and entry.get("lineage_id") == version.lineage_id
        if same_lineage and self.target.version_running(entry):
            return False
        verify(version)
        if entry:
            self._retire(version.bento_tag, versions)
        started = self.target.start_version(version.bento_tag)
        versions[version.bento_tag] = {**started, "lineage_id": version.lineage_id}
        return True

    def _switch(self, routes: dict[str, Any], state: dict[str, Any]) -> float:
        self.target.write_routes(routes)
        if not self.target.router_running(state):
            state["router"] = self.target.start_router()
        return confirm_switch(self.target, routes["stable"]["tag"])

    def _warm_previous(self, manifest: Manifest, versions: dict[str, Any]) -> list[str]:
        """Keep the previous version running; a failure here never blocks a deploy."""
        if manifest.previous is None:
            return ["no previous version in the manifest: nothing kept warm"]
        try:
            self._ensure_running(manifest.previous, versions)
        except (DeployError, RuntimeError) as error:
            return [f"previous version {manifest.previous.bento_tag} not kept warm: {error}"]
        return []

    def _retire_others(self, manifest: Manifest, versions: dict[str, Any]) -> None:
        wanted = {manifest.current.bento_tag}
        if manifest.previous:
            wanted.add(manifest.previous.bento_tag)
        for tag in [t for t in versions if t not in wanted]:
            self._retire(tag, versions)

    @staticmethod
    def _retire(tag: str, versions: dict[str, Any]) -> None:
        """Ask a retired version to stop; traffic has already left it."""
        stop_tree(versions.pop(tag)["pid"], wait=False)

    def finish_canary(self, promote: bool) -> None:
        """All traffic to the canary (it passed) or back to stable (it failed)."""
        with self.target.lock():
            state, routes = self.target.load_state(), self.target.load_routes()
            if routes is None:
                raise DeployError(f"nothing is deployed to {self.environment}: no canary to finish")
            winner = routes["canary"] if promote else routes["stable"]
            if promote:
                state.setdefault("canary_passed", []).append(winner["tag"])
            self.target.write_routes({"stable": winner, "canary": None, "canary_share": 0})
            self.target.save_state(state)
            confirm_switch(self.target, winner["tag"])


def stop_environment(p: Paths, environment: str) -> list[str]:
    """Stop the router and every version of an environment (e.g. after a demo)."""
    target = LocalTarget(p, environment, 0)
    state = target.load_state()
    stopped = []
    for tag, entry in state["versions"].items():
        stop_tree(entry["pid"])
        stopped.append(tag)
    if state.get("router"):
        stop_tree(state["router"]["pid"])
        stopped.append("router")
    target.save_state({"router": None, "versions": {}})
    return stopped
