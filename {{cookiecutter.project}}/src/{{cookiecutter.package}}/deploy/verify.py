"""Is what will serve what the manifest says? The bento, the model, its lineage, its bytes.

`verify` reads the stores (slow: it hashes the model); `smoke` asks the
running version what it serves (fast). A deploy runs `verify` before a
version starts and records what it verified; `smoke` on every deploy.
"""

import httpx

from {{ cookiecutter.package }}.deploy import DeployError
from {{ cookiecutter.package }}.deploy.manifest import Version
from {{ cookiecutter.package }}.serving.smoke import smoke_problem


def claims(version: Version) -> dict[str, str]:
    """What a manifest asserts about a version, as its state records it once verified."""
    return {
        "bento_tag": version.bento_tag,
        "model_tag": version.model_tag,
        "lineage_id": version.lineage_id,
    }


def verify(version: Version) -> dict[str, str]:
    """The bento and model are the ones the manifest names, byte for byte.

    Returns what was verified, the model digest included: the state keeps it,
    so a later deploy to the running version compares with it cheaply.
    """
    import bentoml

    from {{ cookiecutter.package }}.serving.bento import bento_lineage, bento_model_digest

    try:
        bentoml.bentos.get(version.bento_tag)
    except bentoml.exceptions.NotFound:
        raise DeployError(
            f"bento {version.bento_tag} is not in this machine's bento store; "
            "build it (`make bento`) from the commit that produced it, or import it"
        ) from None
    try:
        lineage = bento_lineage(version.bento_tag)
        packed = bento_model_digest(version.bento_tag, version.model_tag)
    except (LookupError, ValueError, FileNotFoundError) as error:
        raise DeployError(str(error)) from None
    if lineage["lineage_id"] != version.lineage_id:
        raise DeployError(
            f"bento {version.bento_tag} packs lineage {lineage['lineage_id']}, "
            f"the manifest says {version.lineage_id}"
        )
    if packed != lineage["model"]["digest"]:
        raise DeployError(
            f"the model in {version.bento_tag} has digest {packed}, "
            f"its lineage says {lineage['model']['digest']}"
        )
    return {**claims(version), "model_digest": packed}


def smoke(url: str, version: Version, verified: dict[str, str], client: httpx.Client) -> None:
    """The running version answers a prediction and serves the verified lineage and model."""
    model = {"tag": version.model_tag, "digest": verified["model_digest"]}
    problem = smoke_problem(url, version.lineage_id, model, client)
    if problem:
        raise DeployError(f"smoke check of {version.bento_tag} failed: {problem}")
