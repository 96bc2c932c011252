"""The `s3` DVC remote, against an S3-compatible server on 127.0.0.1.

The server is moto in server mode, from its own venv (`make test` installs it):
this module starts it on a free port, waits until it answers, and stops it in
the fixture's teardown. Nothing leaves the loopback interface: the AWS
variables point every client at it and keep it away from the machine's own
AWS configuration.
"""

import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import (
    RAW,
    TEMPLATE,
    Project,
    bake,
    clone_and_reproduce,
    free_port,
    lineage,
    output,
    pinned_md5,
    run,
    wait_until_answering,
)

pytestmark = pytest.mark.slow

MOTO_SERVER = TEMPLATE / ".cache" / "moto-venv" / "bin" / "moto_server"
BUCKET = "dvc-store"
PREFIX = "sample-classifier"
S3_NS = {"s3": "http://s3.amazonaws.com/doc/2006-03-01/"}
# urllib must not route 127.0.0.1 through a proxy the machine may have configured.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- the server -----------------------------------------------------------------------


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@contextmanager
def s3_server(scratch: Path) -> Iterator[str]:
    """An S3-compatible server on 127.0.0.1 holding an empty bucket; stopped afterwards."""
    if not MOTO_SERVER.exists():
        pytest.fail(f"{MOTO_SERVER} is missing: run `make .cache/moto-venv/.installed`")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = scratch / "moto_server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answering(f"{endpoint}/", server, log, timeout=60)
        # moto does not check signatures: an unsigned PUT creates the bucket.
        create_bucket = urllib.request.Request(f"{endpoint}/{BUCKET}", data=b"", method="PUT")
        DIRECT.open(create_bucket, timeout=10)
        yield endpoint
    finally:
        stop(server)


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with s3_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


def bucket_keys(endpoint: str) -> list[str]:
    """Every object key under the project's prefix (ListObjectsV2, one page is plenty)."""
    url = f"{endpoint}/{BUCKET}?list-type=2&max-keys=1000&prefix={PREFIX}/"
    with DIRECT.open(url, timeout=10) as response:
        listing = ET.fromstring(response.read())
    assert listing.findtext("s3:IsTruncated", namespaces=S3_NS) == "false"
    return [key.text for key in listing.iterfind("s3:Contents/s3:Key", S3_NS)]


def holds(keys: list[str], md5: str) -> bool:
    """DVC 3 stores an object at <prefix>/files/md5/<first 2 hex>/<the other 30>."""
    return f"{PREFIX}/files/md5/{md5[:2]}/{md5[2:]}" in keys


# --- projects that talk to it ---------------------------------------------------------


def s3_project(path: Path, venv: Path, scratch: Path, endpoint: str) -> Project:
    """A baked project whose DVC and boto clients reach only the test server."""
    project = Project(path, venv, scratch)  # the local-remote folder stays unused
    nowhere = str(scratch / "no-aws-config")
    project.extra_env = {
        "DVC_S3_ENDPOINT_URL": endpoint,  # bootstrap.py writes it to .dvc/config.local
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        # Never the machine's own profiles, and never the instance metadata service.
        "AWS_CONFIG_FILE": nowhere,
        "AWS_SHARED_CREDENTIALS_FILE": nowhere,
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return project


def locked_out_md5(project: Project, stage: str, path: str) -> str:
    outs = yaml.safe_load((project.path / "dvc.lock").read_text())["stages"][stage]["outs"]
    return next(out["md5"] for out in outs if out["path"] == path)


@dataclass
class S3Story:
    endpoint: str
    origin: Project
    setup: subprocess.CompletedProcess
    keys_after_setup: list[str]
    keys_after_push: list[str]
    clone: Project
    clone_setup: subprocess.CompletedProcess
    clone_repro: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def story(
    tmp_path_factory: pytest.TempPathFactory, project_venv: Path, s3_endpoint: str,
    trained_project: Project,
) -> S3Story:
    """Bake with the s3 remote, set up, train, push; then clone, set up, pull, reproduce.

    Up to `evaluate` (model, lineage, metrics): the gate stage adds nothing the remote
    does differently, and the gates are proven in test_gates.py. Training is proven
    elsewhere too: the session's trained project lends its DVC cache, run cache
    included, so `dvc repro` restores the same stages' outputs instead of running them.
    """
    root = tmp_path_factory.mktemp("s3")
    answers = {"dvc_remote": "s3", "s3_remote_url": f"s3://{BUCKET}/{PREFIX}"}
    origin = s3_project(bake(root / "bake", **answers), project_venv, root / "unused", s3_endpoint)
    setup = origin.make("setup")
    keys_after_setup = bucket_keys(s3_endpoint)
    shutil.copytree(trained_project.path / ".dvc" / "cache", origin.path / ".dvc" / "cache",
                    dirs_exist_ok=True)
    origin.dvc("repro", "evaluate")
    origin.commit_all("Train the first model")
    origin.dvc("push")
    keys_after_push = bucket_keys(s3_endpoint)

    clone = clone_and_reproduce(origin, root / "clone", "evaluate")
    return S3Story(
        s3_endpoint,
        origin,
        setup,
        keys_after_setup,
        keys_after_push,
        clone.project,
        clone.setup,
        clone.repro,
    )


def test_setup_pushes_the_pinned_sample_to_the_bucket(story: S3Story) -> None:
    assert "wrote the bundled sample data" in output(story.setup)
    assert holds(story.keys_after_setup, pinned_md5(story.origin))


def test_remote_is_committed_and_endpoint_stays_local(story: S3Story) -> None:
    config = (story.origin.path / ".dvc" / "config").read_text()
    assert f"url = s3://{BUCKET}/{PREFIX}" in config
    assert story.endpoint not in config  # machine-local: never committed
    for project in (story.origin, story.clone):
        local = (project.path / ".dvc" / "config.local").read_text()
        assert f"endpointurl = {story.endpoint}" in local


def test_push_stores_the_model_and_features_in_the_bucket(story: S3Story) -> None:
    model = locked_out_md5(story.origin, "train", "models/model.joblib")
    features = locked_out_md5(story.origin, "featurize", "data/features")
    assert holds(story.keys_after_push, model)
    assert holds(story.keys_after_push, features)  # the directory's manifest (.dir)
    assert len(story.keys_after_push) > len(story.keys_after_setup)


def test_clone_setup_pulls_the_pinned_data_from_s3(story: S3Story) -> None:
    assert "pulled the pinned data" in output(story.clone_setup)
    assert "wrote the bundled sample data" not in output(story.clone_setup)
    pulled = story.clone.path / RAW
    assert pulled.is_file()
    assert pinned_md5(story.clone) == pinned_md5(story.origin)


def test_clone_reproduces_the_same_model_without_training(story: S3Story) -> None:
    assert not re.search(r"^Running stage", output(story.clone_repro), re.MULTILINE)
    digest = lineage(story.origin)["model"]["digest"]
    assert lineage(story.clone)["model"]["digest"] == digest
    tag = lineage(story.origin)["model"]["tag"]
    shown = json.loads(story.clone.cli("lineage", "--json").stdout)
    assert shown["model"]["tag"] == tag


# --- the prediction log, shipped to the bucket and read from it ----------------------

# Run in the project's venv, as a pod's server would: the service's log writer, with
# the log store the Kubernetes objects set for production, writes two processes'
# files (one left by an hour before, one refused request, one line cut short, one
# row of another version); closing ships them to the bucket; the monitor's reader
# reads the same window from the bucket and from the folder.
SHIP_AND_READ = """
import json, sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from {package}.deploy.targets.kubernetes_objects import container_env
from {package}.monitor.log_reader import read_window
from {package}.monitor.log_shipper import Shipper
from {package}.monitor.log_writer import HOUR_FORMAT, PredictionLog, file_name

local = Path(sys.argv[1])
local.mkdir(parents=True)
store = container_env("production")["PREDICTION_LOG_SHIP_TO"]
features = {{"width": "float64", "colour": "str"}}
hour_before = (datetime.now(UTC) - timedelta(hours=1)).strftime(HOUR_FORMAT)
earlier = local / file_name(hour_before, "v2").replace(".csv", "-0.csv")
earlier.write_text("id,time,lineage_id,environment,status,reason,width,colour,probability,label\\n")
log = PredictionLog(local, "v2", "production", list(features), Shipper(local, store, grace=0))
log.predictions(["a1", "a2"], [{{"width": 1.5, "colour": "red"}}, {{"width": 2.5}}], [0.2, 0.9], [0, 1])
log.refused("a3", "width: input should be a number")
log.predictions(["a4"], [{{"width": 3.5, "colour": "blue, dark"}}], [0.6], [1])
with log.handle as handle:
    handle.write("a5,2026-")  # a crash mid-line
log.handle = open(handle.name, "a")
old = PredictionLog(local, "v1", "production", list(features))
old.predictions(["c1"], [{{"width": 9.0, "colour": "red"}}], [0.5], [1])
old.close()
log.close()  # the server stops: its file, and every closed one, go to the store
Shipper(local, store, grace=0).ship(None)  # another process's round: the v1 file
now = datetime.now(UTC)
read = {{"store": store}}
for where, source in (("folder", str(local)), ("bucket", store)):
    window = read_window(source, features, "v2", now - timedelta(hours=2), now + timedelta(hours=1))
    inputs = window.inputs.sort_values("width")
    read[where] = {{
        "ids": sorted(window.ids), "inputs": inputs.astype(object).where(inputs.notna(), None).to_dict("list"),
        "refused": dict(window.refused), "other_versions": dict(window.other_versions),
        "corrupt_lines": window.corrupt_lines, "files": window.files,
    }}
print(json.dumps(read))
"""


def test_pods_ship_the_prediction_log_to_the_bucket_and_the_monitor_reads_it(
    story: S3Story,
) -> None:
    project = story.origin
    script = project.path.parent / "ship_and_read.py"
    script.write_text(SHIP_AND_READ.format(package=project.package))
    env = {**project.env, "AWS_ENDPOINT_URL": story.endpoint}
    result = run([str(project.venv / "bin" / "python"), str(script), str(project.path.parent /
                  "pod-logs")], project.path, env)  # fmt: skip
    read = json.loads(result.stdout)
    # The DVC remote's bucket, beside the DVC objects, one prefix per environment.
    assert read["store"] == f"s3://{BUCKET}/predictions/{PREFIX}/production"
    assert read["bucket"] == read["folder"]
    assert read["bucket"]["ids"] == ["a1", "a2", "a4"]
    assert read["bucket"]["inputs"]["colour"] == ["red", None, "blue, dark"]
    assert read["bucket"]["refused"] == {"width: input should be a number": 1}
    assert read["bucket"]["corrupt_lines"] == 1
    assert read["bucket"]["other_versions"] == {"v1": 1}
    assert read["bucket"]["files"] == 3
