"""Serving benchmark: the bento next to a minimal FastAPI + uvicorn server.

Both servers run the same model file, the same `build_features` and the same
pydantic request model, in one process each, on 127.0.0.1, in one run. Each
gets single-record requests from 1, 8 and 32 concurrent clients, the two
servers taking turns (never both under load at once; --rounds turns per level,
alternating who goes first, so a noisy machine hurts both alike). A last level
repeats 1 client after the 32-client burst: BentoML's adaptive batching learns
how long to wait for a batch from recent traffic, and this shows what it keeps.

Reported per level and server: requests, errors, requests/s, p50/p99 latency
and the server's CPU time per request; plus the floor, the model's bare
`predict_proba` on one prepared row, in process.

    make bench-service                      # Markdown table
    make bench-service BENCH_ARGS=--json    # JSON, for scripts
    make bench-service BENCH_ARGS=--log-cost  # and the bento with PREDICTION_LOG=off

Needs a trained model (`make repro`). Bounded: --seconds per level and server
(default 6) and --max-requests per level and server (default 20000).
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import pandas as pd
import psutil

from {{ cookiecutter.package }}.config import paths, use_project_model_store
from {{ cookiecutter.package }}.contract import load_contract
from {{ cookiecutter.package }}.features import build_features
from {{ cookiecutter.package }}.files import read_frame, read_json

HERE = Path(__file__).resolve().parent
LEVELS = (1, 8, 32)
GOAL_LATENCY_RATIO = 1.5
GOAL_LOG_COST = 0.10  # of throughput at 32 clients
LOG_OFF = "bentoml, log off"
PROCESSES = {
    "bentoml": "bentoml serve: 1 worker process (+ its supervisor), adaptive batching",
    "fastapi": "uvicorn: 1 worker process, async endpoint, no batching",
    LOG_OFF: "the same bento with PREDICTION_LOG=off (with --log-cost)",
}


def model_path() -> Path:
    """The model file the bento serves: the one in the model store."""
    from {{ cookiecutter.package }}.model_store import stored_model_file

    return stored_model_file(read_json(paths().lineage)["model"]["tag"])


def fastapi_app():
    """The baseline: the least code that serves the same model over HTTP.

    The request model, the feature code and the model are the service's; the
    records become a frame the way the service builds it.
    """
    from fastapi import FastAPI

    from {{ cookiecutter.package }}.monitor.log_writer import RECORD_ID
    from {{ cookiecutter.package }}.serving.service import LINEAGE, Prediction, PredictRequest

    model = joblib.load(model_path())
    threshold = float(LINEAGE["params"]["evaluate"]["threshold"])
    names = load_contract().feature_names
    app = FastAPI()

    @app.post("/predict")
    async def predict(request: PredictRequest) -> list[Prediction]:
        columns = {name: [getattr(r, name) for r in request.records] for name in names}
        raw = pd.DataFrame(columns, columns=names)
        probability = model.predict_proba(build_features(raw))[:, 1]
        ids = [getattr(r, RECORD_ID) or uuid.uuid4().hex for r in request.records]
        return [
            Prediction(id=i, probability=p, label=int(p >= threshold))
            for i, p in zip(ids, probability, strict=True)
        ]

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    return app


@contextmanager
def fastapi_served(timeout: float = 90) -> Iterator[str]:
    """uvicorn, one worker process, on a free loopback port; stopped on exit."""
    from {{ cookiecutter.package }}.serving.process import free_port, running

    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench_service:fastapi_app", "--factory"]
    command += ["--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1"]
    with running(command, port, paths().root, timeout=timeout) as url:
        yield url


def server_processes(url: str) -> list[psutil.Process]:
    """The processes that hold the server's listening socket, and their children."""
    port = int(url.rsplit(":", 1)[1])
    owners = {
        c.pid
        for c in psutil.net_connections(kind="tcp")
        if c.pid and c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
    }
    found: dict[int, psutil.Process] = {}
    for pid in owners:
        process = psutil.Process(pid)
        for each in (process, *process.children(recursive=True)):
            found[each.pid] = each
    return list(found.values())


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


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
    caller: it costs far less CPU per request than either server, so the
    servers set the pace (with httpx the load generator was the bottleneck).
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
    return {"latencies": latencies, "errors": errors, "seconds": time.perf_counter() - began}


def measure(url: str, bodies: list[bytes], clients: int, seconds: float, cap: int) -> dict:
    processes = server_processes(url)
    before = cpu_seconds(processes)
    result = asyncio.run(load(url, bodies, clients, seconds, cap))
    result["cpu_seconds"] = cpu_seconds(processes) - before
    return result


def summary(label: str, clients: int, parts: list[dict]) -> dict[str, Any]:
    latencies = [x for part in parts for x in part["latencies"]]
    errors: dict[str, int] = {}
    for part in parts:
        for code, n in part["errors"].items():
            errors[str(code)] = errors.get(str(code), 0) + n
    seconds = sum(part["seconds"] for part in parts)
    cpu = sum(part["cpu_seconds"] for part in parts)
    ms = np.asarray(latencies) * 1000
    return {
        "level": label,
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(seconds, 2),
        "throughput_rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(len(latencies), 1), 2),
    }


def floor_ms(rows: pd.DataFrame, repeats: int = 2000) -> dict[str, float]:
    """Median in-process time for one row: predict_proba alone, and with features."""
    model = joblib.load(model_path())
    one = rows.head(1)
    prepared = build_features(one)

    def median_ms(call) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return round(statistics.median(times) * 1000, 3)

    return {
        "predict_proba_ms": median_ms(lambda: model.predict_proba(prepared)),
        "features_and_predict_ms": median_ms(lambda: model.predict_proba(build_features(one))),
    }


def agreement(urls: dict[str, str], rows: pd.DataFrame) -> dict[str, float]:
    """Largest |served - offline| probability per server on a few rows."""
    model = joblib.load(model_path())
    offline = model.predict_proba(build_features(rows))[:, 1]
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
        "load_average_1m": round(os.getloadavg()[0], 2),
        "versions": {n: version(n) for n in ("bentoml", "fastapi", "uvicorn", "scikit-learn")},
        "thread_env": {name: os.environ.get(name, "unset") for name in threads},
    }


def plan(clients: list[int]) -> list[tuple[str, int]]:
    """The levels, in order: each client count, then 1 again after the largest."""
    levels = [(str(c), c) for c in clients]
    if max(clients) > 1:
        levels.append((f"1 after {max(clients)}", 1))
    return levels


def benchmark(urls: dict[str, str], bodies: list[bytes], args: argparse.Namespace) -> dict:
    for url in urls.values():  # warm up at 1 client (BentoML trains its batching here)
        measure(url, bodies, 1, args.warmup, args.max_requests)
    results: dict[str, list[dict]] = {name: [] for name in urls}
    for label, clients in plan(args.clients):
        parts: dict[str, list[dict]] = {name: [] for name in urls}
        for turn in range(args.rounds):
            order = list(urls) if turn % 2 == 0 else list(reversed(urls))
            for name in order:
                seconds = args.seconds / args.rounds
                parts[name].append(measure(urls[name], bodies, clients, seconds, args.max_requests))
        for name in urls:
            results[name].append(summary(label, clients, parts[name]))
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    from {{ cookiecutter.package }}.serving.bento import build_bento
    from {{ cookiecutter.package }}.serving.process import served

    use_project_model_store(paths().root)
    rows = read_frame(paths().eval_raw)[load_contract().feature_names]
    bodies = [json.dumps({"records": [r]}).encode() for r in rows.to_dict(orient="records")]
    tag = build_bento(paths())
    with contextlib.ExitStack() as stack:
        logs = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-logs-"))
        urls = {
            "bentoml": stack.enter_context(served(tag, env={"PREDICTION_LOG_DIR": logs})),
            "fastapi": stack.enter_context(fastapi_served()),
        }
        if args.log_cost:  # the cost of the prediction log on the serving path
            urls[LOG_OFF] = stack.enter_context(served(tag, env={"PREDICTION_LOG": "off"}))
        gaps = agreement(urls, rows.head(20))
        results = benchmark(urls, bodies, args)
    return {
        "command": "make bench-service",
        "bento": tag,
        "machine": machine(),
        "floor": floor_ms(rows),
        "processes": PROCESSES,
        "max_abs_difference_vs_offline": gaps,
        "results": results,
        "goal": verdict(results),
    }


def verdict(results: dict[str, list[dict]]) -> dict[str, Any]:
    by = {name: {r["level"]: r for r in levels} for name, levels in results.items()}
    bento, base = by["bentoml"], by["fastapi"]
    out: dict[str, Any] = {}
    if "32" in bento:
        ratio = bento["32"]["throughput_rps"] / base["32"]["throughput_rps"]
        out["throughput_32_ratio"] = round(ratio, 2)
        out["throughput_32_met"] = ratio >= 1.0
    if "32" in by.get(LOG_OFF, {}):
        cost = 1 - bento["32"]["throughput_rps"] / by[LOG_OFF]["32"]["throughput_rps"]
        out["log_cost_32"] = round(cost, 3)
        out["log_cost_32_met"] = cost <= GOAL_LOG_COST
    for level in ("1", "1 after 32"):
        if level in bento:
            ratio = bento[level]["p50_ms"] / base[level]["p50_ms"]
            key = "p50_1_ratio" if level == "1" else "p50_1_after_32_ratio"
            out[key] = round(ratio, 2)
            out[key.replace("ratio", "met")] = ratio <= GOAL_LATENCY_RATIO
    return out


def markdown(report: dict[str, Any]) -> str:
    m, f, goal = report["machine"], report["floor"], report["goal"]
    lines = [
        f"Machine: {m['cpus']} CPUs, Python {m['python']}, {m['platform']}, "
        f"load average {m['load_average_1m']} at the end; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        "Thread settings (both servers inherit them): "
        + ", ".join(f"{k}={v}" for k, v in m["thread_env"].items()),
        *(f"- {name}: {text}" for name, text in report["processes"].items()),
        "",
        "| server | clients | requests | errors | req/s | p50 ms | p99 ms | server CPU ms/req |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, levels in report["results"].items():
        for r in levels:
            lines.append(
                f"| {name} | {r['level']} | {r['requests']} | {sum(r['errors'].values())} "
                f"| {r['throughput_rps']} | {r['p50_ms']} | {r['p99_ms']} "
                f"| {r['server_cpu_ms_per_request']} |"
            )
    gaps = report["max_abs_difference_vs_offline"]
    lines += [
        "",
        f"Floor, in process, one row: predict_proba {f['predict_proba_ms']} ms; "
        f"build_features + predict_proba {f['features_and_predict_ms']} ms.",
        "Max |served - offline| probability: " + ", ".join(f"{k} {v:.2g}" for k, v in gaps.items()),
    ]
    if "throughput_32_ratio" in goal:
        met = "met" if goal["throughput_32_met"] else "NOT met"
        lines.append(
            f"Goal, req/s at 32 clients >= FastAPI: bentoml/fastapi = "
            f"{goal['throughput_32_ratio']} ({met})"
        )
    if "log_cost_32" in goal:
        met = "met" if goal["log_cost_32_met"] else "NOT met"
        lines.append(
            f"Goal, the prediction log costs <= {GOAL_LOG_COST:.0%} of req/s at 32 clients: "
            f"1 - log on/log off = {goal['log_cost_32']:.1%} ({met})"
        )
    for key, what in (("p50_1", "1 client"), ("p50_1_after_32", "1 client after 32")):
        if f"{key}_ratio" in goal:
            met = "met" if goal[f"{key}_met"] else "NOT met"
            lines.append(
                f"Goal, p50 at {what} within {GOAL_LATENCY_RATIO}x of FastAPI: "
                f"bentoml/fastapi = {goal[f'{key}_ratio']} ({met})"
            )
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON, not Markdown")
    parser.add_argument("--seconds", type=float, default=6.0, help="per level and server")
    parser.add_argument("--rounds", type=int, default=2, help="turns per level and server")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds per server")
    parser.add_argument("--max-requests", type=int, default=20000, help="per turn")
    parser.add_argument("--clients", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--log-cost", action="store_true", help="also serve with the log off")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    report = run(args)
    print(json.dumps(report, indent=2) if args.json else markdown(report))


if __name__ == "__main__":
    main()
