"""Fine-tuned models registered by name, and the loss each logged while it trained."""

import json

FINE_TUNE_STATUSES = ("training", "completed", "failed", "cancelled")


class FineTuneQueries:
    def register_fine_tune(
        self,
        name: str,
        spec: str,
        base: str,
        data: str,
        settings: dict,
        status: str = "training",
        error: str | None = None,
        job: str | None = None,
        created_by: str | None = None,
    ) -> None:
        """Add the fine-tune `name`, or replace what it was (a retrain); created_at stays the first one's."""
        self.short_write(
            lambda: self.con.execute(
                "INSERT INTO fine_tunes (name, spec, base, data, settings, status, error, job, created_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, "
                "base = excluded.base, data = excluded.data, settings = excluded.settings, "
                "status = excluded.status, error = excluded.error, job = excluded.job, "
                "created_by = excluded.created_by, updated_at = now()::TIMESTAMP",
                [name, spec, base, data, json.dumps(settings), status, error, job, created_by],
            ),
            "this fine-tune",
        )

    def set_fine_tune_status(self, name: str, status: str, error: str | None = None) -> None:
        self.short_write(
            lambda: self.con.execute(
                "UPDATE fine_tunes SET status = ?, error = ?, updated_at = current_timestamp WHERE name = ?",
                [status, error, name],
            ),
            "this fine-tune",
        )

    def fine_tunes(self, status: str | None = None) -> list[dict]:
        """Every fine-tune (or those with `status`), newest first, settings parsed."""
        rows = self._rows(
            "SELECT * FROM fine_tunes WHERE ?::VARCHAR IS NULL OR status = ? ORDER BY created_at DESC, name",
            [status, status],
        )
        return [_parsed(r) for r in rows]

    def fine_tune(self, name: str) -> dict | None:
        row = self._one("SELECT * FROM fine_tunes WHERE name = ?", [name])
        return _parsed(row) if row else None

    def log_train_step(
        self, name: str, step: int, epoch: float | None, loss: float | None, learning_rate: float | None
    ) -> None:
        """One logging step's figures; a step logged again (a resumed run) replaces the earlier row."""
        self.retrying(
            lambda: self.con.execute(
                "INSERT OR REPLACE INTO train_log (name, step, epoch, loss, learning_rate, logged_at) "
                "VALUES (?, ?, ?, ?, ?, current_timestamp)",
                [name, step, epoch, loss, learning_rate],
            )
        )

    def clear_train_log(self, name: str, after_step: int = 0) -> None:
        """Forget the steps past `after_step`: a run restarted from there logs them anew."""
        self.retrying(
            lambda: self.con.execute("DELETE FROM train_log WHERE name = ? AND step > ?", [name, after_step])
        )

    def train_losses(self, name: str) -> list[dict]:
        """step, epoch, loss, learning_rate and logged_at of each logged step, in step order."""
        return self._rows(
            "SELECT step, epoch, loss, learning_rate, logged_at FROM train_log WHERE name = ? ORDER BY step",
            [name],
        )


def _parsed(row: dict) -> dict:
    return {**row, "settings": json.loads(row["settings"])}
