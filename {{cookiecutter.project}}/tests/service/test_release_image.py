"""`make image` on this trained project, with buildah recorded instead of run.

The real build, run and push are the template's image test; here, what the
release hands the engine (the bento's own build context, with its model) and
what it keeps from it (the digest the push reported, the model's lineage).
"""

import json
from pathlib import Path

import pytest

from {{ cookiecutter.package }}.config import Paths
from {{ cookiecutter.package }}.files import read_json, write_json
from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.release.image import release_image

pytestmark = pytest.mark.slow

DIGEST = "sha256:" + "cd" * 32

# A buildah that keeps each call, the build context's file list and Dockerfile,
# and writes the registry's digest where `push --digestfile FILE` asks.
RECORDING_BUILDAH = """
import json, os, sys
from pathlib import Path
args, kept = sys.argv[1:], Path({kept!r})
with open(kept / "calls", "a") as calls:
    calls.write(json.dumps(args) + "\\n")
if args[0] == "build":
    context = Path(args[-1])
    files = sorted(str(f.relative_to(context)) for f in context.rglob("*") if f.is_file())
    (kept / "context").write_text("\\n".join(files))
    (kept / "Dockerfile").write_text(Path(args[args.index("--file") + 1]).read_text())
if args[0] == "push":
    Path(args[args.index("--digestfile") + 1]).write_text({digest!r} + "\\n")
"""


@pytest.fixture
def buildah(tmp_path: Path, stand_in, stand_in_shebang: str) -> Path:
    """The recording buildah first on PATH; returns the folder it keeps its calls in."""
    kept = tmp_path / "buildah"
    kept.mkdir()
    tool = stand_in("buildah").log.with_name("buildah")
    tool.write_text(stand_in_shebang + RECORDING_BUILDAH.format(kept=str(kept), digest=DIGEST))
    return kept


def scratch_reports(project: Paths, tmp_path: Path, passed: bool) -> Paths:
    """The project with its reports in a scratch folder, holding a gate report of its
    lineage as the gate stage writes it (`make model` runs no gates)."""
    p = Paths(project.root)
    p.reports_dir = tmp_path / "reports"
    p.reports_dir.mkdir()
    gates = [{"name": "baseline", "passed": passed}, {"name": "parity", "passed": True}]
    report = {"lineage_id": read_json(p.lineage)["lineage_id"], "passed": passed,
              "mode": "enforce", "gates": gates}  # fmt: skip
    write_json(report, p.reports_dir / "gate.json")
    return p


@pytest.fixture
def release(project: Paths, bento_tag: str, buildah: Path, tmp_path: Path) -> dict:
    """The release record of this project's bento; its reports go to a scratch folder."""
    p = scratch_reports(project, tmp_path, passed=True)
    return release_image(p, "buildah", "Registry.Example.com/Team/Model")


def test_a_model_whose_gates_failed_is_never_built(project, buildah, tmp_path):
    p = scratch_reports(project, tmp_path, passed=False)
    with pytest.raises(ReleaseError, match="failed its gates in enforce mode \\(baseline\\)"):
        release_image(p, "buildah", "registry.example.com/team/model")
    assert not (buildah / "calls").exists()
    assert not (p.reports_dir / "release.json").exists()


def calls(kept: Path) -> list[list[str]]:
    return [json.loads(line) for line in (kept / "calls").read_text().splitlines()]


def test_the_image_is_named_by_the_digest_its_push_reported(release, bento_tag, buildah):
    version = bento_tag.split(":")[1]
    reference = f"registry.example.com/team/model:{version}"
    build, push = calls(buildah)
    assert build[:4] == ["build", "--squash", "--tag", reference]
    assert push[0] == "push" and push[-1] == reference
    assert release["image"] == f"registry.example.com/team/model@{DIGEST}"
    assert release["bento_tag"] == bento_tag


def test_the_engine_builds_the_bento_with_its_model_inside(release, project, buildah):
    model_tag = read_json(project.lineage)["model"]["tag"]
    name, version = model_tag.split(":")
    context = (buildah / "context").read_text().splitlines()
    assert any(f"models/{name}/{version}/" in path for path in context), context
    assert "FROM " in (buildah / "Dockerfile").read_text()


def test_the_record_carries_the_lineage_and_is_written_for_the_promotion(
    release, project, tmp_path
):
    lineage = read_json(project.lineage)
    assert release["lineage"] == lineage
    assert release["lineage_id"] == lineage["lineage_id"]
    assert release["gates"] == {"passed": True, "mode": "enforce", "failed": []}
    assert release["model_tag"] == lineage["model"]["tag"]
    assert read_json(tmp_path / "reports" / "release.json") == release
