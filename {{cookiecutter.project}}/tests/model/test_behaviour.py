"""Behavioural tests: what the model must do, whatever its parameters."""

import numpy as np
from sklearn.metrics import roc_auc_score

from {{ cookiecutter.package }}.features import build_features


def probability(model, raw):
    return model.predict_proba(build_features(raw))[:, 1]


def test_quality_clears_a_floor_on_held_out_rows(model, split_sample):
    _, held_out = split_sample
    assert roc_auc_score(held_out["malignant"], probability(model, held_out)) > 0.95


def test_row_order_does_not_change_predictions(model, split_sample):
    _, held_out = split_sample
    shuffled = held_out.sample(frac=1.0, random_state=0)
    np.testing.assert_allclose(
        probability(model, shuffled), probability(model, held_out.loc[shuffled.index])
    )


def test_larger_worse_tumours_look_more_malignant(model, split_sample):
    _, held_out = split_sample
    row = held_out[held_out["malignant"] == 0].head(1)
    grown = row.assign(
        worst_radius=row["worst_radius"] * 1.6,
        worst_area=row["worst_area"] * 2.5,
        worst_concave_points=row["worst_concave_points"] * 2.0,
    )
    assert probability(model, grown)[0] > probability(model, row)[0]


def test_training_is_deterministic(split_sample):
    from {{ cookiecutter.package }}.pipeline.featurize import with_features
    from {{ cookiecutter.package }}.pipeline.train import fit

    train, held_out = split_sample
    params = {"estimator": "logistic_regression", "params": {"C": 1.0}, "seed": 42}
    first, second = fit(with_features(train), params), fit(with_features(train), params)
    np.testing.assert_array_equal(probability(first, held_out), probability(second, held_out))
