"""An export taken while others review is one snapshot: its files and manifest show the store as it was
at one moment, however many reviews are committed between its batches."""

import errno
import json
import re
import resource
import threading

import pytest

from bench.app_store import seed
from rnr_core.export import export_samples
from rnr_core.store import Store

N, BATCH = 2000, 50


class Reviewer(threading.Thread):
    """Moves samples between accepted and rejected in pairs, one pair per transaction, so the number
    accepted is the same at every moment, while which samples they are changes with each commit."""

    def __init__(self, store, pairs: list[tuple[int, int]], accepted: set[int]):
        super().__init__()
        self.view, self.pairs = store.for_thread(), pairs
        self.states = [frozenset(accepted)]  # the accepted ids after each commit
        self.turn = threading.Condition()

    def run(self) -> None:
        for low, high in self.pairs:
            with self.view.transaction():  # an early sample leaves the selection, a late one joins
                self.view.review([low], "reject", "wen", reason="other")
                self.view.label_verdict(low, "r1", "fail", "wen")
                self.view.review([high], "accept", "wen")
            with self.turn:
                self.states.append(self.states[-1] - {low} | {high})
                self.turn.notify_all()
        self.view.close()

    def commits(self) -> int:
        return len(self.states) - 1

    def wait_for(self, commits: int) -> None:
        with self.turn:
            assert self.turn.wait_for(lambda: self.commits() >= commits, timeout=60)


def exported_ids(out) -> dict[str, list[int]]:
    """The sample ids in each split file (the seeded question of sample id j + 1 is 'Question j:')."""
    found = {}
    for split in ("train", "test"):
        lines = (out / f"{split}.jsonl").read_text().splitlines()
        found[split] = [
            int(re.match(r"Question (\d+):", json.loads(line)["messages"][1]["content"])[1]) + 1
            for line in lines
        ]
    return found


def test_an_export_while_others_review_is_one_snapshot(tmp_path):
    db = str(tmp_path / "rnr.duckdb")
    seed(db, N, 5)
    with Store(db) as store:
        status = dict(store.con.execute("SELECT id, status FROM samples").fetchall())
        accepted = {i for i, s in status.items() if s == "accepted"}
        lows = sorted(i for i in accepted if i < N // 4)
        highs = sorted(i for i, s in status.items() if s == "rejected" and i > 3 * N // 4)
        reviewer = Reviewer(store, list(zip(lows, highs))[:40], accepted)
        seen = []

        def progress(scanned: int, total: int) -> None:
            """Between batches, let the reviewer commit twice more: every later batch is read after them."""
            seen.append(reviewer.commits())
            if 0 < scanned < total and len(seen) <= 15:
                reviewer.wait_for(reviewer.commits() + 2)

        reviewer.start()
        reviewer.wait_for(3)  # the export starts while reviews are being committed
        view = store.for_thread()
        manifest = export_samples(
            view,
            tmp_path / "out",
            statuses=("accepted",),
            include_failing=True,
            batch=BATCH,
            progress=progress,
            leakage_threshold=None,  # the check's embeddings are written before the snapshot is taken
        )
        reviewer.join()
        view.close()
    assert seen[-1] - seen[0] >= 20  # twenty or more commits landed between the export's batches
    ids = exported_ids(tmp_path / "out")
    assert {split: len(found) for split, found in ids.items()} == manifest["counts"]  # counts match the files
    exported = frozenset(ids["train"] + ids["test"])
    assert len(exported) == sum(manifest["counts"].values())
    # The files are the store at one moment: the accepted samples after some number of commits.
    assert exported in reviewer.states
    assert reviewer.states.index(exported) <= seen[0]


def test_a_write_failing_mid_export_ends_its_transaction(tmp_path):
    """A full disk mid-export (here: the file-size limit, EFBIG) ends the snapshot's transaction with the
    export, so the same cursor writes, and commits, at once."""
    db = str(tmp_path / "rnr.duckdb")
    seed(db, N, 5)
    with Store(db) as store:
        view = store.for_thread()
        pending = store._scalar("SELECT min(id) FROM samples WHERE status = 'pending'")
        limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, limits[1]))
        try:
            with pytest.raises(OSError) as full:
                # No leakage check: its embeddings are stored (in DuckDB) before any file is written.
                export_samples(
                    view,
                    tmp_path / "out",
                    statuses=("accepted", "pending"),
                    batch=BATCH,
                    leakage_threshold=None,
                )
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        assert full.value.errno == errno.EFBIG  # it failed writing, between batches
        assert view.review([pending], "accept", "wen") == 1
        assert store.get_sample(pending)["status"] == "accepted"  # committed: another cursor sees it
        view.close()
