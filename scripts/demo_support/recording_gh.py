"""A recording stand-in for `gh`, for `make demo`: GitHub's issues and pull requests in a file.

The demo project has no GitHub repository, yet its `alert` and `retrain`
commands talk to GitHub through `gh`. scripts/demo.py installs this file as
`gh` on the PATH of those steps. It answers the calls they make (the open
issues, creating and editing an issue, commenting, listing, creating and
editing a pull request) from `$GH_RECORD_DIR/github.json`, and appends each
call to `$GH_RECORD_DIR/calls.log`; `gh issue view N` and `gh pr view BRANCH`
print what was recorded, as `gh` would. Any other call fails with one line,
so the demo cannot silently depend on something it does not show.
"""

import json
import os
import sys
from pathlib import Path
from typing import Any

RECORD = Path(os.environ.get("GH_RECORD_DIR", "."))
REPO = os.environ.get("GH_REPO", "owner/project")


def load() -> dict[str, Any]:
    path = RECORD / "github.json"
    return json.loads(path.read_text()) if path.exists() else {"items": []}


def save(state: dict[str, Any]) -> None:
    (RECORD / "github.json").write_text(json.dumps(state, indent=1))


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def find(state: dict[str, Any], number: int) -> dict[str, Any]:
    return next(item for item in state["items"] if item["number"] == number)


def new_item(state: dict[str, Any], **fields: Any) -> dict[str, Any]:
    # Issues and pull requests share one sequence of numbers, as on GitHub.
    number = len(state["items"]) + 1
    kind = "pull" if "pull_request" in fields else "issues"
    item = {
        "number": number,
        "state": "open",
        "html_url": f"https://github.com/{REPO}/{kind}/{number}",
    }
    state["items"].append({**item, **fields})
    return state["items"][-1]


def api(state: dict[str, Any], args: list[str]) -> Any:
    method = option(args, "--method") if "--method" in args else "GET"
    path = next(a for a in args if a.startswith("repos/"))
    payload = json.loads(sys.stdin.read()) if "--input" in args else {}
    resource = path.split("?")[0].split("/")[3:]  # after repos/<owner>/<name>/
    if method == "GET" and resource == ["issues"]:
        return [[item for item in state["items"] if item["state"] == "open"]]
    if method == "POST" and resource == ["issues"]:
        return new_item(state, **payload)
    if method == "PATCH" and len(resource) == 2:
        find(state, int(resource[1])).update(payload)
        return find(state, int(resource[1]))
    if method == "POST" and len(resource) == 3 and resource[2] == "comments":
        find(state, int(resource[1])).setdefault("comments", []).append(payload["body"])
        return {"id": len(find(state, int(resource[1]))["comments"])}
    raise LookupError(f"gh api {method} {path}")


def pull_request(state: dict[str, Any], branch: str) -> dict[str, Any] | None:
    found = [i for i in state["items"] if i.get("head") == branch and i["state"] == "open"]
    return found[0] if found else None


def pr(state: dict[str, Any], args: list[str]) -> Any:
    if args[0] == "list":
        found = pull_request(state, option(args, "--head"))
        return [{"number": found["number"], "url": found["html_url"]}] if found else []
    if args[0] == "create":
        head, title, body = option(args, "--head"), option(args, "--title"), option(args, "--body")
        fields = {"title": title, "body": body, "head": head, "base": option(args, "--base")}
        return new_item(state, pull_request={}, **fields)["html_url"]
    found = pull_request(state, args[1])
    if found is None:
        raise LookupError(f"no open pull request for branch {args[1]!r}")
    if args[0] == "edit":
        found["body"] = option(args, "--body")
        return found["html_url"]
    if args[0] == "view":
        return view(found, f"{found['head']} -> {found['base']}")
    raise LookupError(f"gh pr {args[0]}")


def view(item: dict[str, Any], where: str) -> str:
    comments = "".join(f"\n--- comment\n{c}\n" for c in item.get("comments", []))
    return f"{item['title']}\n{item['state']} · {where} · {item['html_url']}\n\n{item['body']}\n{comments}"


def answer(state: dict[str, Any], args: list[str]) -> Any:
    if args[:1] == ["api"]:
        return api(state, args[1:])
    if args[:1] == ["pr"] and len(args) > 1:
        return pr(state, args[1:])
    if args[:2] == ["issue", "view"] and len(args) > 2:
        item = find(state, int(args[2]))
        return view(item, f"{len(item.get('comments', []))} comment(s)")
    raise LookupError(" ".join(args[:2]))


def main() -> int:
    args = sys.argv[1:]
    with (RECORD / "calls.log").open("a") as log:
        log.write(" ".join(a if len(a) < 80 else a[:77] + "..." for a in ["gh", *args]) + "\n")
    state = load()
    try:
        result = answer(state, args)
    except (LookupError, StopIteration, ValueError, IndexError) as error:
        print(f"recording gh: not recorded by the demo's stand-in: {error}", file=sys.stderr)
        return 1
    save(state)
    print(result if isinstance(result, str) else json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
