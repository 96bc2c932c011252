"""The image: build time, size, and time from `podman run` to ready.

Runs the image test (tests/test_image.py), which bakes the default project,
trains it, loads the cached base image, runs release.yml under act on a push to
main (its `make image`: buildah build and push by digest to a registry on
127.0.0.1; then the staging promotion) and starts the image with podman; the
test writes its timings where IMAGE_BENCH_JSON says.
`--cold` first removes the cached base image (and its .debs), so the base is
built from Debian as on a fresh machine.
Run: `make bench-image` (or .venv/bin/python benchmarks/bench_image.py [--cold] [--json]).
Needs the packages .ci/run installs (buildah, podman, skopeo, ...), as root.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("TEMPLATE_TEST_CACHE", TEMPLATE / ".cache"))
ROWS = {
    "base load": "base image loaded from the cached oci-archive (s)",
    "make image": "`make image` (the release's step): buildah build, push by digest (s)",
    "release": "release.yml under act: pull, gate stage, push, bento, image, promotion (s)",
    "size MB": "image size (MB, as podman reports it)",
    "run to ready": "`podman run` to `/readyz` answering (s)",
}


def measure(cold: bool) -> dict[str, float]:
    if cold:
        for cached in CACHE.glob("python-base-*.oci.tar"):
            cached.unlink()
        shutil.rmtree(CACHE / "debs", ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "image.json"
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             str(TEMPLATE / "tests" / "test_image.py")],
            cwd=TEMPLATE, env={**os.environ, "IMAGE_BENCH_JSON": str(report)}, check=True,
        )
        timings: dict[str, float] = json.loads(report.read_text())
    timings["test wall"] = time.monotonic() - started
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="rebuild the cached base image")
    parser.add_argument("--json", action="store_true", help="print JSON, not Markdown")
    args = parser.parse_args()
    timings = measure(args.cold)
    if args.json:
        print(json.dumps(timings, indent=2))
        return
    rows = {**ROWS, "test wall": "the whole image test, training included (s)"}
    print("| measure | value |\n|---|---:|")
    for key, label in rows.items():
        print(f"| {label} | {timings[key]:.1f} |")


if __name__ == "__main__":
    main()
