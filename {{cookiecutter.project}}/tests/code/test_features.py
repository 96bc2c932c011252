import numpy as np
import pytest

from {{ cookiecutter.package }} import features


def test_features_have_the_declared_names_in_order(sample):
    built = features.build_features(sample)
    assert list(built.columns) == features.feature_names()
    assert len(built) == len(sample)


def test_derived_features_follow_their_definitions(sample):
    built = features.build_features(sample)
    np.testing.assert_allclose(built["log_mean_area"], np.log1p(sample["mean_area"]))
    np.testing.assert_allclose(
        built["radius_growth"], sample["worst_radius"] - sample["mean_radius"]
    )


def test_features_ignore_the_label_and_extra_columns(sample):
    noisy = sample.assign(unexpected=1.0)
    assert list(features.build_features(noisy).columns) == features.feature_names()


def test_missing_raw_column_is_an_error(sample):
    with pytest.raises(KeyError):
        features.build_features(sample.drop(columns="mean_area"))


def test_definition_hash_is_stable_and_names_the_algorithm():
    assert features.definition_hash() == features.definition_hash()
    assert features.definition_hash().startswith("sha256:")
