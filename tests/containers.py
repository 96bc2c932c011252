"""Real OCI images in the tests, with no Docker daemon and no registry to pull from.

- Storage: buildah, podman and skopeo share one storage of the test's own
  (CONTAINERS_STORAGE_CONF: overlay driver, its graph and run roots in a temp
  directory), never the machine's global one; `Engines.clean` removes it.
- The base image: the official Python image cannot be pulled here, so one is
  made the way it is made, from Debian (debootstrap minbase + python3), and
  cached as an oci-archive under the test cache (its .debs too), so only the
  first run builds it; later runs load it in seconds.
- Running: podman with runc, cgroupfs and a file events log, the settings this
  kind of machine (a container without systemd, hybrid cgroups) needs, in a
  containers.conf of the test's own (CONTAINERS_CONF).
- A registry: Debian's `docker-registry` on 127.0.0.1, plain HTTP, which the
  test's registries.conf marks insecure; started by the test, stopped by it.
"""

import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import httpx

# apt packages the tests need; .ci/run installs the same list.
PACKAGES = ("debootstrap", "buildah", "podman", "runc", "skopeo", "docker-registry")
TOOLS = ("debootstrap", "buildah", "podman", "runc", "skopeo", "docker-registry")
SUITE = "bookworm"  # its python3 is 3.11, the template's default Python
# What the official slim image has and minbase lacks (passwd: groupadd/useradd).
BASE_PACKAGES = "python3,python3-venv,python3-pip,ca-certificates,passwd"
BASE_RECIPE = "1"  # bump when the recipe changes: the cached archive is rebuilt


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def host_debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (deb822 or one-line sources)."""
    sources = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]
    for source in sources:
        text = source.read_text() if source.is_file() else ""
        for mirror in re.findall(r"^(?:URIs:\s*|deb\s+(?:\[[^]]*\]\s+)?)(\S+)", text, re.MULTILINE):
            if mirror.rstrip("/").endswith("/debian"):
                return mirror
    return "http://deb.debian.org/debian"


def sh(*command: str, env: dict[str, str] | None = None, timeout: float = 600,
       stdin: str | None = None) -> str:
    """Run a command; on failure the assertion carries its whole output."""
    result = subprocess.run(command, env=env, input=stdin, capture_output=True, text=True,
                            timeout=timeout, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result.stdout


@dataclass
class Engines:
    """buildah, podman and skopeo pointed at one storage and config of the test's own."""

    root: Path

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "storage.conf").write_text(
            "[storage]\n"
            'driver = "overlay"\n'
            f'graphroot = "{self.root / "graph"}"\n'
            f'runroot = "{self.root / "run"}"\n'
        )
        self.write_containers_conf()
        self.registries = self.root / "registries.conf"
        self.registries.write_text('unqualified-search-registries = []\n')
        # REGISTRY_AUTH_FILE must name a file that exists: buildah push stats it.
        (self.root / "auth.json").write_text('{"auths": {}}\n')

    @property
    def config(self) -> dict[str, str]:
        """The variables that point every tool at this storage and config (and keep
        registry logins out of the machine's own auth file)."""
        return {
            "CONTAINERS_STORAGE_CONF": str(self.root / "storage.conf"),
            "CONTAINERS_CONF": str(self.root / "containers.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(self.registries),
            "REGISTRY_AUTH_FILE": str(self.root / "auth.json"),
        }

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **self.config, "BUILDAH_ISOLATION": "chroot"}

    def write_containers_conf(self, volumes: tuple[str, ...] = ()) -> None:
        nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 65536)
        nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 4096)
        (self.root / "containers.conf").write_text(
            "[containers]\n"
            f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
            f"volumes = {json.dumps(list(volumes))}\n"
            "[engine]\n"
            'runtime = "runc"\n'  # crun fails on hybrid cgroups here
            'cgroup_manager = "cgroupfs"\n'  # no systemd
            'events_logger = "file"\n'
            f'tmp_dir = "{self.root / "tmp"}"\n'
        )

    def build_volumes(self, *volumes: str) -> None:
        """Mount these (host:container[:options]) into every build step; never committed."""
        self.write_containers_conf(volumes)

    def insecure(self, registry: str) -> None:
        """Let the tools talk plain HTTP to this registry (loopback only)."""
        with self.registries.open("a") as conf:
            conf.write(f'\n[[registry]]\nlocation = "{registry}"\ninsecure = true\n')

    def run(self, tool: str, *args: str, timeout: float = 600) -> str:
        return sh(tool, *args, env=self.env, timeout=timeout)

    def clean(self) -> None:
        """Remove every container, then the whole storage."""
        for tool, args in (("podman", ("rm", "--all", "--force")), ("buildah", ("rm", "--all"))):
            subprocess.run([tool, *args], env=self.env, capture_output=True, check=False)
        subprocess.run(["podman", "system", "reset", "--force"], env=self.env,
                       capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def build_base_archive(archive: Path, debs: Path) -> None:
    """A python:3.11-slim stand-in from Debian, saved as an oci-archive at `archive`."""
    debs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=archive.parent) as scratch:
        rootfs = Path(scratch) / "rootfs"
        sh("debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}",
           f"--cache-dir={debs.resolve()}", SUITE, str(rootfs), host_debian_mirror(),
           timeout=900)
        # Debian marks its Python externally managed; the official image does not,
        # and BentoML's Dockerfile pip-installs into it.
        for leftover in rootfs.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            leftover.unlink()
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            shutil.rmtree(rootfs / cache, ignore_errors=True)
            (rootfs / cache / "partial").mkdir(parents=True)
        tarball = Path(scratch) / "rootfs.tar"
        sh("tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tarball), ".")
        engines = Engines(Path(scratch) / "engines")
        try:
            engines.run("podman", "import", "--change", 'CMD ["python3"]', str(tarball),
                        "localhost/python-base:import")
            engines.run("skopeo", "copy", "--quiet",
                        "containers-storage:localhost/python-base:import",
                        f"oci-archive:{archive}.partial")
        finally:
            engines.clean()
    os.replace(f"{archive}.partial", archive)


def base_image(cache: Path, engines: Engines, name: str) -> float:
    """Load the cached base archive into `engines` as `name` (building it first when
    missing); return the seconds the load took."""
    archive = cache / f"python-base-{SUITE}-{BASE_RECIPE}.oci.tar"
    if not archive.exists():
        build_base_archive(archive, cache / "debs")
    started = time.monotonic()
    engines.run("skopeo", "copy", "--quiet", f"oci-archive:{archive}",
                f"containers-storage:{name}")
    return time.monotonic() - started


class Registry:
    """Debian's docker-registry on 127.0.0.1:<port>, storing under `root`; a context
    manager that stops it on exit."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.address = root, f"127.0.0.1:{port}"
        root.mkdir(parents=True, exist_ok=True)
        self.config = root / "config.yml"
        self.config.write_text(
            "version: 0.1\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            f"http:\n  addr: {self.address}\n"
            "log:\n  level: warn\n"
        )
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        with (self.root / "registry.log").open("w") as log:  # the child keeps its own copy
            self.process = subprocess.Popen(["docker-registry", "serve", str(self.config)],
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"docker-registry exited:\n{self.log()}")
            try:
                if httpx.get(f"http://{self.address}/v2/", timeout=1,
                             trust_env=False).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        self.__exit__()
        raise AssertionError(f"docker-registry never answered on {self.address}:\n{self.log()}")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        path = self.root / "registry.log"
        return path.read_text()[-3000:] if path.exists() else ""
