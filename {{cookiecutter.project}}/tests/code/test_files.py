"""Tables written and read back by the stages keep every float and every text exactly."""

from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.files import read_frame, write_frame


def test_floats_survive_a_csv_round_trip_bit_for_bit(tmp_path: Path):
    # The parity gate compares served and offline probabilities within 1e-9:
    # a float that changed on its way through a CSV would show up there.
    rng = np.random.default_rng(7)
    values = rng.random(20_000) * 10.0 ** rng.integers(-12, 12, 20_000)
    frame = pd.DataFrame({"value": np.concatenate([values, -values, [0.1, 1 / 3, 2.0**-1074]])})
    write_frame(frame, tmp_path / "table.csv")
    read = read_frame(tmp_path / "table.csv")["value"].to_numpy()
    assert np.array_equal(read, frame["value"].to_numpy())


def test_the_stages_parquet_tables_keep_floats_and_text(tmp_path: Path):
    values = np.random.default_rng(3).random(1000) * 1e-7
    frame = pd.DataFrame({"value": values, "code": ["007", None] * 500})
    write_frame(frame, tmp_path / "table.parquet")
    read = read_frame(tmp_path / "table.parquet", dtype={"code": "str", "absent": "str"})
    assert np.array_equal(read["value"].to_numpy(), values)
    assert read["code"].iloc[0] == "007" and pd.isna(read["code"].iloc[1])
