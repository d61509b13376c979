"""How many people must label each item of a task (review, audit): one unless a maintainer says more."""

from rnr_core.review import clean_labels_per_item, clean_name
from rnr_core.store.derived import labels_asked, refresh_audit_sql

# The audit items whose openness depends on the labels asked per item: those of samples people labelled.
_LABELLED = "{id} IN (SELECT sample_id FROM verdicts WHERE judge LIKE 'human:%')"


def _review_settled(store, n: int) -> None:
    """Settle again the samples a new N changes: pending ones with n decisions or more, and disputes (a
    higher N reopens them for more people). Samples already decided stay so until their next decision."""
    store._resolve("(s.disputed OR (s.status = 'pending' AND s.decisions >= ?))", [n])


def _audit_settled(store, n: int) -> None:
    """Recompute the kept audit items of labelled samples: which are still open at the new N."""
    for sql in refresh_audit_sql(_LABELLED):
        store.con.execute(sql)


# Each task (rnr_core.review.TASKS): what a new labels-per-item setting settles again, in its transaction.
ON_SET = {"review": _review_settled, "audit": _audit_settled}


class TaskQueries:
    def labels_per_item(self, task: str) -> int:
        """How many people must label each item of `task` ('review' or 'audit'); 1 unless set."""
        clean_labels_per_item(task, 1)
        return self._scalar(f"SELECT {labels_asked(task)}")

    def task_settings(self) -> dict:
        """{task: {labels_per_item, set_by, set_at}} for the tasks a maintainer has set."""
        rows = self._rows("SELECT kind, labels_per_item, set_by, set_at FROM tasks ORDER BY kind")
        return {r.pop("kind"): r for r in rows}

    def set_labels_per_item(self, task: str, n: int, by: str) -> None:
        """Ask `n` people to label each item of `task`, and settle again what that changes (ON_SET)."""
        n, by = clean_labels_per_item(task, n), clean_name(by)

        def write() -> None:
            with self.transaction():
                self.con.execute(
                    "INSERT OR REPLACE INTO tasks (kind, labels_per_item, set_by, set_at) "
                    "VALUES (?, ?, ?, current_timestamp)",
                    [task, n, by],
                )
                ON_SET[task](self, n)

        self.short_write(write, "how many people label each item")
