"""Reviewers and a job writing the same rows at once, on real threads over a real DuckDB file: each
action is recorded exactly once (or refused as a version conflict), and DuckDB's own conflict never
reaches a reviewer."""

import threading
from collections import Counter

import duckdb
import pytest

from rnr_core import preferences
from rnr_core.errors import VersionConflict
from rnr_core.store import Store, db
from tests.app_data import seed

ROUNDS = 24
MOVES = [("accept", None), ("reject", "duplicate"), ("reset", None)]


class Tally:
    """What each worker's calls came to: done, or refused as a conflict (with its draft, for edits)."""

    def __init__(self):
        self.lock, self.done, self.refused, self.drafts, self.other = (
            threading.Lock(),
            Counter(),
            Counter(),
            [],
            [],
        )

    def call(self, key: tuple, fn, *args, **kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except VersionConflict as exc:
            with self.lock:
                self.refused[key] += 1
                if exc.draft_revision is not None:
                    self.drafts.append((key, exc.draft_revision))
            return
        except Exception as exc:  # noqa: BLE001 - the test reports anything else, DuckDB's conflicts first
            with self.lock:
                self.other.append(f"{key}: {type(exc).__name__}: {exc}")
            return
        with self.lock:
            self.done[key] += 1


def reviewer(view, name: str, hot: list[int], tally: Tally) -> None:
    for k in range(ROUNDS):
        action, reason = MOVES[k % 3]
        tally.call((name, action), view.review, [hot[k % len(hot)]], action, name, reason=reason)


def labeller(view, name: str, sid: int, tally: Tally) -> None:
    for k in range(ROUNDS // 4):
        tally.call((name, "label"), view.label_verdict, sid, "r1", ("pass", "fail")[k % 2], name)


def editor(view, name: str, sid: int, tally: Tally) -> None:
    for k in range(ROUNDS // 4):
        base = view.review_sample(sid)["version"]
        tally.call((name, "edit"), view.save_edit, sid, base, name, response=f"{name} says {k}.")


def tab(view, name: str, tally: Tally) -> None:
    for k in range(ROUNDS):
        tally.call((name, "prefs"), preferences.save, view, "os:ana", {"timeout": 10 + k, "concurrency": 2})


def job(view, hot: list[int], stop: threading.Event, raced: Counter) -> None:
    """A judge's writes: verdicts of the hot samples, each in its own transaction, as a run writes them."""
    k = 0
    while not stop.is_set():
        try:
            with view.transaction():
                view.add_verdicts(hot[k % len(hot)], "llm:job", [{"rule_id": "r2", "verdict": "pass"}])
        except duckdb.TransactionException:
            raced["job"] += 1  # a reviewer's write got there first; a real job would retry the item
        k += 1


def in_threads(store, *specs) -> None:
    views = [store.for_thread() for _ in specs]
    workers = [threading.Thread(target=fn, args=(v, *args)) for v, (fn, *args) in zip(views, specs)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for v in views:
        v.close()


@pytest.fixture
def conflicts(monkeypatch) -> Counter:
    """How many of DuckDB's write-write conflicts the store's retry met."""
    seen, real = Counter(), db.conflicted

    def counted(exc):
        hit = real(exc)
        seen["retried"] += hit
        return hit

    monkeypatch.setattr(db, "conflicted", counted)
    return seen


def test_reviewers_and_a_job_on_the_same_rows_record_every_action_exactly_once(tmp_path, conflicts):
    ids = seed(tmp_path / "rnr.duckdb")
    hot = [ids["plain"], ids["disputed"]]
    tally, stop, raced = Tally(), threading.Event(), Counter()
    with Store(str(tmp_path / "rnr.duckdb")) as store:
        judge = store.for_thread()
        running = threading.Thread(target=job, args=(judge, hot + [ids["failing"]], stop, raced))
        running.start()
        in_threads(
            store,
            *[(reviewer, f"rev{i}", hot, tally) for i in range(4)],
            *[(labeller, f"lab{i}", ids["failing"], tally) for i in range(2)],
            *[(editor, f"ed{i}", ids["plain"], tally) for i in range(2)],
            *[(tab, f"tab{i}", tally) for i in range(2)],
        )
        stop.set()
        running.join()
        judge.close()
        assert not tally.other, tally.other[:5]  # never DuckDB's own message, nor anything else
        assert conflicts["retried"] > 0  # the rows really were fought over, and the store retried
        assert (
            sum(tally.done.values()) + sum(tally.refused.values())
            == 4 * ROUNDS + 4 * (ROUNDS // 4) + 2 * ROUNDS
        )
        assert not [k for k in tally.refused if k[1] != "edit"]  # only a true version conflict is refused
        logged = Counter(
            {
                (r["reviewer"], r["action"]): r["n"]
                for r in store._rows(
                    "SELECT reviewer, action, count(*) AS n FROM review_actions GROUP BY ALL"
                )
            }
        )
        # Each review and label is logged once: none lost, none doubled.
        reviews = Counter({k: n for k, n in tally.done.items() if k[1] not in ("edit", "prefs")})
        assert Counter({k: n for k, n in logged.items() if k[1] not in ("edit", "conflict")}) == reviews
        assert sum(reviews.values()) == 4 * ROUNDS + 2 * (ROUNDS // 4)
        # Every edit is kept: applied (an 'edit' action), or as an unapplied draft (a 'conflict').
        for name in ("ed0", "ed1"):
            assert logged[(name, "edit")] == tally.done[(name, "edit")]
            assert logged[(name, "conflict")] == tally.refused[(name, "edit")]
            assert logged[(name, "edit")] + logged[(name, "conflict")] == ROUNDS // 4
        revisions = {r["revision"]: r for r in store.revisions(ids["plain"])}
        assert sorted(revisions) == list(range(1 + 2 * (ROUNDS // 4)))  # the generated one, then each edit
        assert all(
            (revisions[n]["author"], revisions[n]["applied"]) == (k[0], False) for k, n in tally.drafts
        )
        # Each hot sample's state is its last logged review action's.
        for sid in hot:
            last = store._one(
                "SELECT action, reviewer FROM review_actions WHERE sample_id = ? "
                "AND action IN ('accept', 'reject', 'reset') ORDER BY id DESC LIMIT 1",
                [sid],
            )
            sample = store.get_sample(sid)
            status = {"accept": "accepted", "reject": "rejected", "reset": "pending"}[last["action"]]
            reviewer_now = None if status == "pending" else last["reviewer"]
            assert (sample["status"], sample["reviewer"]) == (status, reviewer_now)
        prefs = preferences.load(store, "os:ana")
        assert prefs["concurrency"] == 2 and 10 <= prefs["timeout"] < 10 + ROUNDS


def test_a_write_that_keeps_conflicting_is_a_version_conflict(tmp_path):
    ids = seed(tmp_path / "rnr.duckdb")
    with Store(str(tmp_path / "rnr.duckdb")) as store:
        ann, job = store.for_thread(), store.for_thread()
        job.con.begin()  # another writer's verdict on the same rule, not yet committed
        job.add_verdicts(ids["failing"], "human:ann", [{"rule_id": "r1", "verdict": "fail"}])
        with pytest.raises(VersionConflict, match="changing this rule's labels .* nothing was changed"):
            ann.label_verdict(ids["failing"], "r1", "pass", "ann")
        job.con.rollback()
        assert store._scalar("SELECT count(*) FROM review_actions") == 0
        ann.label_verdict(ids["failing"], "r1", "pass", "ann")  # once the other is done, it goes through
        assert store._scalar("SELECT count(*) FROM review_actions WHERE action = 'label'") == 1


def test_other_errors_are_not_retried(tmp_path):
    with Store(str(tmp_path / "rnr.duckdb")) as store:
        runs = Counter()

        def write():
            runs["n"] += 1
            store.con.execute("SELECT * FROM no_such_table")

        with pytest.raises(duckdb.CatalogException):
            store.short_write(write, "these samples")
        assert runs["n"] == 1


def test_a_key_already_there_is_the_writers_mistake_raised_at_once(tmp_path):
    """A statement that inserts a key already committed is a bug to see, not a race to retry 8 times and
    then blame on another reviewer."""
    with Store(str(tmp_path / "rnr.duckdb")) as store:
        store.set_labels_per_item("review", 2, "ana")
        runs = Counter()

        def write():
            runs["n"] += 1
            with store.transaction():
                store.con.execute(
                    "INSERT INTO tasks (kind, labels_per_item, set_by) VALUES ('review', 3, 'x')"
                )

        with pytest.raises(duckdb.ConstraintException, match="Duplicate key"):
            store.short_write(write, "how many people label each item")
        assert runs["n"] == 1


def test_a_key_another_writer_commits_first_is_retried(tmp_path):
    """Two writers inserting the same key at once: the one committing second fails at commit, a real
    race, and runs again, now replacing the other's row."""
    with Store(str(tmp_path / "rnr.duckdb")) as store:
        tab, other = store.for_thread(), store.for_thread()
        other.con.begin()
        other.set_preference("os:ana", "timeout", 30)
        runs = Counter()

        def write():
            runs["n"] += 1
            with tab.transaction():
                tab.set_preference("os:ana", "timeout", 45)
                if runs["n"] == 1:
                    other.con.commit()  # the other writer's row with the same key lands first

        tab.short_write(write, "these preferences")
        assert runs["n"] == 2 and store.preferences("os:ana") == {"timeout": 45}
        tab.close(), other.close()
