"""Prompts on many machines: :func:`map_prompts` over Dask bags and dataframe columns.

Dask (``pip install "naiprompt[dask]"``) runs pure Python on a laptop, over SSH or on Kubernetes. Each
partition goes through one :class:`~naiprompt.batch.Batch`, which is shipped to the workers as data
(an operation name and its options) and builds its caches there, once per worker process: later
partitions on the same worker find them warm, so repeated tags are shared across partitions.

Example:
    >>> import dask.bag as db
    >>> from naiprompt.dask import map_prompts
    >>> bag = db.from_sequence(["{a}, b", "[c]", None], npartitions=2)
    >>> map_prompts(bag, "convert", read="nai", write="webui").compute(scheduler="sync")
    ['(a:1.05), b', '(c:0.9524)', None]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from naiprompt.batch import Batch, RowError

__all__ = ["map_prompts"]


def _bag_partition(rows: Iterable[Any], batch: Batch, errors_as_none: bool) -> list[Any]:
    results = batch(list(rows))
    return [None if isinstance(r, RowError) else r for r in results] if errors_as_none else results


def _series_partition(series: Any, batch: Batch, errors_as_none: bool) -> Any:
    import pandas as pd

    results = _bag_partition(series.tolist(), batch, errors_as_none)
    if errors_as_none:
        results = [str(r) if isinstance(r, str) else r for r in results]  # plain strings for table formats
    return pd.Series(results, index=series.index, name=series.name, dtype=object)


def map_prompts(collection: Any, op: str, *, errors_as_none: bool = False, **options: Any) -> Any:
    """Run ``Batch(op, **options)`` over a ``dask.bag.Bag`` of prompts or a dask dataframe column.

    A bag gives a bag of results; a dask ``Series`` (one column of a dataframe) gives a ``Series`` of
    results with the same index and name (object dtype). Failed rows are
    :class:`~naiprompt.batch.RowError` values, or ``None`` with ``errors_as_none=True`` (what a Parquet
    writer needs). Nothing is computed until you call ``compute``/``to_parquet``.

    Example:
        >>> import pandas as pd, dask.dataframe as dd
        >>> frame = dd.from_pandas(pd.DataFrame({"text": ["a, b", "(c)"]}), npartitions=1)
        >>> map_prompts(frame["text"], "count_tokens").compute(scheduler="sync").tolist()
        ['3/75', '1/75']
    """
    batch = Batch(op, **options)
    import dask.bag as db

    lazy: Any = collection  # dask's partition methods are untyped
    if isinstance(collection, db.Bag):
        return lazy.map_partitions(_bag_partition, batch, errors_as_none)
    import dask.dataframe as dd
    import pandas as pd

    if isinstance(collection, dd.Series):
        meta = pd.Series([], dtype=object, name=collection.name)
        return lazy.map_partitions(_series_partition, batch, errors_as_none, meta=meta)
    raise TypeError(
        f"map_prompts() takes a dask Bag or a dask dataframe column (Series), not {type(collection).__name__}"
    )
