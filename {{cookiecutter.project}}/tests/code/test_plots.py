"""The evaluation curves, and the Mermaid charts the pull request comment draws from them."""

import re

import numpy as np

from {{ cookiecutter.package }} import plots

RNG = np.random.default_rng(0)


def binary_case(rows: int = 500):
    truth = RNG.integers(0, 2, rows)
    positive = np.clip(truth * 0.6 + RNG.random(rows) * 0.4, 0, 1)
    return truth, np.column_stack([1 - positive, positive])


def test_binary_curves_have_every_plot_dvc_yaml_declares():
    truth, matrix = binary_case()
    records = plots.curves(truth, matrix, np.array([0, 1]), (matrix[:, 1] >= 0.5).astype(int))
    assert set(records) == {
        "roc.json",
        "precision_recall.json",
        "calibration.json",
        "confusion.json",
    }
    roc = records["roc.json"]
    assert roc[0] == {"fpr": 0.0, "tpr": 0.0} and roc[-1] == {"fpr": 1.0, "tpr": 1.0}
    assert len(records["confusion.json"]) == len(truth)


def test_curves_stay_small_however_many_rows():
    truth, matrix = binary_case(rows=20000)
    records = plots.curves(truth, matrix, np.array([0, 1]), truth)
    assert len(records["roc.json"]) <= plots.MAX_POINTS
    assert len(records["precision_recall.json"]) <= plots.MAX_POINTS


def test_multiclass_curves_are_one_vs_rest():
    truth = RNG.integers(0, 3, 300)
    matrix = RNG.dirichlet([1, 1, 1], 300)
    matrix[np.arange(300), truth] += 1
    matrix /= matrix.sum(axis=1, keepdims=True)
    records = plots.curves(truth, matrix, np.array([0, 1, 2]), matrix.argmax(axis=1))
    assert records["roc.json"][-1] == {"fpr": 1.0, "tpr": 1.0}


def test_the_comment_draws_base_and_candidate_as_two_lines_of_one_chart():
    truth, matrix = binary_case()
    candidate = plots.curves(truth, matrix, np.array([0, 1]), truth)
    base = plots.curves(truth, np.fliplr(matrix), np.array([0, 1]), truth)  # a worse model
    text = plots.comment_charts(candidate, base)
    charts = re.findall(r"```mermaid\nxychart-beta\n(.*?)```", text, flags=re.S)
    assert len(charts) == len(plots.CHARTED)
    roc = charts[0]
    assert '(base then candidate)"' in roc
    lines = re.findall(r"^    line \[(.*)\]$", roc, flags=re.M)
    assert len(lines) == 2
    assert all(len(line.split(", ")) == len(plots.GRID) for line in lines)
    x_axis = re.search(r'^    x-axis "fpr" \[(.*)\]$', roc, flags=re.M)
    assert x_axis and len(x_axis.group(1).split(", ")) == len(plots.GRID)


def test_without_a_base_the_candidate_is_drawn_alone():
    truth, matrix = binary_case()
    text = plots.comment_charts(plots.curves(truth, matrix, np.array([0, 1]), truth), {})
    assert "(candidate)" in text and text.count("    line [") == len(plots.CHARTED)
    assert "No curves" in plots.comment_charts({}, {})
