"""The bundled sample: scikit-learn's Wisconsin breast cancer data set.

It ships inside scikit-learn, so the project trains with no download. Written
deterministically (fixed column names, order and float format), so its MD5 is
the one pinned in data/raw/breast_cancer.csv.dvc.
"""

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer

from {{ cookiecutter.package }}.files import write_frame


def sample_frame() -> pd.DataFrame:
    bunch = load_breast_cancer(as_frame=True)
    frame: pd.DataFrame = bunch.frame.rename(columns=lambda name: name.replace(" ", "_"))
    # scikit-learn codes malignant as 0; the label here is 1 for malignant.
    frame["malignant"] = 1 - frame.pop("target")
    return frame


def write_sample(path: Path) -> None:
    write_frame(sample_frame(), path)
