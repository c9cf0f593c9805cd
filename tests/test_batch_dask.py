"""Many processes and machines: Dask LocalCluster, Hugging Face ``datasets`` with its cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES
from naiprompt.batch import Batch, RowError

CAPTIONS = (FIXTURES / "batch" / "captions.txt").read_text(encoding="utf-8").splitlines()[:200]


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("distributed")
    # Two worker processes: every task and the Batch inside it crosses a pickle boundary.
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=40
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_bag_on_a_local_cluster_equals_one_process(client) -> None:  # type: ignore[no-untyped-def]
    import dask.bag as db

    from naiprompt.dask import map_prompts

    rows = [*CAPTIONS, None, 5]
    bag = db.from_sequence(rows, npartitions=4)
    for op, options in [("convert", {"read": "nai", "write": "webui"}), ("count_tokens", {}), ("tags", {})]:
        got = map_prompts(bag, op, **options).compute()
        assert got == Batch(op, **options)(rows), op
    workers = client.run(lambda: __import__("os").getpid())
    assert len(set(workers.values())) == 2


def test_dataframe_column_on_a_local_cluster(client) -> None:  # type: ignore[no-untyped-def]
    import dask.dataframe as dd
    import pandas as pd

    from naiprompt.dask import map_prompts

    frame = dd.from_pandas(pd.DataFrame({"id": range(len(CAPTIONS)), "text": CAPTIONS}), npartitions=3)
    column = map_prompts(frame["text"], "convert", read="webui", write="nai", errors="raise", errors_as_none=True)
    result = column.compute()
    expected = Batch("convert", read="webui", write="nai", errors="raise")(CAPTIONS)
    assert result.tolist() == [None if isinstance(r, RowError) else r for r in expected]
    assert result.name == "text" and result.index.tolist() == list(range(len(CAPTIONS)))
    assert any(isinstance(r, RowError) for r in expected)  # the corpus has rows NovelAI cannot express


def test_map_prompts_rejects_other_collections() -> None:
    pytest.importorskip("dask")
    from naiprompt.dask import map_prompts

    with pytest.raises(TypeError, match="dask Bag"):
        map_prompts(["a"], "tags")


def test_hugging_face_map_is_cached_by_fingerprint(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    from datasets.fingerprint import Hasher

    # Two equal batches made separately hash the same: datasets finds its cache again.
    one = Batch("apply", transforms=["underscores", "dedupe"], dialect="nai").on_column("text", "clean")
    two = Batch("apply", dialect="nai", transforms=("underscores", "dedupe")).on_column("text", "clean")
    assert Hasher.hash(one) == Hasher.hash(two)
    assert Hasher.hash(one) != Hasher.hash(Batch("apply", transforms=["dedupe"]).on_column("text", "clean"))

    datasets.Dataset.from_dict({"text": CAPTIONS[:120]}).save_to_disk(str(tmp_path / "ds"))
    dataset = datasets.load_from_disk(str(tmp_path / "ds"))
    first = dataset.map(one, batched=True, batch_size=32, num_proc=2)
    second = dataset.map(two, batched=True, batch_size=32, num_proc=2)
    assert first._fingerprint == second._fingerprint
    assert first.cache_files and first.cache_files == second.cache_files  # the second map read the cache
    assert first["clean"] == Batch("apply", transforms=["underscores", "dedupe"], dialect="nai")(CAPTIONS[:120])
