"""How many people must label each item of a task (review, audit): one unless a maintainer says more."""

from rnr_core.review import clean_labels_per_item, clean_name
from rnr_core.store.derived import refresh_audit_sql

# The audit items whose openness depends on the labels asked per item: those of samples people labelled.
_LABELLED = "{id} IN (SELECT sample_id FROM verdicts WHERE judge LIKE 'human:%')"


class TaskQueries:
    def labels_per_item(self, task: str) -> int:
        """How many people must label each item of `task` ('review' or 'audit'); 1 unless set."""
        clean_labels_per_item(task, 1)
        return self._scalar("SELECT coalesce(max(labels_per_item), 1) FROM tasks WHERE kind = ?", [task])

    def task_settings(self) -> dict:
        """{task: {labels_per_item, set_by, set_at}} for the tasks a maintainer has set."""
        rows = self._rows("SELECT kind, labels_per_item, set_by, set_at FROM tasks ORDER BY kind")
        return {r.pop("kind"): r for r in rows}

    def set_labels_per_item(self, task: str, n: int, by: str) -> None:
        """Ask `n` people to label each item of `task`. Items that now have enough decisions are decided
        (a lower n); decided ones stay decided until their next decision (a higher n)."""
        n, by = clean_labels_per_item(task, n), clean_name(by)

        def write() -> None:
            with self.transaction():
                self.con.execute(
                    "INSERT OR REPLACE INTO tasks (kind, labels_per_item, set_by, set_at) "
                    "VALUES (?, ?, ?, current_timestamp)",
                    [task, n, by],
                )
                if task == "review":
                    self._resolve("s.status = 'pending' AND s.decisions >= ?", [n])
                else:
                    for sql in refresh_audit_sql(_LABELLED):
                        self.con.execute(sql)

        self.short_write(write, "how many people label each item")
