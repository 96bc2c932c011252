"""Late labels: checked against the contract, stored once, counted, joined by id."""

import pytest

from {{ cookiecutter.package }}.contract import load_contract
from {{ cookiecutter.package }}.monitor.labels import LabelError, add_labels, load_labels

CLASSES = ", ".join(map(str, load_contract().label_values))
OUTSIDE = max(load_contract().label_values) + 1


def labels_file(tmp_path, text: str, name: str = "labels.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_labels_are_stored_and_unknown_and_duplicated_ids_counted(tmp_path, contract):
    source = labels_file(tmp_path, "id,label\na1,1\na2,0\na1,0\nzz,1\n")
    added = add_labels(source, contract, tmp_path / "store", known_ids={"a1", "a2"})
    assert (added.rows, added.unknown, added.duplicated) == (3, 1, 1)
    stored = load_labels(tmp_path / "store")
    assert stored.to_dict() == {"a1": 0, "a2": 0, "zz": 1}  # the later a1 wins


def test_the_same_file_twice_is_stored_once(tmp_path, contract):
    source = labels_file(tmp_path, "id,label,time\na1,1,2026-11-29T10:00:00Z\n")
    first = add_labels(source, contract, tmp_path / "store", known_ids=set())
    second = add_labels(source, contract, tmp_path / "store", known_ids=set())
    assert first.stored == second.stored
    assert len(list((tmp_path / "store").iterdir())) == 1


def test_a_later_file_overrides_an_earlier_label(tmp_path, contract):
    store = tmp_path / "store"
    add_labels(labels_file(tmp_path, "id,label\na1,1\n", "one.csv"), contract, store, set())
    add_labels(labels_file(tmp_path, "id,label\na1,0\n", "two.csv"), contract, store, set())
    assert load_labels(store).to_dict() == {"a1": 0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,label\na1,1\na2,yes\n", f"line 3: label 'yes' is not one of {CLASSES}"),
        ("id,label\na1,1.0\n", f"line 2: label '1.0' is not one of {CLASSES}"),
        (f"id,label\na1,{OUTSIDE}\n", f"line 2: label '{OUTSIDE}'"),
        ("id,label\n,1\n", "line 2: empty id"),
        ("id,label,time\na1,1,yesterday\n", "line 2: time 'yesterday'"),
        ("id,outcome\na1,1\n", "columns must be id,label[,time]"),
    ],
)
def test_bad_rows_are_refused_naming_the_line_and_nothing_is_stored(
    tmp_path, contract, text, message
):
    with pytest.raises(LabelError, match=message.replace("[", r"\[").replace("]", r"\]")):
        add_labels(labels_file(tmp_path, text), contract, tmp_path / "store", set())
    assert not (tmp_path / "store").exists()


def test_parquet_is_refused_with_what_to_do(tmp_path, contract):
    source = labels_file(tmp_path, "PAR1", "labels.parquet")
    with pytest.raises(LabelError, match="CSV only; Parquet needs pyarrow"):
        add_labels(source, contract, tmp_path / "store", set())
