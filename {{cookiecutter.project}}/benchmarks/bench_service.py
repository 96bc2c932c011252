"""Serving benchmark: the bento next to a minimal FastAPI + uvicorn server.

Both servers run the same model file, the same `build_features` and the same
pydantic request model, one process each, on 127.0.0.1, in one run. Each gets
single-record requests from 1, 8 and 32 concurrent clients, in turn (never
both under load at once). Reported: requests/s and p50/p99 latency per level,
plus the floor, the model's bare `predict_proba` on one prepared row.

    make bench-service                      # Markdown table
    make bench-service BENCH_ARGS=--json    # JSON, for scripts

Needs a trained model (`make repro`). Bounded: --seconds per level and server
(default 5) and --max-requests per level (default 5000).
"""

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.config import paths, use_project_model_store
from {{ cookiecutter.package }}.features import build_features, feature_names
from {{ cookiecutter.package }}.io import read_csv, read_json

HERE = Path(__file__).resolve().parent
LEVELS = (1, 8, 32)
GOAL_LATENCY_RATIO = 1.5


def model_path() -> Path:
    """The model file the bento serves: the one in the model store."""
    from {{ cookiecutter.package }}.registry import stored_model_file

    return stored_model_file(read_json(paths().lineage)["model"]["tag"])


def fastapi_app():
    """The baseline: the least code that serves the same model over HTTP."""
    from fastapi import FastAPI

    from {{ cookiecutter.package }}.contract import load_contract
    from {{ cookiecutter.package }}.service import LINEAGE, Prediction, PredictRequest

    model = joblib.load(model_path())
    threshold = float(LINEAGE["params"]["evaluate"]["threshold"])
    columns = load_contract().feature_names
    app = FastAPI()

    @app.post("/predict")
    async def predict(request: PredictRequest) -> list[Prediction]:
        raw = pd.DataFrame([r.model_dump() for r in request.records], columns=columns)
        probability = model.predict_proba(build_features(raw)[feature_names()])[:, 1]
        return [Prediction(probability=p, label=int(p >= threshold)) for p in probability]

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    return app


@contextmanager
def fastapi_served(timeout: float = 60) -> Iterator[str]:
    """uvicorn, one worker process, on a free loopback port; stopped on exit."""
    from {{ cookiecutter.package }}.serving import free_port, stop, wait_until_ready

    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench_service:fastapi_app", "--factory"]
    command += ["--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1"]
    with tempfile.TemporaryDirectory(prefix="bench-fastapi-") as scratch:
        log = Path(scratch) / "server.log"
        with log.open("w") as output:
            process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, cwd=paths().root,
                start_new_session=True,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_ready(url, process, timeout, log)
            yield url
        finally:
            stop(process)


def request_bodies(rows: pd.DataFrame) -> list[bytes]:
    return [json.dumps({"records": [r]}).encode() for r in rows.to_dict(orient="records")]


def http_request(host: str, port: int, body: bytes) -> bytes:
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def exchange(reader, writer, request: bytes) -> int:
    """Send one request on a kept-alive connection; read the whole response."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
            return status
    raise RuntimeError(f"response without Content-Length: {head[:200]!r}")


async def load(url: str, bodies: list[bytes], clients: int, seconds: float, cap: int) -> dict:
    """`clients` concurrent callers, each sending one request after another.

    A bare HTTP/1.1 client on asyncio streams, one kept-alive connection per
    caller: far cheaper per request than either server, so the servers, not
    the load generator, set the pace (httpx cost more CPU than the servers).
    """
    host, port = url.removeprefix("http://").split(":")
    requests = [http_request(host, int(port), body) for body in bodies]
    latencies: list[float] = []
    errors: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    sent = 0

    async def caller(offset: int) -> None:
        nonlocal sent
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while sent < cap and time.perf_counter() < deadline:
                sent += 1
                request = requests[(offset + sent) % len(requests)]
                start = time.perf_counter()
                status = await exchange(reader, writer, request)
                latencies.append(time.perf_counter() - start)
                if status != 200:
                    errors[status] = errors.get(status, 0) + 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(clients)))
    return summary(latencies, errors, time.perf_counter() - began, clients)


def summary(latencies: list[float], errors: dict, elapsed: float, clients: int) -> dict:
    ms = np.asarray(latencies) * 1000
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


def floor_ms(rows: pd.DataFrame, repeats: int = 2000) -> dict[str, float]:
    """Median in-process time for one row: predict_proba alone, and with features."""
    model = joblib.load(model_path())
    one = rows.head(1)
    prepared = build_features(one)[feature_names()]

    def median_ms(call) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return round(statistics.median(times) * 1000, 3)

    return {
        "predict_proba_ms": median_ms(lambda: model.predict_proba(prepared)),
        "features_and_predict_ms": median_ms(
            lambda: model.predict_proba(build_features(one)[feature_names()])
        ),
    }


def agreement(urls: dict[str, str], rows: pd.DataFrame) -> dict[str, float]:
    """Largest |served - offline| probability per server on a few rows."""
    model = joblib.load(model_path())
    offline = model.predict_proba(build_features(rows)[feature_names()])[:, 1]
    body = {"records": rows.to_dict(orient="records")}
    gaps = {}
    for name, url in urls.items():
        response = httpx.post(f"{url}/predict", json=body, timeout=30)
        response.raise_for_status()
        served = np.asarray([item["probability"] for item in response.json()])
        gaps[name] = float(np.max(np.abs(served - offline)))
    return gaps


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    threads = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {n: version(n) for n in ("bentoml", "fastapi", "uvicorn", "scikit-learn")},
        "thread_env": {name: os.environ.get(name, "unset") for name in threads},
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from {{ cookiecutter.package }}.bento import build_bento
    from {{ cookiecutter.package }}.contract import load_contract
    from {{ cookiecutter.package }}.serving import served

    use_project_model_store(paths().root)
    rows = read_csv(paths().eval_raw)[load_contract().feature_names]
    bodies = request_bodies(rows)
    tag = build_bento(paths())
    servers = {
        "bentoml": {"tag": tag, "processes": "1 worker (+1 supervisor); adaptive batching"},
        "fastapi": {"processes": "1 uvicorn worker; no batching"},
    }
    results: dict[str, list[dict]] = {"bentoml": [], "fastapi": []}
    with (
        tempfile.TemporaryDirectory(prefix="bench-logs-") as logs,
        served(tag, env={"PREDICTION_LOG_DIR": logs}) as bento_url,
        fastapi_served() as fa_url,
    ):
        urls = {"bentoml": bento_url, "fastapi": fa_url}
        gaps = agreement(urls, rows.head(20))
        for url in urls.values():  # warm up both (BentoML tunes its batching here)
            asyncio.run(load(url, bodies, 8, args.warmup, args.max_requests))
        for clients in args.clients:
            for name, url in urls.items():
                level = load(url, bodies, clients, args.seconds, args.max_requests)
                results[name].append(asyncio.run(level))
    return {
        "command": "make bench-service",
        "machine": machine(),
        "floor": floor_ms(rows),
        "servers": servers,
        "max_abs_difference_vs_offline": gaps,
        "results": results,
        "goal": verdict(results),
    }


def verdict(results: dict[str, list[dict]]) -> dict[str, Any]:
    by = {name: {r["clients"]: r for r in levels} for name, levels in results.items()}
    out: dict[str, Any] = {}
    if 32 in by["bentoml"]:
        bento, base = by["bentoml"][32]["throughput_rps"], by["fastapi"][32]["throughput_rps"]
        out["throughput_32_ratio"] = round(bento / base, 2)
        out["throughput_32_met"] = bento >= base
    if 1 in by["bentoml"]:
        ratio = by["bentoml"][1]["p50_ms"] / by["fastapi"][1]["p50_ms"]
        out["p50_latency_ratio"] = round(ratio, 2)
        out["p50_latency_met"] = ratio <= GOAL_LATENCY_RATIO
    return out


def markdown(report: dict[str, Any]) -> str:
    m, f, goal = report["machine"], report["floor"], report["goal"]
    lines = [
        f"Machine: {m['cpus']} CPUs, Python {m['python']}, {m['platform']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "Thread env (both servers inherit it): "
        + ", ".join(f"{k}={v}" for k, v in m["thread_env"].items()),
        "",
        "| server | processes | clients | requests | errors | req/s | p50 ms | p99 ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, levels in report["results"].items():
        for r in levels:
            errors = sum(r["errors"].values())
            lines.append(
                f"| {name} | {report['servers'][name]['processes']} | {r['clients']} "
                f"| {r['requests']} | {errors} | {r['throughput_rps']} | {r['p50_ms']} "
                f"| {r['p99_ms']} |"
            )
    lines += [
        "",
        f"Floor, in process, one row: predict_proba {f['predict_proba_ms']} ms; "
        f"build_features + predict_proba {f['features_and_predict_ms']} ms.",
        "Max |served - offline| probability: "
        + ", ".join(f"{k} {v:.2g}" for k, v in report["max_abs_difference_vs_offline"].items()),
    ]
    if "throughput_32_ratio" in goal:
        lines.append(
            f"Goal, throughput at 32 clients >= FastAPI: bentoml/fastapi = "
            f"{goal['throughput_32_ratio']} ({'met' if goal['throughput_32_met'] else 'NOT met'})"
        )
    if "p50_latency_ratio" in goal:
        lines.append(
            f"Goal, p50 at 1 client within {GOAL_LATENCY_RATIO}x of FastAPI: bentoml/fastapi = "
            f"{goal['p50_latency_ratio']} ({'met' if goal['p50_latency_met'] else 'NOT met'})"
        )
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON, not Markdown")
    parser.add_argument("--seconds", type=float, default=5.0, help="per level and server")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per server")
    parser.add_argument("--max-requests", type=int, default=5000, help="per level and server")
    parser.add_argument("--clients", type=int, nargs="+", default=list(LEVELS))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    report = run(args)
    print(json.dumps(report, indent=2) if args.json else markdown(report))


if __name__ == "__main__":
    main()
