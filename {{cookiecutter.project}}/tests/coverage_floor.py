"""Hold every module of the package to the per-module coverage floor.

coverage.py has a floor for the total (`fail_under`) but none per file, so
this reads coverage's own JSON report of the data `make test` and
`make test-service` collected, and the floor and the known gaps from
[tool.coverage_per_module] in pyproject.toml. A module under the floor that
is not a known gap fails; so does a known gap that now meets the floor (take
it off the list: the list only shrinks). Run by `make coverage`.
"""

import json
import sys
import tempfile
import tomllib
from pathlib import Path

import coverage


def module_figures() -> dict[str, float]:
    """Percent of lines covered, per file of the package, from the collected data."""
    measured = coverage.Coverage()
    measured.load()
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "coverage.json"
        measured.json_report(outfile=str(report))
        files = json.loads(report.read_text())["files"]
    return {name: file["summary"]["percent_covered"] for name, file in files.items()}


def problems(figures: dict[str, float], floor: float, known_gaps: list[str]) -> list[str]:
    found = []
    for name, percent in sorted(figures.items()):
        if percent < floor and name not in known_gaps:
            found.append(f"{name}: {percent:.0f}% of lines covered, under the floor of {floor}%")
        elif percent >= floor and name in known_gaps:
            found.append(f"{name}: {percent:.0f}% now meets the floor; remove it from below_floor")
    return found


def main() -> int:
    settings = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["coverage_per_module"]
    figures = module_figures()
    found = problems(figures, settings["floor"], settings["below_floor"])
    for line in found:
        print(f"coverage: {line}", file=sys.stderr)
    if not found:
        gaps = len(settings["below_floor"])
        print(
            f"coverage: {len(figures) - gaps} modules at or over the floor of "
            f"{settings['floor']}%, {gaps} known gap(s) under it"
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
