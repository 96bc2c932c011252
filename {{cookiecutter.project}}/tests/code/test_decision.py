"""One rule from class probabilities to the answer, for evaluation, gates and the service."""

import numpy as np

from {{ cookiecutter.package }}.decision import decide


def test_binary_answers_the_positive_probability_against_the_threshold():
    matrix = np.array([[0.7, 0.3], [0.2, 0.8], [0.5, 0.5]])
    probability, label = decide(matrix, np.array([0, 1]), threshold=0.5)
    np.testing.assert_allclose(probability, [0.3, 0.8, 0.5])
    assert label.tolist() == [0, 1, 1]  # at the threshold: positive


def test_multiclass_answers_the_most_probable_class_and_its_probability():
    matrix = np.array([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    probability, label = decide(matrix, np.array([3, 5, 9]), threshold=0.99)
    np.testing.assert_allclose(probability, [0.7, 0.6])
    assert label.tolist() == [9, 3]  # the threshold does not apply
