"""The demo's second act, after the rollback: drifted traffic, the monitor, one alert
issue, late labels, realized quality and the governed retrain pull request.

The project has no GitHub repository: a recording `gh` (recording_gh.py) plays
GitHub's issues and pull requests, and a bare repository beside the project is
its `origin`. The traffic goes through the production router as a caller's
would; what the demo learns about it (the prediction ids) comes from the
service's answers, and everything else from the commands' printed output.
"""

import csv
import json
import random
import re
import shutil
import stat
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import yaml

SHIFTED = "mean_texture"  # the one feature the drifted traffic moves
SHIFT = 1.5  # times its value: far from the reference, inside the contract's bounds
RECORDS_PER_WINDOW = 300
WINDOW = timedelta(minutes=1)  # the shortest window `monitor --window` takes


class Story(Protocol):
    project: Path
    env: dict[str, str]

    def run(self, title: str, *command: str, quiet: bool = False) -> str: ...


def install_recording_gh(demo: Path, env: dict[str, str], repo: str) -> dict[str, str]:
    """`gh` on PATH is the recording stand-in, run by this Python; its record in demo/github."""
    bin_dir, record = demo / "bin", demo / "github"
    bin_dir.mkdir(exist_ok=True)
    record.mkdir(exist_ok=True)
    source = (Path(__file__).with_name("recording_gh.py")).read_text()
    gh = bin_dir / "gh"
    gh.write_text(f"#!{sys.executable}\n{source}")
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    path = f"{bin_dir}:{env['PATH']}"
    return {**env, "PATH": path, "GH_RECORD_DIR": str(record), "GH_REPO": repo}


def contract(project: Path, package: str) -> dict[str, Any]:
    text = (project / "src" / package / "contract.yaml").read_text()
    found: dict[str, Any] = yaml.safe_load(text)
    return found


def drifted_records(project: Path, spec: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    """Rows of the pinned data (label included), SHIFTED multiplied by SHIFT."""
    with (project / "data" / "raw" / "breast_cancer.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    drawn = random.Random(seed).choices(rows, k=RECORDS_PER_WINDOW)
    records = []
    for row in drawn:
        record = {name: float(row[name]) for name in spec["features"]}
        record[SHIFTED] = round(record[SHIFTED] * SHIFT, 4)
        records.append({"record": record, "truth": int(row[spec["label"]])})
    return records


def send(story: Story, port: int, batch: list[dict[str, Any]], name: str) -> list[tuple[str, int]]:
    """POST the batch through the router; (prediction id, true label) per answer."""
    body = story.project.parent / "traffic" / f"{name}.json"
    body.parent.mkdir(exist_ok=True)
    body.write_text(json.dumps({"records": [item["record"] for item in batch]}))
    title = f"send {len(batch)} records to production, {SHIFTED} x{SHIFT} ({name})"
    answer = story.run(
        title, "curl", "-sSf", "-H", "content-type: application/json",
        "--data", f"@{body}", f"http://127.0.0.1:{port}/predict", quiet=True,
    )  # fmt: skip
    predictions = json.loads(answer)
    ids = [p["id"] for p in predictions]
    positive = sum(p["label"] for p in predictions)
    print(f"{len(ids)} answers, {positive} predicted positive; ids {ids[0]} ... {ids[-1]}")
    return list(zip(ids, [item["truth"] for item in batch], strict=True))


def window_end_after(moment: datetime) -> datetime:
    """The next whole second after `moment`, waited for: the window holds what was sent."""
    end = moment.replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(max(0.0, (end - datetime.now(UTC)).total_seconds()))
    return end


def wait_until(moment: datetime) -> None:
    seconds = (moment - datetime.now(UTC)).total_seconds()
    if seconds > 0:
        print(f"\n(waiting {seconds:.0f}s for the window ending {moment:%H:%M:%S} to close)")
        time.sleep(seconds)


def monitor(story: Story, cli: str, end: datetime, title: str) -> str:
    stamp = f"{end:%Y-%m-%dT%H:%M:%SZ}"
    return story.run(title, cli, "monitor", "production", "--window", "1m", "--window-end", stamp)


def report_page(printed: str) -> str:
    """The Markdown report the monitor names at the end of its one line."""
    return printed.strip().rsplit("; ", 1)[-1]


def opened_issue(printed: str, family: str) -> str:
    found = re.search(rf"{family}: (?:opened|updated) #(\d+)", printed)
    if not found:
        sys.exit(f"demo: `alert` opened no {family} issue:\n{printed}")
    return found[1]


def add_late_labels(story: Story, cli: str, predictions: list[tuple[str, int]], name: str) -> None:
    """id,label rows for the predictions of one window; each label is the truth
    flipped (as if what the features mean had changed): realized quality must fall."""
    path = story.project.parent / "traffic" / f"late-labels-{name.replace(' ', '-')}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "label"])
        writer.writerows((pid, 1 - truth) for pid, truth in predictions)
    title = f"late labels of {name} arrive before its monitor run: id,label per prediction"
    story.run(title, cli, "labels", "add", str(path))


def give_origin(story: Story) -> None:
    origin = story.project.parent / "origin.git"
    shutil.rmtree(origin, ignore_errors=True)
    story.run(
        "give the project an origin to push to (a bare repository: the demo has no GitHub)",
        "sh", "-c", f"git init --quiet --bare {origin} && git remote add origin {origin} "
        "&& git push --quiet origin main && git remote -v",
    )  # fmt: skip


def one_window(
    story: Story, cli: str, port: int, spec: dict[str, Any], previous: datetime | None
) -> tuple[datetime, str]:
    """Drifted traffic, its late labels, the monitor of its window: its end, what it printed.

    Windows are back to back (the next starts where the previous ended), so no
    prediction is counted twice; the first ends as soon as its traffic is in."""
    name = "window 2" if previous else "window 1"
    sent = send(story, port, drifted_records(story.project, spec, seed=1 + bool(previous)), name)
    add_late_labels(story, cli, sent, name)
    end = previous + WINDOW if previous else window_end_after(datetime.now(UTC))
    wait_until(end)
    return end, monitor(story, cli, end, f"monitor production, {name} (one minute)")


def observe(story: Story, cli: str, port: int, package: str) -> None:
    """Two one-minute windows of drifted traffic: the low tier alerts after two in a row.

    The labels of a window arrive before the window's monitor run: realized
    quality counts towards an alert only in a run that has the labels."""
    spec = contract(story.project, package)
    give_origin(story)
    first, _ = one_window(story, cli, port, spec, None)
    story.run("alert: window 1 counted, no issue yet (two windows in a row needed)",
              cli, "alert", "production")  # fmt: skip
    _, printed = one_window(story, cli, port, spec, first)
    story.run(
        "the report a person reads first (its summary)", "head", "-n", "11", report_page(printed)
    )
    alerted = story.run(
        "alert: the second window in a row opens the issues", cli, "alert", "production"
    )
    number = opened_issue(alerted, "input_drift")
    story.run(
        f"the input-drift issue the workflow opens (#{number})", "gh", "issue", "view", number
    )
    story.run(
        "pin the late labels with DVC (docs/monitoring.md): the pin goes into git, the rows never",
        "sh", "-c", ".venv/bin/dvc add --quiet monitoring/labels && git add monitoring/labels.dvc "
        "monitoring/.gitignore && git commit --quiet -m 'Late labels of windows 1 and 2'",
    )  # fmt: skip
    logs = ".deploy/production/predictions"
    story.run("retrain: model quality alerts, so ONE pull request re-pins the data",
              cli, "retrain", "production", "--logs", logs, "--labels", "monitoring/labels")  # fmt: skip
    story.run("the retrain pull request (recorded)", "gh", "pr", "view", "retrain/production")
    story.run(
        "its branch holds one commit: the new data pin",
        "git",
        "show",
        "--stat",
        "--format=%h %s",
        "retrain/production",
    )
