"""From class probabilities to the answer: one rule for evaluation, the gates and the service.

Binary (label values [0, 1]): `probability` is P(label = 1) and the label is
1 at or above `evaluate.threshold`. Multiclass: the label is the most probable
class and `probability` is its probability (the threshold does not apply).
"""

import numpy as np


def decide(
    probabilities: np.ndarray, classes: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """(probability, label) per row, from `predict_proba`'s matrix and the model's classes."""
    if probabilities.shape[1] == 2:
        positive = probabilities[:, 1]
        return positive, (positive >= threshold).astype(int)
    best = probabilities.argmax(axis=1)
    return probabilities[np.arange(len(best)), best], np.asarray(classes)[best]
