"""Reading and writing tables and JSON the same way in every stage, and writing
large tables in chunks, replaced only when whole."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas loads where tables are read, not on every command
    import pandas as pd


PARQUET_SUFFIXES = (".parquet", ".pq")


def is_parquet(path: Path) -> bool:
    """A table file in Parquet, by its suffix (any case); CSV otherwise."""
    return path.suffix.lower() in PARQUET_SUFFIXES


def read_frame(path: Path, dtype: dict[str, str] | None = None) -> pd.DataFrame:
    """A table as `write_frame` wrote it: Parquet by its suffix, else CSV."""
    import pandas as pd

    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run `dvc repro` (or `dvc pull`) first")
    if is_parquet(path):
        frame = pd.read_parquet(path)
        return frame.astype({k: v for k, v in (dtype or {}).items() if k in frame.columns})
    # pandas' default converter reads back every float that to_csv wrote
    # bit-identical (tests/code/test_files.py), so training and the parity
    # check see exactly the same numbers.
    return pd.read_csv(path, dtype=dtype)


def read_frame_chunks(path: Path, text: list[str], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """A table in parts of `chunk_rows` rows, indexed by their positions in the file,
    the `text` columns read as text (a missing value stays missing): memory stays
    flat however large the file is."""
    import pandas as pd

    if not is_parquet(path):
        with pd.read_csv(path, dtype=dict.fromkeys(text, "str"), chunksize=chunk_rows) as reader:
            yield from reader
        return
    import pyarrow.parquet as pq

    parquet, start = pq.ParquetFile(path), 0
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        chunk = batch.to_pandas()
        chunk.index = pd.RangeIndex(start, start + len(chunk))
        start += len(chunk)
        yield as_text(chunk, text)
    if start == 0:  # no rows, no batch: the columns still need checking
        yield as_text(parquet.schema_arrow.empty_table().to_pandas(), text)


def as_text(chunk: pd.DataFrame, text: list[str]) -> pd.DataFrame:
    present = [name for name in text if name in chunk.columns]
    chunk[present] = chunk[present].astype("str")
    return chunk


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """CSV for a table a person reads (the data), Parquet (`.parquet`) for the stages'
    own tables: a tenth of the time to write and read, and every value exact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_parquet(path):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, lineterminator="\n")


def write_json(data: Any, path: Path) -> None:
    """Replace the file in one step: a reader sees the old content or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n")
    os.replace(scratch, path)


def read_json(path: Path) -> Any:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run `dvc repro` first")
    return json.loads(path.read_text())


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dvc_md5(path: Path) -> str:
    """The hash DVC 3 records for a file in dvc.lock: the plain MD5 of its bytes."""
    return file_digest(path, "md5")


# Writing a table in chunks, for outputs too large to hold (batch scoring).


@contextlib.contextmanager
def replaced_on_success(*targets: Path) -> Iterator[Sequence[Path]]:
    """Paths to write each target through (`.partial` siblings), renamed only if all succeed.

    A failure halfway leaves no output that looks complete, and the previous
    output (if any) stays as it was.
    """
    partials = [target.with_name(target.name + ".partial") for target in targets]
    try:
        yield partials
    except BaseException:
        for partial in partials:
            partial.unlink(missing_ok=True)
        raise
    for partial, target in zip(partials, targets, strict=True):
        os.replace(partial, target)


TableWriter = Callable[["pd.DataFrame"], None]


@contextlib.contextmanager
def csv_writer(path: Path) -> Iterator[TableWriter]:
    with path.open("w", newline="") as handle:
        header = True

        def write(frame: pd.DataFrame) -> None:
            nonlocal header
            frame.to_csv(handle, index=False, header=header, lineterminator="\n")
            header = False

        yield write


@contextlib.contextmanager
def parquet_writer(path: Path, empty: dict[str, str]) -> Iterator[TableWriter]:
    """One Parquet file, a row group per chunk; the first chunk's columns are its schema.

    With no chunk at all, a file without rows whose columns are `empty`
    (names and Arrow types).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer: Any = None

    def write(frame: pd.DataFrame) -> None:
        nonlocal writer
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table.cast(writer.schema))

    try:
        yield write
    finally:
        if writer is not None:
            writer.close()
        else:
            columns = {name: pa.array([], pa.type_for_alias(kind)) for name, kind in empty.items()}
            pq.write_table(pa.table(columns), path)


def table_writer(
    target: Path, path: Path, empty: dict[str, str]
) -> contextlib.AbstractContextManager[TableWriter]:
    """A writer of `target`'s format (by its suffix) into `path` (`empty`: see parquet_writer)."""
    return parquet_writer(path, empty) if is_parquet(target) else csv_writer(path)
