"""Mermaid `xychart-beta` blocks: charts GitHub draws in a comment or a Markdown page.

The one writer of chart text, for the pull request comment (plots.py) and the
monitor's report (monitor/report.py). Mermaid's grammar is narrower than it
looks, so values are written the way it reads them: numbers in positional
notation (it reads no exponent such as 1e-05, and no NaN), and labels in
double quotes with none inside (it has no escape for one).
"""

import math

import numpy as np


def number(value: float) -> str:
    """`value` as Mermaid reads a number: 1.2e-05 -> 0.000012, 1.0 -> 1."""
    if not math.isfinite(value):
        raise ValueError(f"a chart cannot show {value}")
    text: str = np.format_float_positional(round(float(value), 6), trim="-")
    return text


def text(label: object) -> str:
    """`label` as a quoted Mermaid string: a double quote inside becomes a single one."""
    return '"' + str(label).replace('"', "'") + '"'


def xychart(
    title: str,
    categories: list[str],
    series: dict[str, list[float]],
    first: str = "line",
    axes: tuple[str, str] | None = None,
) -> str:
    """One chart: `categories` along x, the first series drawn as `first` (bar or line),
    the others as lines, each named in a comment (the chart draws no legend).
    `axes`: the x and y axis titles, y from 0 to 1."""
    x_title = f"{text(axes[0])} " if axes else ""
    lines = ["```mermaid", "xychart-beta", f"    title {text(title)}"]
    lines.append(f"    x-axis {x_title}[{', '.join(text(label) for label in categories)}]")
    lines += [f"    y-axis {text(axes[1])} 0 --> 1"] if axes else []
    for index, (name, values) in enumerate(series.items()):
        shape = first if index == 0 else "line"
        lines += [f"    %% {name}", f"    {shape} [{', '.join(number(v) for v in values)}]"]
    return "\n".join([*lines, "```"])
