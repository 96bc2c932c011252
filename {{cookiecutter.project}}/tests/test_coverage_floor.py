"""The per-module coverage floor: a module under it fails, unless it is a known gap."""

from coverage_floor import problems


def test_a_module_under_the_floor_fails():
    found = problems({"src/a.py": 79.5, "src/b.py": 80.0}, floor=80, known_gaps=[])
    (line,) = found
    assert line.startswith("src/a.py: ") and "under the floor of 80%" in line


def test_a_known_gap_passes_until_it_meets_the_floor():
    assert problems({"src/a.py": 40.0}, floor=80, known_gaps=["src/a.py"]) == []
    (found,) = problems({"src/a.py": 85.0}, floor=80, known_gaps=["src/a.py"])
    assert "now meets the floor; remove it from below_floor" in found
