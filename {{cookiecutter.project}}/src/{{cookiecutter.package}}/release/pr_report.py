"""The one pull request comment: metrics and params against the base, the gate
table, the lineage and the bento tag, posted once and updated in place.

Without a pull request number (a laptop) the comment is printed instead.
"""

import os
from pathlib import Path
from typing import Any

from {{ cookiecutter.package }}.config import Paths, load_params
from {{ cookiecutter.package }}.files import read_json
from {{ cookiecutter.package }}.gates.verdict import gate_report
from {{ cookiecutter.package }}.github import comment_on_issue, gh_api, with_marker
from {{ cookiecutter.package }}.lineage import flatten
from {{ cookiecutter.package }}.shell import dvc, run

MARKER = "<!-- {{ cookiecutter.project }}:ci-report -->"


def diff_markdown(root: Path, kind: str, base: str) -> str:
    """`dvc metrics diff` / `dvc params diff` of the workspace against `base`, as Markdown."""
    every = ["--all"] if kind == "metrics" else []
    result = dvc(root, kind, "diff", base, "--md", *every, check=False)
    if result.returncode != 0:
        return f"_`dvc {kind} diff {base}` failed: {result.stderr.strip()[:300]}_"
    table = result.stdout.strip().replace(base, base[:12])
    rows = [line for line in table.splitlines() if line.startswith("|")]
    return table if len(rows) > 2 else f"_No {kind} changed against `{base[:12]}`._"


def base_gate_settings(root: Path, base: str) -> dict[str, Any]:
    """The `gate` section of params.yaml at `base` ({} if it has none)."""
    import yaml

    shown = run(root, "git", "show", f"{base}:params.yaml", check=False)
    if shown.returncode != 0:
        reason = (shown.stderr.strip().splitlines() or ["git show failed"])[0]
        raise LookupError(f"params.yaml at `{base[:12]}` could not be read ({reason})")
    params = yaml.safe_load(shown.stdout)
    section = params.get("gate") if isinstance(params, dict) else None
    return section if isinstance(section, dict) else {}


def gate_setting_changes(p: Paths, base: str) -> list[str]:
    """Every gate setting (mode, tier, thresholds...) this branch changes, `old -> new`."""
    try:
        before = dict(flatten(base_gate_settings(p.root, base), "gate."))
    except LookupError as unreadable:  # unknown is not unchanged: the approvers look
        return [f"{unreadable}: compare the gate section by hand"]
    after = dict(flatten(load_params(p.params).get("gate") or {}, "gate."))
    changed = sorted(key for key in before | after if before.get(key) != after.get(key))
    return [f"`{key}` {before.get(key, 'unset')} → {after.get(key, 'unset')}" for key in changed]


def gate_settings_notice(changes: list[str]) -> str | None:
    """A bold line for the approvers: a PR that moves a gate decides what may ship."""
    if not changes:
        return None
    return (
        "**This pull request changes gate settings** (params.yaml is owned by the approvers in "
        f"CODEOWNERS: their review is required): {'; '.join(changes)}"
    )


def verdict(report: dict[str, Any] | None, repro_outcome: str) -> str:
    if report is None:
        return (
            f"**No gate report** for this commit: `dvc repro` ended with `{repro_outcome}` "
            "before the gate stage wrote one. The job log says why."
        )
    failed = [g for g in report["gates"] if not g["passed"]]
    if not failed:
        return f"**Gates passed** ({report['mode']} mode, risk tier {report['risk_tier']})."
    reasons = "; ".join(f"{g['name']}: {g['message']}" for g in failed)
    blocking = "the check fails" if report["mode"] == "enforce" else "warn mode: not blocking"
    return f"**Gates FAILED** ({blocking}): {reasons}"


def lineage_table(lineage: dict[str, Any]) -> str:
    if not lineage:
        return "_No lineage: the pipeline did not reach `evaluate`._"
    code = lineage.get("code", {})
    rows = [
        ("lineage id", lineage.get("lineage_id")),
        ("model", lineage.get("model", {}).get("tag")),
        ("model digest", lineage.get("model", {}).get("digest")),
        *((f"data `{name}`", md5) for name, md5 in lineage.get("data", {}).items()),
        ("features", lineage.get("features", {}).get("definition_hash")),
        ("code", f"{code.get('commit')}{' (dirty)' if code.get('dirty') else ''}"),
        ("dependencies", lineage.get("dependencies", {}).get("lock_hash")),
        ("python", lineage.get("environment", {}).get("python")),
        ("risk tier", lineage.get("risk_tier")),
    ]
    lines = ["| | |", "| --- | --- |"]
    lines += [f"| {name} | `{value}` |" for name, value in rows]
    return "\n".join(lines)


def plots_at(root: Path, revision: str | None) -> dict[str, Any]:
    """reports/plots/*.json of the workspace (None) or of a git revision ({} where absent)."""
    import json

    from {{ cookiecutter.package }}.plots import CHARTED, PLOTS_DIR

    found = {}
    for name, *_ in CHARTED:
        relative = (PLOTS_DIR / name).as_posix()
        if revision is None:
            text = (root / relative).read_text() if (root / relative).exists() else None
        else:
            shown = run(root, "git", "show", f"{revision}:{relative}", check=False)
            text = shown.stdout if shown.returncode == 0 else None
        if text:
            found[name] = json.loads(text)
    return found


def curves_section(p: Paths, base: str) -> str:
    from {{ cookiecutter.package }}.plots import comment_charts

    charts = comment_charts(plots_at(p.root, None), plots_at(p.root, base))
    more = "Every curve, with the confusion matrix and calibration: `dvc plots diff`."
    return f"### Curves against `{base[:12]}`\n\n{charts}\n\n{more}"


def card_section(p: Paths) -> str | None:
    """The model card the gate stage rendered, folded: what the model is for, who owns it."""
    card = p.reports_dir / "model-card.md"
    if not card.exists():
        return None
    body = "####" + card.read_text().strip().removeprefix("#")  # a heading inside the comment
    return f"<details><summary>Model card (reports/model-card.md)</summary>\n\n{body}\n\n</details>"


def render_comment(p: Paths, base: str, repro_outcome: str) -> str:
    lineage = read_json(p.lineage) if p.lineage.exists() else {}
    report = gate_report(p, lineage)
    # The gate stage built the bento it checked: the comment names that one, built once.
    bento_tag = report.get("bento_tag") if report else None
    gate_md = (p.reports_dir / "gate.md").read_text().strip() if report else ""
    run_url = run_link()
    sections = [
        MARKER,
        "## Model report",
        verdict(report, repro_outcome),
        *filter(None, [gate_settings_notice(gate_setting_changes(p, base))]),
        f"Bento: `{bento_tag or 'not built'}`"
        + (f" · [workflow run]({run_url})" if run_url else ""),
        f"### Metrics against `{base[:12]}`",
        diff_markdown(p.root, "metrics", base),
        f"### Params against `{base[:12]}`",
        diff_markdown(p.root, "params", base),
        curves_section(p, base),
        gate_md or "### Gates\n\n_not run on this model_",
        "### Lineage",
        lineage_table(lineage),
        *filter(None, [card_section(p)]),
    ]
    return "\n\n".join(sections) + "\n"


def run_link() -> str | None:
    server, repo = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    run_id = os.environ.get("GITHUB_RUN_ID")
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None


def existing_comment(root: Path, repo: str, number: str) -> int | None:
    """The id of the comment this job wrote before (it carries the marker), if any."""
    pages = gh_api(root, "--paginate", "--slurp", f"repos/{repo}/issues/{number}/comments")
    comments = [comment for page in pages or [] for comment in page]
    ours = with_marker(comments, MARKER)
    return ours[0]["id"] if ours else None


def post_or_update(root: Path, repo: str, number: str, body: str) -> str:
    comment_id = existing_comment(root, repo, number)
    if comment_id is None:
        comment_on_issue(root, repo, number, body)
        return "created"
    gh_api(
        root,
        "--method",
        "PATCH",
        f"repos/{repo}/issues/comments/{comment_id}",
        payload={"body": body},
    )
    return f"updated comment {comment_id}"


def publish(p: Paths, base: str, number: str | None, repo: str | None, repro_outcome: str) -> str:
    """Write reports/pr-comment.md; post it (or update the one posted before) if on a PR."""
    body = render_comment(p, base, repro_outcome)
    p.reports_dir.mkdir(exist_ok=True)
    (p.reports_dir / "pr-comment.md").write_text(body)
    if not number or not repo:
        return body + "\npr-comment: no PR_NUMBER/GITHUB_REPOSITORY: printed, not posted"
    return f"pr-comment: {post_or_update(p.root, repo, number, body)} on {repo}#{number}"
