import copy

from {{ cookiecutter.package }}.lineage import flatten, git_state, lineage_id

RECORD = {
    "model": {"tag": "m:1", "digest": "sha256:ab"},
    "data": {"data/raw/x.csv": "00"},
    "features": {"definition_hash": "sha256:cd"},
    "params": {"train": {"C": 1.0}},
    "code": {"commit": "abc", "dirty": False},
}


def test_lineage_id_changes_with_anything_that_shapes_the_model():
    changed = copy.deepcopy(RECORD)
    changed["params"]["train"]["C"] = 2.0
    assert lineage_id(RECORD) != lineage_id(changed)
    assert lineage_id(RECORD) == lineage_id(copy.deepcopy(RECORD))


def test_flatten_gives_dotted_rows():
    rows = dict(flatten({"a": {"b": 1, "c": [1, 2]}, "d": None}))
    assert rows == {"a.b": "1", "a.c": "1, 2", "d": "None"}


def test_git_state_outside_a_repository_is_unknown_not_clean(tmp_path):
    assert git_state(tmp_path) == {"commit": None, "dirty": None}
