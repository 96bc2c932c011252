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


def test_parquet_labels_are_read_as_csv_ones_are(tmp_path, contract):
    import pandas as pd

    label = contract.label_values[0]
    rows = pd.DataFrame({"id": ["a1", "a2"], "label": [float(label), float(label)]})
    rows.to_parquet(tmp_path / "labels.parquet", index=False)  # a label column as floats
    added = add_labels(tmp_path / "labels.parquet", contract, tmp_path / "store", {"a1"})
    assert (added.rows, added.unknown) == (2, 1)
    assert load_labels(tmp_path / "store").to_dict() == {"a1": label, "a2": label}


def test_a_bad_parquet_row_is_named_by_its_row(tmp_path, contract):
    import pandas as pd

    pd.DataFrame({"id": ["a1", ""], "label": [1, 1]}).to_parquet(tmp_path / "l.parquet")
    with pytest.raises(LabelError, match="row 2: empty id"):
        add_labels(tmp_path / "l.parquet", contract, tmp_path / "store", set())
    (tmp_path / "broken.parquet").write_text("PAR1")
    with pytest.raises(LabelError, match="is not a readable Parquet file"):
        add_labels(tmp_path / "broken.parquet", contract, tmp_path / "store", set())
    assert not (tmp_path / "store").exists()
