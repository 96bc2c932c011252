"""Stage `featurize`: split the raw data and compute the model inputs."""

import pandas as pd
from sklearn.model_selection import train_test_split

from {{ cookiecutter.package }}.config import load_params, paths
from {{ cookiecutter.package }}.contract import load_contract, read_table
from {{ cookiecutter.package }}.features import build_features
from {{ cookiecutter.package }}.files import write_frame


def split(raw: pd.DataFrame, test_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    label = load_contract().label
    train, evaluation = train_test_split(
        raw, test_size=test_size, random_state=seed, stratify=raw[label]
    )
    return train.sort_index(), evaluation.sort_index()


def with_features(raw: pd.DataFrame) -> pd.DataFrame:
    label = load_contract().label
    features = build_features(raw)
    features[label] = raw[label].to_numpy()
    features.insert(0, "row_id", raw.index.to_numpy())
    return features


def main() -> None:
    p = paths()
    params = load_params()["featurize"]
    raw = read_table(p.raw_data)
    train, evaluation = split(raw, params["test_size"], params["seed"])
    write_frame(with_features(train), p.train_features)
    write_frame(with_features(evaluation), p.eval_features)
    # The raw evaluation rows, as a caller would send them: the parity gate
    # replays them against the service, the drift monitor uses them as reference.
    write_frame(evaluation.drop(columns=load_contract().label), p.eval_raw)
    print(f"featurize: {len(train)} training rows, {len(evaluation)} evaluation rows")
