"""Deployment manifests: `deploy/<env>.yaml`, the source of truth for what serves where.

A manifest that does not validate never reaches a deploy: every reader goes
through `load_manifest`, which fails with the file name and the reason.
"""

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from {{ cookiecutter.package }}.config import (
    ENVIRONMENTS,
    Environment,
    ProjectFileError,
    RiskTier,
    yaml_problem,
)

TAG = r"^[a-z0-9][a-z0-9_.-]*:[a-z0-9][a-z0-9_.-]*$"
DIGEST = r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$"


class ManifestError(ProjectFileError):
    """A manifest file is missing fields, malformed, or not YAML."""


class Strict(BaseModel):
    # NaN or infinite metrics would make every comparison with them false: refuse them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Version(Strict):
    """One deployable version: a bento, the model in it and its lineage."""

    bento_tag: str = Field(pattern=TAG)
    model_tag: str = Field(pattern=TAG)
    lineage_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    image: str | None = Field(default=None, pattern=DIGEST, description="image@sha256:digest")
    metrics: dict[str, float] = Field(default_factory=dict)


class Traffic(Strict):
    """Share of requests per version, in percent."""

    stable: int = Field(default=100, ge=0, le=100)
    canary: int = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def adds_up(self) -> "Traffic":
        if self.stable + self.canary != 100:
            total = self.stable + self.canary
            raise ValueError(f"traffic stable + canary must be 100, got {total}")
        return self


class Manifest(Strict):
    environment: Environment
    risk_tier: RiskTier
    current: Version
    previous: Version | None = Field(default=None, description="kept warm for rollback")
    traffic: Traffic = Traffic()

    @model_validator(mode="after")
    def canary_needs_high_risk_and_previous(self) -> "Manifest":
        if self.traffic.canary and self.risk_tier != "high":
            raise ValueError("a canary share is only used for risk_tier high")
        if self.traffic.canary and self.previous is None:
            raise ValueError("a canary share needs a previous version to compare with")
        return self


def parse_manifest(text: str, source: str) -> Manifest:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ManifestError(f"{source} is not valid YAML: {yaml_problem(error)}") from None
    try:
        return Manifest.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'manifest'}: {e['msg']}" for e in error.errors()
        )
        raise ManifestError(f"{source} is not a valid manifest: {problems}") from None


def load_manifest(path: Path) -> Manifest:
    """The manifest in `path`; its file name, if an environment's, must match its contents."""
    if not path.exists():
        raise ManifestError(f"{path} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path} cannot be read: {error}") from None
    manifest = parse_manifest(text, str(path))
    if path.stem in ENVIRONMENTS and manifest.environment != path.stem:
        raise ManifestError(
            f"{path} is not a valid manifest: environment: {manifest.environment!r} "
            f"in the {path.stem} manifest"
        )
    return manifest


def load_optional_manifest(path: Path) -> Manifest | None:
    """None when nothing is deployed there yet; an error when the file is broken."""
    return load_manifest(path) if path.exists() else None


def dump_manifest(manifest: Manifest) -> str:
    return yaml.safe_dump(manifest.model_dump(mode="json", exclude_none=True), sort_keys=False)


def check_files(paths: list[Path]) -> list[str]:
    """Every problem in these manifest files (empty: all valid)."""
    problems = []
    for path in paths:
        try:
            load_manifest(path)
        except ManifestError as error:
            problems.append(str(error))
    return problems


def main(argv: list[str]) -> int:
    """Validate manifest files: `python -m <package>.deploy.manifest deploy/*.yaml`.

    The pre-commit hook runs it with `src` on PYTHONPATH in pre-commit's own
    environment (pydantic and PyYAML only), without installing the project:
    this module and config.py import nothing else.
    """
    problems = check_files([Path(arg) for arg in argv])
    for problem in problems:
        print(f"ERROR: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
