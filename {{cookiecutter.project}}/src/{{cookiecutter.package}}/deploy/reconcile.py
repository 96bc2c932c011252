"""`deploy <env>`: reconcile an environment to its manifest, or change nothing.

Order matters for a fast, safe switch:
1. validate the manifest and take the environment's lock;
2. verify the new current version: the bento exists, it packs the manifest's
   model, that model's lineage id is the manifest's, its bytes match the
   lineage digest. A version already running (warm, after a rollback) was
   verified when it started and the state records what was verified; the
   manifest must match that record, or the version is verified again;
3. make sure it runs and answers a smoke request serving the expected
   lineage, model tag and model digest;
4. only then move traffic (an atomic rewrite of the routes);
5. warm the previous version; keep a version rolled back from warm for a
   while (deploy.keep_warm_after_rollback_minutes); retire any other.
Versions found half-dead (a parent killed, its worker still answering) are
stopped, every process they own, and reported.
If a check fails before step 4, nothing has changed: the version serving now
keeps serving. Running it twice changes nothing the second time.
"""

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from {{ cookiecutter.package }}.config import Paths, load_params
from {{ cookiecutter.package }}.deploy import DeployError
from {{ cookiecutter.package }}.deploy.manifest import Manifest, Version, load_manifest
from {{ cookiecutter.package }}.deploy.outcome import Outcome
from {{ cookiecutter.package }}.deploy.targets.local import LocalTarget
from {{ cookiecutter.package }}.deploy.targets.processes import loopback
from {{ cookiecutter.package }}.deploy.verify import claims, smoke, verify
from {{ cookiecutter.package }}.serving.process import stop_processes


def settings(p: Paths, environment: str) -> dict[str, Any]:
    section = load_params(p.params).get("deploy", {})
    port = os.environ.get("DEPLOY_PORT") or section["local"]["ports"][environment]
    canary = dict(section.get("canary", {}))
    if os.environ.get("CANARY_WINDOW_SECONDS"):
        canary["window_seconds"] = float(os.environ["CANARY_WINDOW_SECONDS"])
    keep_warm = section.get("keep_warm_after_rollback_minutes", {})
    return {"router_port": int(port), "canary": canary, "keep_warm_minutes": keep_warm}


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
            response = loopback().get(f"{target.router_url}/readyz")
            if response.headers.get("x-bento-tag") == tag:
                return time.monotonic() - began
        except httpx.TransportError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"the router did not answer from {tag} within {deadline_s}s")


def utc(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


class Reconciler:
    def __init__(
        self,
        p: Paths,
        environment: str,
        target: LocalTarget | None = None,
        verifier: Callable[[Version], dict[str, str]] = verify,
    ) -> None:
        self.p = p
        self.environment = environment
        self.settings = settings(p, environment)
        self.target = target or LocalTarget(p, environment, self.settings["router_port"])
        self.verify = verifier  # tests verify against a stand-in store
        self.began = time.monotonic()
        self.lost: dict[str, str] = {}  # tag -> what was wrong with its warm copy

    def manifest(self) -> Manifest:
        return load_manifest(self.p.manifest(self.environment))

    def run(self) -> Outcome:
        self.began = time.monotonic()
        manifest = self.manifest()  # a manifest that does not validate stops here
        with self.target.lock():
            return self._reconcile(manifest)

    def _reconcile(self, manifest: Manifest) -> Outcome:
        state = self.target.load_state()
        versions = state["versions"]
        notes = self._stop_broken(versions)
        current = manifest.current.bento_tag
        cold = self._start_current(manifest.current, versions, state)
        canary_done = current in state.get("canary_passed", [])
        if manifest.traffic.canary and manifest.previous and not canary_done:
            self._ensure_running(manifest.previous, versions, cold)  # it takes the stable share
        urls = {tag: self.target.url(entry) for tag, entry in versions.items()}
        routes = routes_for(manifest, urls, canary_done)
        before = self.target.load_routes()
        unchanged = routes == before and self.target.router_running(state)
        switch = None if unchanged else self._switch(routes, state)
        answering = None if unchanged else time.monotonic() - self.began
        notes += self._warm_previous(manifest, versions, cold)
        notes += self._keep_rolled_back_warm(manifest, (before or {}).get("stable"), state)
        notes += self._retire_others(manifest, state)
        self.target.save_state(state)
        outcome = Outcome(
            self.environment,
            bool(cold) or not unchanged,
            routes["stable"]["tag"],
            manifest.previous.bento_tag if manifest.previous else None,
            switch,
            notes,
            cold=cold,
            answering_seconds=answering,
        )
        outcome.canary_pending = routes["canary"] is not None
        return outcome

    def _start_current(
        self, version: Version, versions: dict[str, Any], state: dict[str, Any]
    ) -> dict[str, str]:
        """Make sure the current version runs and passes the smoke check; the cold starts."""
        cold: dict[str, str] = {}
        self._ensure_running(version, versions, cold)
        entry = versions[version.bento_tag]
        try:
            smoke(self.target.url(entry), version, entry["verified"], loopback())
        except Exception:
            if cold:
                self._retire(version.bento_tag, versions)
                self.target.save_state(state)
            raise
        return cold

    def _stop_broken(self, versions: dict[str, Any]) -> list[str]:
        """Forget versions whose processes are gone; stop every process of a half-dead one."""
        notes = []
        for tag, entry in list(versions.items()):
            health, owned = self.target.version_health(tag, entry)
            if health == "running":
                continue
            versions.pop(tag)
            self.lost[tag] = f"its warm copy was {'not running' if health == 'gone' else health}"
            if owned:
                stop_processes(owned)
                notes.append(f"{tag} was {health}: stopped it")
        return notes

    def _ensure_running(
        self, version: Version, versions: dict[str, Any], cold: dict[str, str]
    ) -> None:
        """Start the version unless it already runs, verified, as the manifest says.

        A warm version was verified when it started, and the state records what
        was verified: a manifest that matches that record moves traffic at once
        (a rollback); one that does not is verified in full, and refused if the
        bento and model do not match it. The smoke check confirms what it serves.
        """
        tag = version.bento_tag
        entry = versions.get(tag)
        recorded = {
            k: v for k, v in (entry or {}).get("verified", {}).items() if k != "model_digest"
        }
        if entry and recorded == claims(version):
            return
        verified = self.verify(version)  # a mismatch stops the deploy here: nothing changed
        if entry:
            self.lost[tag] = f"its warm copy was verified as {recorded}, not {claims(version)}"
            self._retire(tag, versions)
        began = time.monotonic()
        versions[tag] = {**self.target.start_version(tag), "verified": verified}
        why = self.lost.get(tag, "no copy of it was running")
        cold[tag] = f"{why}; ready after {time.monotonic() - began:.1f}s"

    def _switch(self, routes: dict[str, Any], state: dict[str, Any]) -> float:
        self.target.write_routes(routes)
        if not self.target.router_running(state):
            state["router"] = self.target.start_router()
        return confirm_switch(self.target, routes["stable"]["tag"])

    def _warm_previous(
        self, manifest: Manifest, versions: dict[str, Any], cold: dict[str, str]
    ) -> list[str]:
        """Keep the previous version running, and serving what it should.

        It is smoke-checked now, not when a rollback needs it; one that fails
        is stopped, so a rollback starts it afresh (and says so). A failure
        here never blocks a deploy.
        """
        previous = manifest.previous
        if previous is None:
            return ["no previous version in the manifest"]
        try:
            self._ensure_running(previous, versions, cold)
            entry = versions[previous.bento_tag]
            smoke(self.target.url(entry), previous, entry["verified"], loopback())
        except (DeployError, RuntimeError) as error:
            if previous.bento_tag in versions:
                self._retire(previous.bento_tag, versions)
            return [f"previous version {previous.bento_tag} not kept warm: {error}"]
        return []

    def _keep_rolled_back_warm(
        self, manifest: Manifest, leaving: dict[str, str] | None, state: dict[str, Any]
    ) -> list[str]:
        """Traffic left a version the manifest no longer names (a rollback): keep it warm a while.

        Undoing the rollback is then as fast as the rollback was.
        """
        kept = state.setdefault("kept_warm", {})
        named = named_tags(manifest)
        for named_tag in named:
            kept.pop(named_tag, None)
        minutes = float(self.settings["keep_warm_minutes"].get(manifest.risk_tier, 0))
        tag: str | None = (leaving or {}).get("tag")
        if tag and tag not in named and tag in state["versions"] and minutes > 0:
            kept[tag] = time.time() + minutes * 60
        setting = f"deploy.keep_warm_after_rollback_minutes.{manifest.risk_tier}"
        return [
            f"kept warm: {tag} (rolled back from) until {utc(until)} ({setting})"
            for tag, until in kept.items()
            if until > time.time() and tag in state["versions"]
        ]

    def _retire_others(self, manifest: Manifest, state: dict[str, Any]) -> list[str]:
        """Stop every version neither named nor kept warm; say which keep-warm times ended."""
        kept, versions, notes = state.setdefault("kept_warm", {}), state["versions"], []
        for tag, until in list(kept.items()):
            if until <= time.time() or tag not in versions:
                kept.pop(tag)
                notes += [f"retired {tag}: kept warm until {utc(until)}"] if tag in versions else []
        wanted = named_tags(manifest) | set(kept)
        for tag in [t for t in versions if t not in wanted]:
            self._retire(tag, versions)
        return notes

    def _retire(self, tag: str, versions: dict[str, Any]) -> None:
        """Ask a retired version to stop, all its processes; traffic has already left it."""
        self.target.stop_version(tag, versions.pop(tag), wait=False)

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


def named_tags(manifest: Manifest) -> set[str]:
    return {v.bento_tag for v in (manifest.current, manifest.previous) if v is not None}
