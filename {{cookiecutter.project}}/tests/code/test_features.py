import numpy as np
import pytest

from {{ cookiecutter.package }} import features


def test_features_have_the_declared_names_in_order(sample):
    built = features.build_features(sample)
    assert list(built.columns) == features.feature_names()
    assert len(built) == len(sample)


@pytest.mark.about_the_sample
def test_derived_features_follow_their_definitions(sample):
    built = features.build_features(sample)
    np.testing.assert_allclose(built["log_mean_area"], np.log1p(sample["mean_area"]))
    np.testing.assert_allclose(
        built["radius_growth"], sample["worst_radius"] - sample["mean_radius"]
    )


def test_features_ignore_the_label_and_extra_columns(sample):
    noisy = sample.assign(unexpected=1.0)
    assert list(features.build_features(noisy).columns) == features.feature_names()


def test_missing_raw_column_is_an_error(sample, numeric_column):
    with pytest.raises(KeyError):
        features.build_features(sample.drop(columns=numeric_column))


def test_definition_hash_is_stable_and_names_the_algorithm():
    assert features.definition_hash() == features.definition_hash()
    assert features.definition_hash().startswith("sha256:")


def test_a_derived_feature_on_an_undeclared_column_names_it(sample, monkeypatch):
    monkeypatch.setitem(features.DERIVED_FEATURES, "odd", lambda raw: raw["not_declared"])
    with pytest.raises(features.FeatureDefinitionError, match=r"'odd'.*'not_declared'"):
        features.build_features(sample)


def test_missing_values_are_imputed_from_training_rows(sample, contract, numeric_column):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    holed = sample.copy()
    holed.loc[holed.index[:50], numeric_column] = np.nan
    built = features.build_features(holed)
    model = make_pipeline(features.preprocessor(), LogisticRegression(max_iter=1000))
    model.fit(built, sample[contract.label])
    assert np.isfinite(model.predict_proba(built)).all()
    imputer = model[0].named_transformers_["numeric"].named_steps["impute"]
    position = contract.names_of("numeric").index(numeric_column)
    expected = holed[numeric_column].median()
    assert imputer.statistics_[position] == pytest.approx(expected)
