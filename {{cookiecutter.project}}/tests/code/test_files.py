"""Tables written and read back by the stages keep every float exactly."""

from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.package }}.files import read_csv, write_csv


def test_floats_survive_a_csv_round_trip_bit_for_bit(tmp_path: Path):
    # The parity gate compares served and offline probabilities within 1e-9:
    # a float that changed on its way through a CSV would show up there.
    rng = np.random.default_rng(7)
    values = rng.random(20_000) * 10.0 ** rng.integers(-12, 12, 20_000)
    frame = pd.DataFrame({"value": np.concatenate([values, -values, [0.1, 1 / 3, 2.0**-1074]])})
    write_csv(frame, tmp_path / "table.csv")
    read = read_csv(tmp_path / "table.csv")["value"].to_numpy()
    assert np.array_equal(read, frame["value"].to_numpy())
