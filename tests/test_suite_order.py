"""The order `make test` hands the modules to its workers names every module."""

from pathlib import Path

from conftest import MODULE_ORDER


def test_every_test_module_has_its_place_in_the_order():
    modules = {path.stem for path in Path(__file__).parent.glob("test_*.py")}
    assert modules == set(MODULE_ORDER), "add the module to MODULE_ORDER in conftest.py"
