"""A stand-in for `bentoml serve <bento>`, so deploy tests need no bento.

Like BentoML, the parent starts its worker in a session of its own, and the
worker answers: GET /readyz, POST /predict (one JSON line per request in
PREDICTION_LOG_DIR unless the request is marked `x-traffic-class: smoke`,
as the service does), POST /lineage (the lineage recorded for the bento tag
in the JSON file named on the command line).

Usage: python fake_version.py <bento_tag> <port> <lineages.json>
"""

import json
import os
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def handler(lineage: dict, log_dir: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def answer(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self.answer(200 if self.path == "/readyz" else 404, {})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.path == "/lineage":
                return self.answer(200, lineage)
            if self.path != "/predict":
                return self.answer(404, {})
            if self.headers.get("x-traffic-class") != "smoke":
                log_dir.mkdir(parents=True, exist_ok=True)
                with (log_dir / "rows.jsonl").open("a") as log:
                    log.write('{"probability": 0.5}\n')
            return self.answer(200, [{"probability": 0.5, "label": 0}])

        def log_message(self, *_: object) -> None:
            pass

    return Handler


def serve(tag: str, port: str, lineages: str) -> None:
    lineage = json.loads(Path(lineages).read_text())[tag]
    log_dir = Path(os.environ.get("PREDICTION_LOG_DIR", "monitoring"))
    ThreadingHTTPServer(("127.0.0.1", int(port)), handler(lineage, log_dir)).serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "--worker":
        serve(*sys.argv[2:])
    else:
        command = [sys.executable, __file__, "--worker", *sys.argv[1:]]
        sys.exit(subprocess.Popen(command, start_new_session=True).wait())
