"""Promotion: one commit that moves deploy/<env>.yaml to a new version.

The new version becomes `current`; what served before becomes `previous`
(kept warm, so reverting this commit is an instant rollback). The same commit
carries the Kubernetes objects rendered from the new manifest and the new
version's lineage (deploy/lineage/<env>.json, so `lineage --env` answers on any
clone), so a revert undoes all of them at once. A high-risk production promotion starts as a canary.

One owner: `<package> promote`, `make promote` and release.yml all call
`promote` here; only where the commit goes differs (this branch, or a
pull request).
"""

import json
import os
from typing import Any, NamedTuple

from {{ cookiecutter.package }}.config import (
    Paths,
    deployed_lineage_relative,
    load_params,
    manifest_relative,
)
from {{ cookiecutter.package }}.deploy.manifest import (
    Manifest,
    Traffic,
    Version,
    dump_manifest,
    load_optional_manifest,
)
from {{ cookiecutter.package }}.files import read_json, write_json
from {{ cookiecutter.package }}.gates.verdict import gate_report, gate_summary, shipping_problem
from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.release.proposal import commit_files, propose, start_branch


def candidate_version(lineage: dict[str, Any], bento_tag: str, image: str | None) -> Version:
    """The version a lineage describes, as a manifest entry: its facts come from the lineage."""
    metrics = lineage["metrics"]["model"]
    return Version(
        bento_tag=bento_tag,
        model_tag=lineage["model"]["tag"],
        lineage_id=lineage["lineage_id"],
        image=image,
        metrics={name: float(value) for name, value in metrics.items()},
    )


def canary_share(p: Paths, environment: str, risk_tier: str, has_previous: bool) -> int:
    """High risk: the new production version first takes this share, judged before the rest."""
    if not (risk_tier == "high" and has_previous and environment == "production"):
        return 0
    return int(load_params(p.params).get("deploy", {}).get("canary", {}).get("share", 10))


def next_manifest(
    p: Paths, environment: str, lineage: dict[str, Any], candidate: Version
) -> Manifest | None:
    """The manifest that promotes `candidate`, or None if it already serves there."""
    old = load_optional_manifest(p.manifest(environment))
    if old is not None and old.current == candidate:
        return None
    previous = old.current if old is not None else None
    tier = lineage["risk_tier"]
    share = canary_share(p, environment, tier, previous is not None)
    return Manifest(
        environment=environment,
        risk_tier=tier,
        current=candidate,
        previous=previous,
        traffic=Traffic(stable=100 - share, canary=share),
    )


def write_manifest(p: Paths, manifest: Manifest, lineage: dict[str, Any]) -> list[str]:
    """Write the manifest, the lineage of its current version and, where it can run on
    Kubernetes, its rendered objects; the files, repository-relative.

    Kubernetes runs images: a version without an image digest (a promotion on
    this machine, from the last trained model) has nothing to render, and the
    Kubernetes target refuses rendered objects that no longer match.
    """
    from {{ cookiecutter.package }}.deploy.targets.kubernetes_files import write_rendered

    if lineage["lineage_id"] != manifest.current.lineage_id:
        raise ReleaseError(
            f"the lineage is {lineage['lineage_id']}, the manifest names "
            f"{manifest.current.lineage_id}: promote the lineage of the version it names"
        )
    environment = manifest.environment
    target = p.manifest(environment)
    target.parent.mkdir(exist_ok=True)
    target.write_text(dump_manifest(manifest))
    write_json(lineage, p.deployed_lineage(environment))
    files = [manifest_relative(environment), deployed_lineage_relative(environment)]
    versions = [v for v in (manifest.current, manifest.previous) if v is not None]
    if all(version.image for version in versions):
        files += write_rendered(p, manifest)
    return files


def load_release(p: Paths) -> dict[str, Any]:
    """The version `make image` released: reports/release.json (or RELEASE_JSON in CI)."""
    raw = os.environ.get("RELEASE_JSON")
    if raw:
        given: dict[str, Any] = json.loads(raw)
        return given
    source = p.reports_dir / "release.json"
    if not source.exists():
        raise ReleaseError(f"{source} is missing: run `make image` first (or set RELEASE_JSON)")
    released: dict[str, Any] = read_json(source)
    return released


def promotion_body(environment: str, version: Version, previous: Version | None) -> str:
    before = previous.bento_tag if previous else "nothing"
    return (
        f"Moves `{manifest_relative(environment)}` from `{before}` to `{version.bento_tag}`.\n\n"
        f"- image: `{version.image}`\n- model: `{version.model_tag}`\n"
        f"- lineage: `{version.lineage_id}`\n\n"
        "Merging deploys it (deploy.yml); reverting the merge rolls it back."
    )


def refuse_without_card(p: Paths, lineage: dict[str, Any]) -> None:
    """High risk: no promotion while model-card.yaml leaves a required field empty."""
    from {{ cookiecutter.package }}.card import CardError, card_problems, load_card

    if lineage.get("risk_tier") != "high":
        return
    try:
        empty = card_problems(load_card(p.root))
    except CardError as error:
        raise ReleaseError(f"a high-risk model needs its card: {error}") from None
    if empty:
        raise ReleaseError(
            f"a high-risk model needs its card: fill in {', '.join(empty)} in model-card.yaml"
        )


def promote(
    p: Paths, environment: str, lineage: dict[str, Any], version: Version, proposal: bool
) -> str:
    """Commit the promotion of `version` to `environment`; with `proposal`, as a pull request."""
    refuse_without_card(p, lineage)
    manifest = next_manifest(p, environment, lineage, version)
    if manifest is None:
        return f"{environment} already serves lineage {version.lineage_id}: nothing to promote"
    title = f"Promote {version.bento_tag} to {environment}"
    body = promotion_body(environment, version, manifest.previous)
    branch = f"promote/{environment}-{version.lineage_id}"
    if proposal:
        start_branch(p.root, branch)
    commit_files(p.root, f"{title}\n\n{body}", write_manifest(p, manifest, lineage))
    canary = f" (canary {manifest.traffic.canary}%)" if manifest.traffic.canary else ""
    done = f"{manifest_relative(environment)} now names {version.bento_tag}{canary}"
    return f"{done}; {propose(p.root, branch, title, body)}" if proposal else done


class Candidate(NamedTuple):
    """A version that may be promoted: its lineage, its manifest entry, its gates' verdict."""

    lineage: dict[str, Any]
    version: Version
    gates: dict[str, Any] | None


def cleared(lineage: dict[str, Any], gates: dict[str, Any] | None) -> dict[str, Any] | None:
    """`gates` if the model may ship (gates/verdict.py); a ReleaseError saying why not."""
    problem = shipping_problem(gates, lineage["lineage_id"])
    if problem:
        raise ReleaseError(problem)
    return gates


def trained_model_cleared(p: Paths, lineage: dict[str, Any]) -> dict[str, Any] | None:
    """The verdict of this checkout's gate report on `lineage`, if the model may ship:
    what `make image` records and a promotion without a release checks."""
    return cleared(lineage, gate_summary(gate_report(p, lineage)))


def released_version(p: Paths) -> Candidate:
    """The last release (`make image`): the version it pushed, of the lineage it names.

    The release record carries the lineage and the gates' verdict itself: the
    job that promotes runs in a fresh checkout, which has no models/lineage.json
    and no gate report.
    """
    record = dict(load_release(p))
    lineage = record.pop("lineage", None) or read_json(p.lineage)
    gates = record.pop("gates", None)
    if lineage["lineage_id"] != record["lineage_id"]:
        raise ReleaseError(
            f"the release names lineage {record['lineage_id']}, its lineage record is "
            f"{lineage['lineage_id']}: run `make repro` and `make image` on the same commit"
        )
    return Candidate(lineage, Version.model_validate(record), cleared(lineage, gates))


def version_to_promote(p: Paths) -> Candidate:
    """The last release (`make image`), or without one the last trained model's bento.

    Either way only a model whose gates passed (or only warned) on its lineage.
    """
    from {{ cookiecutter.package }}.serving.bento import build_bento

    if os.environ.get("RELEASE_JSON") or (p.reports_dir / "release.json").exists():
        return released_version(p)
    lineage = read_json(p.lineage)
    gates = trained_model_cleared(p, lineage)
    return Candidate(lineage, candidate_version(lineage, build_bento(p), None), gates)
