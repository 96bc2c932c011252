"""Release operations: what each CI and release job runs, one command per job.

- `pull`: the pinned data from the DVC remote (a clear error naming the remote
  when it is not there), then whatever else the remote has (outputs, run cache).
- `pr-comment`: the one pull request comment (metrics and params diff against
  the base, the gate table, the lineage, the bento tag), updated in place.
- `image`: containerize the bento, push it, print `image@sha256:...`.
- `propose-promotion` and `propose-rollback`: the same operation, a commit that changes one
  `deploy/<env>.yaml`, on its own branch, proposed as a pull request.
- `deploy-plan`: which environments a push changed, and the GitHub environment
  (so the reviewers) each deploy job runs in.
- `smoke-deployed`: the deployed service answers and serves the manifest's lineage.

On a laptop the same commands work: without a pull request number the comment
is printed instead of posted.
"""

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import click

from {{ cookiecutter.package }}.commands import dvc, git, output, run, succeeds
from {{ cookiecutter.package }}.config import PACKAGE, Paths, paths
from {{ cookiecutter.package }}.github_setup import github_environment
from {{ cookiecutter.package }}.io import read_json, write_json
from {{ cookiecutter.package }}.manifest import (
    ENVIRONMENTS,
    Manifest,
    Version,
    dump_manifest,
    load_optional_manifest,
    manifest_path,
    parse_manifest,
)

MARKER = "<!-- {{ cookiecutter.project }}:ci-report -->"
BASE_BRANCH = "main"
IMAGE_REGISTRY = {{ cookiecutter.image_registry | tojson }}
NO_COMMIT = "0" * 40
DIGEST_LINE = re.compile(r"digest: (sha256:[0-9a-f]{64})")


class ReleaseError(click.ClickException):
    """A release step cannot go on; the message says why and what to do."""


def gh_api(root: Path, *args: str, payload: dict[str, Any] | None = None) -> Any:
    """`gh api ...`; a payload goes as JSON on stdin. Returns the parsed answer."""
    command = ["gh", "api", *args]
    if payload is not None:
        command += ["--input", "-"]
    out = output(root, *command, stdin=json.dumps(payload) if payload is not None else None)
    return json.loads(out) if out.strip() else None


def write_github_output(values: dict[str, str]) -> None:
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            for key, value in values.items():
                handle.write(f"{key}={value}\n")


def require_environment(environment: str) -> str:
    if environment not in ENVIRONMENTS:
        raise ReleaseError(f"unknown environment {environment!r}; one of {ENVIRONMENTS}")
    return environment


# --- pull ----------------------------------------------------------------------------


def pinned_data_files(root: Path) -> list[str]:
    """The .dvc files git tracks: the pins of the raw data."""
    listed = git(root, "ls-files", "--", "*.dvc").splitlines()
    return [name for name in listed if not name.startswith(".dvc/")]


def remote_description(root: Path) -> str:
    name = dvc(root, "remote", "default", check=False).stdout.strip() or "(no default remote)"
    url = dvc(root, "config", f"remote.{name}.url", check=False).stdout.strip() or "(no url)"
    return f"'{name}' ({url})"


def pull_pinned_data(root: Path) -> None:
    files = pinned_data_files(root)
    result = dvc(root, "pull", *files, check=False)
    if result.returncode != 0:
        said = (result.stdout + result.stderr).strip().splitlines()[-6:]
        raise ReleaseError(
            f"the pinned data is not in the DVC remote {remote_description(root)}: "
            f"{', '.join(files)}. Push it from a machine that has it (`dvc push`), or check "
            "the remote's credentials.\nDVC said:\n" + "\n".join(said)
        )
    click.echo(f"pull: pinned data {', '.join(files)} from {remote_description(root)}")


def pull_everything_else(root: Path) -> None:
    """Outputs and the run cache: whatever the remote has, so nothing trains twice."""
    result = dvc(root, "pull", "--run-cache", "--allow-missing", check=False)
    if result.returncode != 0:
        click.echo("pull: no outputs or run cache restored; `dvc repro` will run the stages")
        return
    fetched = fetch_run_cache_outputs(root)
    click.echo(
        f"pull: outputs, run cache and {fetched} run-cache outputs, where the remote had them"
    )


def run_cache_entries(cache_dir: Path) -> list[tuple[str, str]]:
    """(stage hash, newest run) for every stage run the local run cache records."""
    entries = []
    for key in (k for prefix in cache_dir.glob("??") for k in prefix.iterdir()):
        runs = sorted(key.iterdir(), key=lambda run: run.stat().st_mtime)
        if runs:
            entries.append((key.name, runs[-1].name))
    return entries


def fetch_run_cache_outputs(root: Path) -> int:
    """Fetch the outputs the run cache names.

    `dvc pull --run-cache` brings the records of earlier runs, not the outputs
    they name, so `dvc repro` could not restore a stage trained elsewhere (a
    pull request's CI) and would train it again. Best effort: what the remote
    lacks is simply trained.
    """
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        entries = run_cache_entries(Path(repo.stage_cache.cache_dir))
        fetched = 0
        for objects in repo.stage_cache.get_used_objs(entries).values():
            try:
                fetched += len(repo.cloud.pull(objects).transferred)
            except Exception as error:  # a missing object means that stage runs again
                click.echo(f"pull: some run-cache outputs are not in the remote ({error})")
        return fetched


@click.command("pull")
def pull() -> None:
    """Fetch the pinned data (fails naming the remote if missing), then the run cache."""
    root = paths().root
    pull_pinned_data(root)
    pull_everything_else(root)


# --- the pull request comment ---------------------------------------------------------


def diff_markdown(root: Path, kind: str, base: str) -> str:
    """`dvc metrics diff` / `dvc params diff` of the workspace against `base`, as Markdown."""
    every = ["--all"] if kind == "metrics" else []
    result = dvc(root, kind, "diff", base, "--md", *every, check=False)
    if result.returncode != 0:
        return f"_`dvc {kind} diff {base}` failed: {result.stderr.strip()[:300]}_"
    table = result.stdout.strip().replace(base, base[:12])
    rows = [line for line in table.splitlines() if line.startswith("|")]
    return table if len(rows) > 2 else f"_No {kind} changed against `{base[:12]}`._"


def gate_report(p: Paths, lineage: dict[str, Any]) -> dict[str, Any] | None:
    """The gate report of *this* model, or None if the gates did not run on it."""
    report_file = p.reports_dir / "gate.json"
    if not report_file.exists():
        return None
    report = read_json(report_file)
    return report if report.get("lineage_id") == lineage.get("lineage_id") else None


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


def render_comment(p: Paths, base: str, bento_tag: str | None, repro_outcome: str) -> str:
    lineage = read_json(p.lineage) if p.lineage.exists() else {}
    report = gate_report(p, lineage)
    gate_md = (p.reports_dir / "gate.md").read_text().strip() if report else ""
    run_url = run_link()
    sections = [
        MARKER,
        "## Model report",
        verdict(report, repro_outcome),
        f"Bento: `{bento_tag or 'not built'}`"
        + (f" · [workflow run]({run_url})" if run_url else ""),
        f"### Metrics against `{base[:12]}`",
        diff_markdown(p.root, "metrics", base),
        f"### Params against `{base[:12]}`",
        diff_markdown(p.root, "params", base),
        gate_md or "### Gates\n\n_not run on this model_",
        "### Lineage",
        lineage_table(lineage),
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
    ours = [c["id"] for c in comments if MARKER in (c.get("body") or "")]
    return ours[0] if ours else None


def post_or_update(root: Path, repo: str, number: str, body: str) -> str:
    comment_id = existing_comment(root, repo, number)
    if comment_id is None:
        gh_api(
            root,
            "--method",
            "POST",
            f"repos/{repo}/issues/{number}/comments",
            payload={"body": body},
        )
        return "created"
    gh_api(
        root,
        "--method",
        "PATCH",
        f"repos/{repo}/issues/comments/{comment_id}",
        payload={"body": body},
    )
    return f"updated comment {comment_id}"


def current_bento_tag(p: Paths) -> str | None:
    from {{ cookiecutter.package }}.bento import build_bento

    if not p.lineage.exists() or not p.model.exists():
        return None
    try:
        return build_bento(p)
    except Exception as error:  # the comment reports it; the bento job fails on its own
        click.echo(f"pr-comment: no bento ({error})", err=True)
        return None


@click.command("pr-comment")
@click.option(
    "--base",
    envvar="BASE_SHA",
    default=BASE_BRANCH,
    show_default=True,
    help="Commit or branch to diff metrics and params against.",
)
@click.option(
    "--pr",
    "number",
    envvar="PR_NUMBER",
    default=None,
    help="Pull request number; without it the comment is only printed.",
)
@click.option("--repo", envvar="GITHUB_REPOSITORY", default=None, help="owner/name.")
@click.option("--repro-outcome", envvar="REPRO_OUTCOME", default="unknown")
def pr_comment(base: str, number: str | None, repo: str | None, repro_outcome: str) -> None:
    """Render the pull request comment; post it, or update the one posted before."""
    p = paths()
    body = render_comment(p, base, current_bento_tag(p), repro_outcome)
    p.reports_dir.mkdir(exist_ok=True)
    (p.reports_dir / "pr-comment.md").write_text(body)
    if not number or not repo:
        click.echo(body)
        click.echo("pr-comment: no PR_NUMBER/GITHUB_REPOSITORY: printed, not posted", err=True)
        return
    click.echo(f"pr-comment: {post_or_update(p.root, repo, number, body)} on {repo}#{number}")


# --- the image -----------------------------------------------------------------------


def registry_login(root: Path, backend: str, registry: str) -> None:
    user, password = os.environ.get("REGISTRY_USER"), os.environ.get("REGISTRY_PASSWORD")
    if user and password:
        host = registry.split("/")[0]
        run(root, backend, "login", host, "--username", user, "--password-stdin", stdin=password)


def push_by_digest(root: Path, backend: str, reference: str) -> str:
    """Push and return the pushed manifest's digest (`sha256:...`)."""
    if backend in ("podman", "buildah"):
        digest_file = root / "build" / "image.digest"
        digest_file.parent.mkdir(exist_ok=True)
        run(root, backend, "push", "--digestfile", str(digest_file), reference)
        return digest_file.read_text().strip()
    printed = output(root, backend, "push", reference)
    found = DIGEST_LINE.findall(printed)
    if not found:
        raise ReleaseError(f"`{backend} push {reference}` printed no digest:\n{printed}")
    return found[-1]


def release_record(p: Paths, bento_tag: str, image: str) -> dict[str, Any]:
    """The version a promotion will name: the same entry `promote` writes locally."""
    from {{ cookiecutter.package }}.promotion import candidate_version

    return candidate_version(p, bento_tag, image).model_dump(mode="json")


@click.command("image")
@click.option(
    "--backend",
    envvar="CONTAINER_BACKEND",
    default="docker",
    show_default=True,
    help="bentoml containerize backend, also used to push.",
)
@click.option("--registry", envvar="IMAGE_REGISTRY", default=IMAGE_REGISTRY, show_default=True)
def image(backend: str, registry: str) -> None:
    """Containerize the bento, push it, print image@sha256 (and write reports/release.json)."""
    from {{ cookiecutter.package }}.bento import build_bento

    p = paths()
    bento_tag = build_bento(p)
    registry = registry.lower()
    reference = f"{registry}:{bento_tag.split(':')[1]}"
    registry_login(p.root, backend, registry)
    bentoml = str(Path(sys.executable).with_name("bentoml"))
    run(p.root, bentoml, "containerize", bento_tag, "--backend", backend, "--image-tag", reference)
    pinned = f"{registry}@{push_by_digest(p.root, backend, reference)}"
    record = release_record(p, bento_tag, pinned)
    write_json(record, p.reports_dir / "release.json")
    write_github_output({"image": pinned, "release": json.dumps(record, sort_keys=True)})
    click.echo(pinned)


# --- promotion and rollback: one commit on deploy/<env>.yaml, proposed -------------------


def load_release(p: Paths) -> dict[str, Any]:
    raw = os.environ.get("RELEASE_JSON")
    if raw:
        return json.loads(raw)
    source = p.reports_dir / "release.json"
    if not source.exists():
        raise ReleaseError(f"{source} is missing: run `make image` first (or set RELEASE_JSON)")
    return read_json(source)


def ensure_push_credentials(root: Path) -> None:
    """In Actions the checkout keeps no token; gh lends GH_TOKEN to git for this push."""
    if os.environ.get("GITHUB_ACTIONS") == "true":
        run(root, "gh", "auth", "setup-git")


def propose(root: Path, branch: str, title: str, body: str, direct: bool = False) -> str:
    """Push the commit just made on `branch`: as a pull request, or straight to main."""
    ensure_push_credentials(root)
    if direct:
        git(root, "push", "origin", f"HEAD:refs/heads/{BASE_BRANCH}")
        return f"pushed to {BASE_BRANCH}"
    git(root, "push", "--force", "origin", f"HEAD:refs/heads/{branch}")
    found = json.loads(
        output(
            root, "gh", "pr", "list", "--head", branch, "--state", "open", "--json", "number,url"
        )
        or "[]"
    )
    if found:
        return f"updated {found[0]['url']}"
    return output(
        root,
        "gh",
        "pr",
        "create",
        "--base",
        BASE_BRANCH,
        "--head",
        branch,
        "--title",
        title,
        "--body",
        body,
    ).strip()


def start_branch(root: Path, branch: str) -> None:
    git(root, "switch", "--force-create", branch)


def commit(root: Path, message: str, *files: str) -> None:
    git(root, "add", "--", *files)
    git(root, "commit", "--quiet", "--no-verify", "-m", message)


@click.command("propose-promotion")
@click.argument("environment")
def propose_promotion(environment: str) -> None:
    """Open the pull request that points deploy/ENVIRONMENT.yaml at the last release."""
    from {{ cookiecutter.package }}.promotion import next_manifest

    p = paths()
    require_environment(environment)
    record = load_release(p)
    target = manifest_path(p.deploy_dir, environment)
    manifest = next_manifest(p, environment, Version.model_validate(record))
    if manifest is None:
        click.echo(f"promote: {target.name} already serves lineage {record['lineage_id']}")
        return
    branch = f"promote/{environment}-{record['lineage_id']}"
    start_branch(p.root, branch)
    target.parent.mkdir(exist_ok=True)
    target.write_text(dump_manifest(manifest))
    title = f"Promote {record['bento_tag']} to {environment}"
    body = promotion_body(environment, record, manifest.previous)
    commit(p.root, f"{title}\n\n{body}", str(target.relative_to(p.root)))
    click.echo(f"promote: {propose(p.root, branch, title, body)}")


def promotion_body(environment: str, record: dict[str, Any], previous: Version | None) -> str:
    before = previous.bento_tag if previous else "nothing"
    return (
        f"Moves `deploy/{environment}.yaml` from `{before}` to `{record['bento_tag']}`.\n\n"
        f"- image: `{record['image']}`\n- model: `{record['model_tag']}`\n"
        f"- lineage: `{record['lineage_id']}` (`{PACKAGE} lineage {record['model_tag']}`)\n\n"
        "Merging deploys it (deploy.yml); reverting the merge rolls it back."
    )


def check_revertable(root: Path, sha: str, relative: str) -> None:
    """Refuse what a revert cannot undo safely; say what to do instead."""
    touched = git(root, "show", "--format=", "--name-status", sha).splitlines()
    if f"A\t{relative}" in touched:
        raise ReleaseError(
            f"{sha[:12]} created {relative}: there is no earlier version to go "
            "back to (delete the manifest by hand to stop serving)"
        )
    others = [line.split("\t")[-1] for line in touched if line.split("\t")[-1] != relative]
    if others:
        raise ReleaseError(f"{sha[:12]} also changes {others}; revert it by hand")
    message = git(root, "show", "--format=%B", "--no-patch", sha)
    if "This reverts commit" in message:
        raise ReleaseError(
            f"the last change to {relative} ({sha[:12]}) is already a rollback; "
            "reverting it would re-promote the version it removed"
        )


@click.command("propose-rollback")
@click.argument("environment")
@click.option(
    "--push",
    "push_mode",
    envvar="ROLLBACK_PUSH",
    default="pr",
    show_default=True,
    type=click.Choice(["pr", "direct"]),
    help="pr: open a pull request; direct: push the revert to main "
    "(only where branch protection lets this identity push).",
)
def propose_rollback(environment: str, push_mode: str) -> None:
    """Revert the last commit that changed deploy/ENVIRONMENT.yaml, and propose the revert."""
    from {{ cookiecutter.package }}.deploy import DeployError, last_manifest_commit

    p = paths()
    require_environment(environment)
    relative = f"deploy/{environment}.yaml"
    try:
        sha = last_manifest_commit(p.root, environment)
    except DeployError as error:
        raise ReleaseError(f"nothing to roll back: {error}") from None
    check_revertable(p.root, sha, relative)
    branch = f"rollback/{environment}-{sha[:12]}"
    start_branch(p.root, branch)
    git(p.root, "revert", "--no-edit", sha)
    subject = git(p.root, "show", "--format=%s", "--no-patch", sha)
    title = f"Roll back {environment}: revert {sha[:12]}"
    body = (
        f'Reverts {sha} ("{subject}"), the last change to `{relative}`.\n\n'
        "The previous version is kept warm, so traffic moves as soon as deploy.yml runs."
    )
    click.echo(f"rollback: {propose(p.root, branch, title, body, push_mode == 'direct')}")


# --- deploy planning and smoke ---------------------------------------------------------


def is_commit(root: Path, rev: str | None) -> bool:
    return (
        bool(rev)
        and rev != NO_COMMIT
        and succeeds(root, "git", "cat-file", "-e", f"{rev}^" + "{commit}")
    )


def changed_files(root: Path, before: str | None, after: str) -> list[str]:
    """Files the push changed; for a first push (no known `before`), the last commit's."""
    if is_commit(root, before):
        return git(root, "diff", "--name-only", str(before), after).splitlines()
    return git(
        root, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", after
    ).splitlines()


def manifest_at(root: Path, rev: str | None, relative: str) -> Manifest | None:
    if not is_commit(root, rev) or not succeeds(root, "git", "cat-file", "-e", f"{rev}:{relative}"):
        return None
    return parse_manifest(git(root, "show", f"{rev}:{relative}"), f"{relative}@{rev[:12]}")


def plan_environment(root: Path, environment: str, before: str | None, after: str) -> dict:
    relative = f"deploy/{environment}.yaml"
    new, old = manifest_at(root, after, relative), manifest_at(root, before, relative)
    if new is None:
        return {"environment": environment, "deploy": False, "reason": f"{relative} deleted"}
    # The stricter of the old and new tier: lowering the tier needs the approvers too.
    tier = "high" if "high" in (new.risk_tier, old.risk_tier if old else "low") else "low"
    return {
        "environment": environment,
        "deploy": True,
        "risk_tier": tier,
        "github_environment": github_environment(environment, tier),
        "bento_tag": new.current.bento_tag,
    }


@click.command("deploy-plan")
@click.option("--before", envvar="BEFORE", default=None, help="Commit before the push.")
@click.option("--after", envvar="AFTER", default="HEAD", help="Commit the push ends at.")
def deploy_plan(before: str | None, after: str) -> None:
    """Which environments this push changes, and the GitHub environment of each deploy."""
    root = paths().root
    changed = set(changed_files(root, before, after))
    plans = [
        plan_environment(root, env, before, after)
        for env in ENVIRONMENTS
        if f"deploy/{env}.yaml" in changed
    ]
    outputs = {"plan": json.dumps(plans, sort_keys=True)}
    for env in ENVIRONMENTS:
        chosen = next((x for x in plans if x["environment"] == env and x["deploy"]), None)
        outputs[env] = "true" if chosen else "false"
        outputs[f"{env}_environment"] = chosen["github_environment"] if chosen else ""
    write_github_output(outputs)
    for key, value in outputs.items():
        click.echo(f"{key}={value}")


@click.command("smoke-deployed")
@click.argument("environment")
@click.option(
    "--url",
    envvar="SERVICE_URL",
    default=None,
    help="Base URL of the deployed service (the environment's SERVICE_URL variable).",
)
def smoke_deployed(environment: str, url: str | None) -> None:
    """Check the deployed service answers and serves the manifest's lineage."""
    from {{ cookiecutter.package }}.deploy import DeployError, smoke

    p = paths()
    require_environment(environment)
    manifest = load_optional_manifest(manifest_path(p.deploy_dir, environment))
    if manifest is None:
        raise ReleaseError(f"deploy/{environment}.yaml does not exist: nothing to check")
    if not url:
        raise ReleaseError("no SERVICE_URL: set it as a variable of the GitHub environment")
    try:
        smoke(url.rstrip("/"), manifest.current)
    except (DeployError, OSError, ValueError) as error:
        raise ReleaseError(f"smoke test of {environment} at {url}: {error}") from None
    click.echo(f"smoke: {environment} at {url} answers and serves {manifest.current.lineage_id}")
