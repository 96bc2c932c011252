"""The model card: model-card.yaml (written by the owner) with the facts of the run.

`render_card` joins the owner's fields with the lineage, the metrics and the
gate report into reports/model-card.md; `card_problems` says which required
field is empty, and a high-risk promotion is refused until none is.
"""

import sys
from pathlib import Path
from typing import Any

import yaml

CARD_FILE = "model-card.yaml"
# Field -> heading: what a reviewer must be able to read before a model ships.
REQUIRED = {
    "owner": "Owner",
    "intended_use": "Intended use",
    "out_of_scope_uses": "Out-of-scope uses",
    "known_limitations": "Known limitations",
}


class CardError(ValueError):
    """model-card.yaml is missing or not a mapping."""


def load_card(root: Path) -> dict[str, Any]:
    path = root / CARD_FILE
    if not path.exists():
        raise CardError(f"{CARD_FILE} is missing; restore it from git and fill it in")
    try:
        card = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise CardError(f"{CARD_FILE} is not valid YAML: {error}") from None
    if not isinstance(card, dict):
        raise CardError(f"{CARD_FILE} must be a mapping of {', '.join(REQUIRED)}")
    return card


def card_problems(card: dict[str, Any]) -> list[str]:
    """The required fields that are missing or blank."""
    return [name for name in REQUIRED if not str(card.get(name) or "").strip()]


def metric_rows(metrics: dict[str, Any]) -> list[str]:
    model, baseline = metrics.get("model") or {}, metrics.get("baseline") or {}
    rows = ["| Metric | Model | Trivial baseline |", "| --- | --- | --- |"]
    rows += [f"| {name} | {value} | {baseline.get(name, '')} |" for name, value in model.items()]
    return rows


NOT_GATED = "_The gates have not run on this model._"
# The bento's copy is written before the gates run: they serve this very bento.
IN_BENTO = (
    "_This copy was packed before the gates ran (they serve this bento): their verdict "
    "is in `reports/gate.md` of the commit that trained the model, and only a model "
    "that passed them is promoted._"
)


def render_card(
    card: dict[str, Any],
    lineage: dict[str, Any],
    gate: dict[str, Any] | None,
    no_gate_note: str = NOT_GATED,
) -> str:
    """reports/model-card.md: the owner's fields, then what the run measured and checked."""
    lines = [f"# Model card: `{lineage.get('model', {}).get('tag', 'not trained')}`", ""]
    for name, heading in REQUIRED.items():
        value = str(card.get(name) or "").strip() or "**not filled in** (model-card.yaml)"
        lines += [f"## {heading}", "", value, ""]
    train = (lineage.get("params") or {}).get("train") or {}
    lines += [
        "## Training",
        "",
        f"Estimator `{train.get('estimator')}` with `{train.get('params')}`; "
        f"lineage `{lineage.get('lineage_id')}`, risk tier `{lineage.get('risk_tier')}`.",
        f"Data: {', '.join(f'`{name}`' for name in lineage.get('data', {}))}.",
        "",
        "## Evaluation",
        "",
        *metric_rows(lineage.get("metrics") or {}),
        "",
        "## Gates",
        "",
    ]
    if gate is None:
        lines.append(no_gate_note)
    else:
        verdict = "passed" if gate.get("passed") else "FAILED"
        lines.append(f"{verdict} ({gate.get('mode')} mode):")
        lines += [f"- {g['name']}: {'pass' if g['passed'] else 'FAIL'}" for g in gate["gates"]]
    return "\n".join(lines) + "\n"


def card_or_blank(root: Path) -> dict[str, Any]:
    """The owner's card; blank (so the rendered card says "not filled in") with a warning."""
    try:
        return load_card(root)
    except CardError as error:
        print(f"WARNING: {error}: the model card says so", file=sys.stderr)
        return {}
