"""The image is real: `make image` builds the bento's OCI image with buildah (no Docker
daemon here), the image serves, its digest is the registry's, and promotion pins it.

One build for the module (minutes): the fixture builds, pushes, promotes and runs
the image once; each test reads one fact from that. See tests/containers.py for
how the engines, the base image and the registry are set up on this machine.
"""

import json
import os
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
from conftest import CACHE, Project, copy_project, free_port, wait_until_answering
from containers import PACKAGES, Engines, Registry, base_image, missing_tools

pytestmark = pytest.mark.slow

BASE = "localhost/python:3.11-slim"
# The host's own CAs (where it trusts one for the package index): the build may
# use them, the image must not keep them.
HOST_EXTRA_CAS = sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt"))
HOST_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass
class Released:
    project: Project
    engines: Engines
    registry: Registry
    manifest: dict[str, Any]
    reference: str  # registry:tag, as built and pushed
    url: str  # where the running container answers
    container: str
    password: str  # the registry password `make image` was given
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


def use_base_image(project: Project, base: str) -> None:
    """The bentofile's base image setting, pointed at `base` (the test's own)."""
    bentofile = project.path / "bentofile.yaml"
    text = bentofile.read_text()
    default = 'base_image: "python:3.11-slim"'
    assert default in text, f"the default base image setting is gone from {bentofile}"
    bentofile.write_text(text.replace(default, f'base_image: "{base}"'))
    project.commit_all(f"Build the image from {base}")


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


@pytest.fixture(scope="module")
def released(trained_project: Project, engines: Engines,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Released]:
    """Build with `make image`, promote to staging, run the image: once for the module."""
    root = tmp_path_factory.mktemp("image")
    project = copy_project(trained_project, root)
    use_base_image(project, BASE)
    timings = {"base load": base_image(CACHE, engines, BASE)}
    with Registry(root / "registry", free_port()) as registry:
        engines.insecure(registry.address)
        password = f"registry-token-{secrets.token_hex(8)}"
        project.extra_env.update({
            **engines.config,
            "IMAGE_REGISTRY": f"{registry.address}/sample-classifier",
            # A secret in the build's environment (the registry here needs no login,
            # so with no REGISTRY_USER none happens): the image must not keep it.
            "REGISTRY_PASSWORD": password,
        })
        started = time.monotonic()
        built = project.make("image")
        timings["make image"] = time.monotonic() - started
        # The build's steps, kept beside the test's files to read after a run.
        (root / "make-image.log").write_text(built.stdout + built.stderr)
        version = project.read_json("reports/release.json")["bento_tag"].split(":")[1]
        reference = f"{registry.address}/sample-classifier:{version}"
        assert built.stdout.strip().endswith(project.read_json("reports/release.json")["image"])
        engines.build_volumes()  # the host's CA was for the build only
        project.cli("promote", "staging")
        manifest = yaml.safe_load((project.path / "deploy/staging.yaml").read_text())
        container, url, timings["run to ready"] = run_container(engines, reference)
        timings["size MB"] = int(engines.run("podman", "image", "inspect", "--format",
                                             "{{.Size}}", reference)) / 1e6
        report = os.environ.get("IMAGE_BENCH_JSON")  # benchmarks/bench_image.py reads it
        if report:
            Path(report).write_text(json.dumps(timings, indent=2))
        yield Released(project, engines, registry, manifest, reference, url, container,
                       password, timings)
        engines.run("podman", "rm", "--force", container)


def test_the_image_serves_the_smoke_request_and_refuses_a_bad_one(released: Released):
    # The project's own smoke check of a deployed service: it answers, and serves
    # the lineage deploy/staging.yaml names.
    smoke = released.project.cli("smoke-deployed", "staging", "--url", released.url)
    assert released.manifest["current"]["lineage_id"] in smoke.stdout
    contract = yaml.safe_load(
        (released.project.path / "src/sample_classifier/contract.yaml").read_text())
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
    # A local listing's digest is not the registry's: the release must not use it.
    assert released.project.read_json("reports/release.json")["image"] == image


def registry_digest(engines: Engines, reference: str) -> str:
    """The digest the registry serves for `reference` (plain HTTP: it is on loopback;
    skopeo does not read the insecure mark of the test's registries.conf)."""
    inspect = ["inspect", "--tls-verify=false", "--format", "{{.Digest}}"]
    return engines.run("skopeo", *inspect, f"docker://{reference}").strip()


def test_the_kubernetes_objects_run_the_pushed_digest(released: Released):
    rendered = released.project.path / "deploy/k8s/staging"
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
        secrets_to_find = [released.password, *(ca_body(ca) for ca in HOST_EXTRA_CAS)]
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
