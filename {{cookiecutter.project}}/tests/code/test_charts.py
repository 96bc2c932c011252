"""Chart text Mermaid can read: positional numbers, labels without inner quotes.

Mermaid's own parser checks the generated charts in the template's tests
(tests/test_mermaid.py); these pin the two rules it showed this code needs.
"""

import math

import pytest

from {{ cookiecutter.package }}.charts import number, text, xychart

WRITTEN = [(1.2e-05, "0.000012"), (1.0, "1"), (0.5, "0.5"), (-0.25, "-0.25"), (3e-09, "0"),
           (1e6, "1000000")]  # fmt: skip


@pytest.mark.parametrize(("value", "written"), WRITTEN)
def test_numbers_are_written_without_an_exponent(value, written):
    assert number(value) == written


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_number_a_chart_cannot_show_is_refused(value):
    with pytest.raises(ValueError, match="cannot show"):
        number(value)


def test_a_double_quote_inside_a_label_becomes_a_single_one():
    assert text('12" screen') == '"12\' screen"'
    assert text("café, dark") == '"café, dark"'  # commas and accents stay as they are


def test_a_chart_names_each_series_and_draws_the_first_as_asked():
    chart = xychart("t", ["a", "b"], {"reference": [0.5, 0.5], "current": [1e-05, 1]}, "bar")
    assert chart.splitlines() == [
        "```mermaid",
        "xychart-beta",
        '    title "t"',
        '    x-axis ["a", "b"]',
        "    %% reference",
        "    bar [0.5, 0.5]",
        "    %% current",
        "    line [0.00001, 1]",
        "```",
    ]
