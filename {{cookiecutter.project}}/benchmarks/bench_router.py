"""Memory of the entry point while a caller sends a huge body.

Starts the environment's router (uvicorn, as `deploy` does) in front of a
plain upstream that reads and discards what it gets, then sends a 300 MB
POST twice, once with a Content-Length and once chunked, and samples the
router process's resident memory (RSS, psutil) every 10 ms. Reported per
request: the answer's status, the seconds it took, the router's RSS before
and its peak during the request.

    python benchmarks/bench_router.py            # Markdown table
    python benchmarks/bench_router.py --json
    python benchmarks/bench_router.py --app other.module:app   # another router

No model needed. Bounded: --megabytes (default 300) per request.
"""

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psutil

from {{ cookiecutter.package }}.config import PACKAGE, paths
from {{ cookiecutter.package }}.serving.process import free_port, running, serving_environment

CHUNK = 1 << 20  # one MiB


class Discard(BaseHTTPRequestHandler):
    """Reads a request body to its end, keeps none of it, answers its size."""

    def do_POST(self) -> None:
        # A router that refuses a body midway closes the connection: nothing to report.
        with suppress(ConnectionError):
            size = self.discard_body()
            self.send_response(200)
            self.send_header("content-length", str(len(str(size))))
            self.end_headers()
            self.wfile.write(str(size).encode())

    def discard_body(self) -> int:
        size, length = 0, int(self.headers.get("content-length", 0))
        if self.headers.get("transfer-encoding") != "chunked":
            while size < length:
                size += len(self.rfile.read(min(CHUNK, length - size)))
            return size
        while (chunk := int(self.rfile.readline().strip() or b"0", 16)) > 0:
            size += len(self.rfile.read(chunk))
            self.rfile.readline()
        return size

    do_GET = do_POST

    def log_message(self, *_: object) -> None:
        pass


def body(megabytes: int) -> Iterator[bytes]:
    block = b"x" * CHUNK
    for _ in range(megabytes):
        yield block


def peak_rss(pid: int, stop: threading.Event, peak: list[int]) -> None:
    process = psutil.Process(pid)
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.01)


def router_pid(port: int) -> int:
    for connection in psutil.net_connections(kind="inet"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port:
            return connection.pid
    raise RuntimeError(f"nothing listens on {port}")


def measure(url: str, pid: int, megabytes: int, chunked: bool) -> dict[str, float]:
    before = psutil.Process(pid).memory_info().rss
    stop, peak = threading.Event(), [before]
    sampler = threading.Thread(target=peak_rss, args=(pid, stop, peak))
    sampler.start()
    headers = {} if chunked else {"content-length": str(megabytes * CHUNK)}
    began = time.monotonic()
    try:
        status = httpx.post(
            f"{url}/predict", content=body(megabytes), headers=headers, timeout=300
        ).status_code
    except httpx.HTTPError as error:  # a router may close the connection on an early answer
        status = type(error).__name__
    took = time.monotonic() - began
    stop.set()
    sampler.join()
    return {
        "body": "chunked" if chunked else "Content-Length",
        "status": status,
        "seconds": round(took, 2),
        "rss_before_mib": round(before / CHUNK, 1),
        "rss_peak_mib": round(peak[0] / CHUNK, 1),
    }


def run(app: str, megabytes: int) -> list[dict]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Discard)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="bench-router-") as scratch:
        routes = Path(scratch) / "routes.json"
        target = {"tag": "bench:upstream", "url": f"http://127.0.0.1:{upstream.server_port}"}
        routes.write_text(json.dumps({"stable": target, "canary": None, "canary_share": 0}))
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        env = serving_environment(
            {"ROUTES_FILE": str(routes), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        )
        with running(command, port, paths().root, env) as url:
            pid = router_pid(port)
            results = [measure(url, pid, megabytes, chunked) for chunked in (False, True)]
    upstream.shutdown()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", default=f"{PACKAGE}.serving.router:app")
    parser.add_argument("--megabytes", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.app, args.megabytes)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"router {args.app}, a {args.megabytes} MiB POST\n")
    print("| body | status | seconds | RSS before (MiB) | RSS peak (MiB) |")
    print("| --- | --- | ---: | ---: | ---: |")
    columns = ("body", "status", "seconds", "rss_before_mib", "rss_peak_mib")
    for result in results:
        print("| " + " | ".join(str(result[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()
