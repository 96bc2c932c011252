"""Write the next manifest of an environment: promotion as a file change.

The new version becomes `current`, what served before becomes `previous`
(kept warm, so reverting this change is an instant rollback). A high-risk
production promotion starts as a canary.
"""

from {{ cookiecutter.package }}.config import Paths, load_params
from {{ cookiecutter.package }}.io import read_json
from {{ cookiecutter.package }}.manifest import (
    Manifest,
    Traffic,
    Version,
    dump_manifest,
    load_optional_manifest,
    manifest_path,
)


def candidate_version(p: Paths, bento_tag: str, image: str | None = None) -> Version:
    """The version the pipeline just produced, as a manifest entry."""
    lineage = read_json(p.lineage)
    metric = load_params(p.params)["gate"]["metric"]
    return Version(
        bento_tag=bento_tag,
        model_tag=lineage["model"]["tag"],
        lineage_id=lineage["lineage_id"],
        image=image,
        metrics={metric: float(lineage["metrics"]["model"][metric])},
    )


def canary_share(params: dict, environment: str, has_previous: bool) -> int:
    high_risk = params["gate"]["risk_tier"] == "high"
    share = int(params.get("deploy", {}).get("canary", {}).get("share", 10))
    return share if high_risk and has_previous and environment == "production" else 0


def next_manifest(p: Paths, environment: str, candidate: Version) -> Manifest | None:
    """The manifest that promotes `candidate`, or None if it already serves there."""
    old = load_optional_manifest(manifest_path(p.deploy_dir, environment))
    if old is not None and old.current == candidate:
        return None
    previous = old.current if old is not None else None
    params = load_params(p.params)
    share = canary_share(params, environment, previous is not None)
    return Manifest(
        environment=environment,
        risk_tier=params["gate"]["risk_tier"],
        current=candidate,
        previous=previous,
        traffic=Traffic(stable=100 - share, canary=share),
    )


def write_promotion(p: Paths, environment: str, candidate: Version) -> Manifest | None:
    manifest = next_manifest(p, environment, candidate)
    if manifest is not None:
        manifest_path(p.deploy_dir, environment).write_text(dump_manifest(manifest))
    return manifest
