"""The model card: rendered from the owner's fields and the run; required for high risk."""

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package }}.card import CardError, card_problems, load_card, render_card
from {{ cookiecutter.package }}.config import PACKAGE, Paths
from {{ cookiecutter.package }}.files import write_json
from {{ cookiecutter.package }}.release import ReleaseError
from {{ cookiecutter.package }}.release.promotion import refuse_without_card

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LINEAGE = {
    "model": {"tag": "m:1"},
    "lineage_id": "abc",
    "risk_tier": "high",
    "params": {"train": {"estimator": "random_forest", "params": {"n_estimators": 5}}},
    "data": {"data/raw/x.csv": "md5"},
    "metrics": {"model": {"roc_auc": 0.9}, "baseline": {"roc_auc": 0.5}},
}
GATE = {"passed": True, "mode": "enforce", "gates": [{"name": "baseline", "passed": True}]}


def write_card(root: Path, **fields) -> None:
    card = load_card(PROJECT_ROOT) | fields
    (root / "model-card.yaml").write_text(yaml.safe_dump(card))


def test_the_projects_card_is_complete():
    assert card_problems(load_card(PROJECT_ROOT)) == []


def test_the_rendered_card_holds_the_owners_fields_and_the_runs_facts():
    text = render_card(load_card(PROJECT_ROOT), LINEAGE, GATE)
    for heading in ("## Owner", "## Intended use", "## Out-of-scope uses", "## Known limitations"):
        assert heading in text
    assert "`random_forest`" in text and "| roc_auc | 0.9 | 0.5 |" in text
    assert "- baseline: pass" in text


def test_an_empty_field_is_named_and_shown_as_not_filled_in():
    card = {"owner": "team", "intended_use": " ", "out_of_scope_uses": None}
    assert card_problems(card) == ["intended_use", "out_of_scope_uses", "known_limitations"]
    assert "**not filled in**" in render_card(card, LINEAGE, None)


def test_a_high_risk_promotion_is_refused_while_a_field_is_empty(tmp_path: Path):
    write_card(tmp_path, intended_use="")
    with pytest.raises(ReleaseError, match=r"fill in intended_use in model-card\.yaml"):
        refuse_without_card(Paths(tmp_path), LINEAGE)


def test_a_complete_card_lets_a_high_risk_promotion_through(tmp_path: Path):
    write_card(tmp_path)
    refuse_without_card(Paths(tmp_path), LINEAGE)


def test_a_low_risk_promotion_does_not_need_the_card(tmp_path: Path):
    refuse_without_card(Paths(tmp_path), {**LINEAGE, "risk_tier": "low"})  # no card at all


def test_a_missing_or_broken_card_is_a_one_line_error(tmp_path: Path):
    with pytest.raises(CardError, match=r"model-card\.yaml is missing"):
        load_card(tmp_path)
    (tmp_path / "model-card.yaml").write_text("- a list\n")
    with pytest.raises(CardError, match="must be a mapping"):
        load_card(tmp_path)
    with pytest.raises(ReleaseError, match=r"needs its card: model-card\.yaml must be a mapping"):
        refuse_without_card(Paths(tmp_path), LINEAGE)


def packable_project(root: Path) -> Paths:
    """The files the bento's build context is staged from (see serving/bento.py)."""
    p = Paths(root)
    (root / "src" / PACKAGE).mkdir(parents=True)
    (root / "src" / PACKAGE / "service.py").write_text("")
    write_json(LINEAGE, p.lineage)
    write_json({"features": {}}, p.reference)
    (root / "bentofile.yaml").write_text((PROJECT_ROOT / "bentofile.yaml").read_text())
    return p


def test_the_card_travels_in_the_bento(tmp_path: Path):
    from {{ cookiecutter.package }}.serving.bento import CARD_FILE, stage_context

    p = packable_project(tmp_path)
    write_card(tmp_path, owner="risk-analytics team")
    packed = (stage_context(p) / CARD_FILE).read_text()
    assert "## Owner\n\nrisk-analytics team" in packed
    assert "`random_forest`" in packed and "packed before the gates ran" in packed
    bentofile = yaml.safe_load((PROJECT_ROOT / "bentofile.yaml").read_text())
    assert CARD_FILE in bentofile["include"]


def test_a_card_edit_gives_another_bento_version(tmp_path: Path):
    from {{ cookiecutter.package }}.serving.bento import content_version, stage_context

    p = packable_project(tmp_path)
    write_card(tmp_path, owner="one team")
    before = content_version(stage_context(p), "digest")
    write_card(tmp_path, owner="another team")
    assert content_version(stage_context(p), "digest") != before
