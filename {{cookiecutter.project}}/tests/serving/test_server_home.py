"""Each server's BentoML home: its own Prometheus folder, the shared stores linked."""

from pathlib import Path

from {{ cookiecutter.package }}.serving.process import SHARED_STORES, server_home


def test_a_server_home_links_the_shared_stores_and_keeps_the_rest_its_own(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    monkeypatch.setenv("BENTOML_HOME", str(shared))
    (shared / "bentos" / "svc").mkdir(parents=True)

    setting = server_home(tmp_path / "one")

    home = Path(setting["BENTOML_HOME"])
    assert home == tmp_path / "one"
    assert (home / "bentos" / "svc").is_dir()  # the shared bento store, through the link
    for store in SHARED_STORES:
        assert (home / store).resolve() == (shared / store).resolve()
    (home / "prometheus_multiproc_dir").mkdir()
    assert not (shared / "prometheus_multiproc_dir").exists()


def test_a_home_that_outlives_a_checkout_links_the_current_stores(tmp_path, monkeypatch):
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "old-checkout"))
    server_home(tmp_path / "home")
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "new-checkout"))
    server_home(tmp_path / "home")
    assert (tmp_path / "home" / "models").resolve() == (tmp_path / "new-checkout" / "models")
