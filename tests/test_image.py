"""The image is real: release.yml, run by act on a push to main, builds the bento's OCI
image with buildah (no Docker daemon here), pushes it by digest, and opens the staging
promotion; the image serves, its digest is the registry's, and the promotion pins it.

One release for the module (minutes): the fixture runs the workflow and starts the
image once; each test reads one fact from that. See tests/containers.py for how the
engines, the base image and the registry are set up on this machine, and
act/harness.py for how act plays GitHub.

The push changes the base image setting (bentofile.yaml, a path release.yml
watches), as a team moving to its own base would: the gate stage rebuilds the
bento, nothing trains. The registry is the one on loopback (IMAGE_REGISTRY); a
secret in the runner's environment reaches the build, and the image must not
keep it.
"""

import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from act.harness import ActRun, GitHubRepo, git, run_act, triggered
from conftest import CACHE, REPO, Project, free_port, wait_until_answering
from containers import PACKAGES, Engines, Registry, base_image, missing_tools

pytestmark = pytest.mark.slow

BASE = "localhost/python:3.11-slim"
# The host's own CAs (where it trusts one for the package index): the build may
# use them, the image must not keep them.
HOST_EXTRA_CAS = sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt"))
HOST_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass
class Released:
    run: ActRun  # release.yml on the push
    repo: GitHubRepo
    pull: dict[str, Any]  # the staging promotion pull request
    checkout: Project  # the promotion branch, checked out
    engines: Engines
    registry: Registry
    manifest: dict[str, Any]  # deploy/staging.yaml, as the promotion proposes it
    reference: str  # registry:tag, as built and pushed
    url: str  # where the running container answers
    container: str
    runner_secret: str  # in the environment the image was built in
    timings: dict[str, float]


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engines]:
    missing = missing_tools()
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: apt-get install {' '.join(PACKAGES)} "
                    "(.ci/run installs them)")
    engines = Engines(tmp_path_factory.mktemp("engines"))
    # The build reaches the package index the way this host does: with its CA
    # bundle, mounted for the build's steps only, and uv told to use it.
    uv_config = engines.root / "uv.toml"
    uv_config.write_text("native-tls = true\n")
    engines.build_volumes(f"{HOST_BUNDLE}:/etc/ssl/certs/ca-certificates.crt:ro",
                          f"{uv_config}:/etc/uv/uv.toml:ro")
    yield engines
    engines.clean()


def run_container(engines: Engines, reference: str) -> tuple[str, str, float]:
    """Start the image; return the container, its URL and the seconds until /readyz."""
    port = free_port()
    started = time.monotonic()
    container = engines.run("podman", "run", "--detach", "--publish",
                            f"127.0.0.1:{port}:3000", reference).strip()
    url = f"http://127.0.0.1:{port}"
    log = engines.root / "container.log"
    with log.open("w") as out:  # the child keeps its own copy
        logs = subprocess.Popen(["podman", "logs", "--follow", container], env=engines.env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_answering(f"{url}/readyz", logs, log, timeout=120)
        ready = time.monotonic() - started
    finally:
        logs.terminate()
        logs.wait(timeout=10)
    return container, url, ready


# The release job's step that runs `make image` (release.yml).
IMAGE_STEP = "Containerize and push the image by digest"
# act prints each step's time in Go's notation: `[2m3.5s]`, `[850.1ms]`.
STEP_TIME = re.compile(r"(\d+(?:\.\d+)?)(h|ms|µs|m|s)")
UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "µs": 1e-6}


def step_seconds(run: ActRun, job: str, step: str) -> float:
    """How long act says a succeeded step took."""
    [line] = [text for text in run.lines(job) if f"Success - Main {step} [" in text]
    spent = line.rsplit("[", 1)[1].rstrip("]")
    return sum(float(number) * UNIT_SECONDS[unit] for number, unit in STEP_TIME.findall(spent))


def push_a_new_base_image(repo: GitHubRepo, base: str) -> dict[str, Any]:
    """Commit and push to main the bentofile's base image setting pointed at `base`;
    return the push event."""
    before = repo.head()
    repo.edit("bentofile.yaml", 'base_image: "python:3.11-slim"', f'base_image: "{base}"')
    after = repo.commit(f"Build the image from {base}", "bentofile.yaml")
    repo.push("main")
    release = repo.work / ".github/workflows/release.yml"
    assert triggered(release, "push", "main", repo.changed(before, after))
    return repo.push_event(before, after)


def check_out_promotion(repo: GitHubRepo, run: ActRun, venv: Path) -> tuple[dict, Project]:
    """The one promotion pull request the run opened, and its branch checked out."""
    [pull] = run.gh_state()["pulls"]
    git(repo.work, "fetch", "--quiet", str(repo.origin), pull["head"])
    git(repo.work, "switch", "--quiet", "--detach", "FETCH_HEAD")
    return pull, Project(repo.work, venv, repo.work.parent / "unused-remote")


@pytest.fixture(scope="module")
def released(seed: Path, engines: Engines, act_venv: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Released]:
    """release.yml on a push to main, then the image it pushed run: once for the module."""
    root = tmp_path_factory.mktemp("image")
    repo = GitHubRepo.from_bare(seed, root / "github", REPO)
    event = push_a_new_base_image(repo, BASE)
    timings = {"base load": base_image(CACHE, engines, BASE)}
    with Registry(root / "registry", free_port()) as registry:
        engines.insecure(registry.address)
        runner_secret = f"runner-secret-{secrets.token_hex(8)}"
        started = time.monotonic()
        run = run_act(
            repo, "push", event, "release.yml", act_venv, root / "standins",
            # A secret in the runner's environment, which the build inherits: the image
            # must not keep it. (No token: the registry on loopback wants no login, and
            # buildah's login does not speak plain HTTP.)
            extra_env={**engines.config, "CONTAINER_BACKEND": "buildah",
                       "IMAGE_REGISTRY": f"{registry.address}/sample-classifier",
                       "RUNNER_SECRET": runner_secret})
        timings["release"] = time.monotonic() - started
        assert run.returncode == 0, run.explain()
        timings["make image"] = step_seconds(run, "build", IMAGE_STEP)
        engines.build_volumes()  # the host's CA was for the build only
        pull, checkout = check_out_promotion(repo, run, act_venv)
        manifest = yaml.safe_load((checkout.path / "deploy/staging.yaml").read_text())
        version = manifest["current"]["bento_tag"].split(":")[1]
        reference = f"{registry.address}/sample-classifier:{version}"
        container, url, timings["run to ready"] = run_container(engines, reference)
        timings["size MB"] = int(engines.run("podman", "image", "inspect", "--format",
                                             "{{.Size}}", reference)) / 1e6
        report = os.environ.get("IMAGE_BENCH_JSON")  # benchmarks/bench_image.py reads it
        if report:
            Path(report).write_text(json.dumps(timings, indent=2))
        yield Released(run, repo, pull, checkout, engines, registry, manifest, reference, url,
                       container, runner_secret, timings)
        engines.run("podman", "rm", "--force", container)


def test_the_release_rebuilt_the_gates_and_trained_nothing(released: Released):
    build = released.run.log("build")
    assert "Running stage 'gate'" in build  # the bentofile changed: the bento is rebuilt
    assert "Running stage 'train'" not in build  # the model came from the remote
    assert "Success - Main Push DVC outputs and run cache" in build
    assert f"Success - Main {IMAGE_STEP}" in build
    assert released.run.result("promote") == "succeeded", released.run.explain()


def test_the_promotion_changes_only_staging_and_names_the_pushed_image(released: Released):
    repo, pull, manifest = released.repo, released.pull, released.manifest
    assert pull["base"] == "main"
    assert pull["head"] == f"promote/staging-{manifest['current']['lineage_id']}"
    assert repo.origin_head("main") == repo.head("main")  # nothing was written on main
    changed = git(repo.origin, "diff", "--name-only", "main", pull["head"]).splitlines()
    # The manifest, the lineage of what it deploys, its rendered Kubernetes objects: nothing else.
    assert {"deploy/staging.yaml", "deploy/lineage/staging.json"} <= set(changed)
    own = ("deploy/staging.yaml", "deploy/lineage/staging.json", "deploy/k8s/staging/")
    assert [path for path in changed if not path.startswith(own)] == []
    assert manifest["environment"] == "staging"
    digest = manifest["current"]["image"].split("@")[1]
    assert manifest["current"]["lineage_id"] in pull["body"] and digest in pull["body"]


def test_the_image_serves_the_smoke_request_and_refuses_a_bad_one(released: Released):
    # The project's own smoke check of a deployed service: it answers, and serves
    # the lineage deploy/staging.yaml names.
    smoke = released.checkout.cli("smoke-deployed", "staging", "--url", released.url)
    assert released.manifest["current"]["lineage_id"] in smoke.stdout
    contract = yaml.safe_load(
        (released.checkout.path / "src/sample_classifier/contract.yaml").read_text())
    record = {name: (b["min"] + b["max"]) / 2 for name, b in contract["features"].items()}
    bad = httpx.post(f"{released.url}/predict", trust_env=False, timeout=10,
                     json={"records": [{**record, "mean_radius": "12.5"}]})
    assert bad.status_code == 400, bad.text
    assert "float_type" in bad.text


def test_the_manifest_pins_the_digest_the_registry_serves(released: Released):
    image = released.manifest["current"]["image"]
    repository, digest = image.split("@")
    assert repository == released.reference.rsplit(":", 1)[0]
    served = registry_digest(released.engines, image)
    assert served == digest
    # The tag the release pushed names the same manifest: nothing was pushed after it.
    tagged = registry_digest(released.engines, released.reference)
    assert tagged == digest


def registry_digest(engines: Engines, reference: str) -> str:
    """The digest the registry serves for `reference` (plain HTTP: it is on loopback;
    skopeo does not read the insecure mark of the test's registries.conf)."""
    inspect = ["inspect", "--tls-verify=false", "--format", "{{.Digest}}"]
    return engines.run("skopeo", *inspect, f"docker://{reference}").strip()


def test_the_kubernetes_objects_run_the_pushed_digest(released: Released):
    rendered = released.checkout.path / "deploy/k8s/staging"
    images = set()
    for path in sorted(rendered.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            images |= set(container_images(document))
    assert images == {released.manifest["current"]["image"]}, sorted(rendered.iterdir())


def container_images(node: Any) -> Iterator[str]:
    """Every `image:` of a container in a Kubernetes object."""
    if isinstance(node, dict):
        if "image" in node and "name" in node and isinstance(node["image"], str):
            yield node["image"]
        for value in node.values():
            yield from container_images(value)
    elif isinstance(node, list):
        for item in node:
            yield from container_images(item)


def test_the_service_runs_as_a_non_root_user_and_sends_no_telemetry(released: Released):
    config = yaml.safe_load(released.engines.run(
        "podman", "image", "inspect", "--format", "{{json .Config}}", released.reference))
    assert config["User"] not in ("", "root", "0"), config
    assert "BENTOML_DO_NOT_TRACK=true" in config["Env"]
    status = released.engines.run("podman", "exec", released.container, "cat", "/proc/1/status")
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
    assert "0" not in uids, status


def test_the_image_keeps_no_build_tools_no_test_ca_and_no_credentials(released: Released):
    mount = Path(released.engines.run("podman", "image", "mount", released.reference).strip())
    try:
        for tool in ("usr/bin/gcc", "usr/bin/cc", "usr/bin/make", "usr/bin/git", "usr/bin/gpg",
                     "usr/local/bin/uv", "usr/bin/uv", "root/.cache/uv"):
            assert not (mount / tool).exists(), f"{tool} is left in the image"
        secrets_to_find = [released.runner_secret, *(ca_body(ca) for ca in HOST_EXTRA_CAS)]
        found = grep_files(mount, secrets_to_find)
        assert found == "", f"found in the image:\n{found}"
    finally:
        released.engines.run("podman", "image", "unmount", released.reference)


def ca_body(certificate: Path) -> str:
    """A line from the middle of the certificate's base64: in any bundle that holds it."""
    lines = [line for line in certificate.read_text().splitlines() if "-----" not in line]
    return lines[len(lines) // 2]


def grep_files(root: Path, needles: list[str]) -> str:
    """The files under `root` holding any of `needles` (grep: fast on a 1 GB tree)."""
    patterns = [argument for needle in needles for argument in ("-e", needle)]
    result = subprocess.run(["grep", "-rlF", "--no-messages", *patterns, str(root)],
                            capture_output=True, text=True, check=False)
    assert result.returncode in (0, 1), result.stderr
    return result.stdout


def test_the_scan_finds_what_it_looks_for(tmp_path: Path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "auth.json").write_text('{"auth": "registry-token-0123"}')
    (tmp_path / "clean").write_text("nothing here")
    assert grep_files(tmp_path, ["registry-token-0123", "absent"]).split() == [
        str(tmp_path / "etc" / "auth.json")]
