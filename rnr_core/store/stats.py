"""Store-wide counts, for `rnr stats` and the home page."""

from rnr_core.store.samples import SAMPLE_STATUSES


class StatsQueries:
    def overview(self) -> dict:
        """Counts across the whole store."""
        self.flush_log()
        by_status = dict(self.con.execute("SELECT status, count(*) FROM samples GROUP BY status").fetchall())
        calls = self._one(
            "SELECT count(*) AS calls, count(*) FILTER (WHERE status = 'ok') AS ok, "
            "coalesce(sum(prompt_tokens), 0) AS prompt_tokens, "
            "coalesce(sum(completion_tokens), 0) AS completion_tokens FROM llm_calls"
        )
        return {
            "datasets": self._scalar("SELECT count(*) FROM datasets"),
            "instructions": self._scalar("SELECT count(*) FROM instructions"),
            "runs": dict(self.con.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall()),
            "system_prompts": self._scalar("SELECT count(*) FROM system_prompts"),
            "samples": {s: by_status.get(s, 0) for s in SAMPLE_STATUSES},
            "samples_by_kind": dict(
                self.con.execute("SELECT kind, count(*) FROM samples GROUP BY kind").fetchall()
            ),
            "failed_items": self._scalar("SELECT count(*) FROM run_items WHERE status = 'failed'"),
            "llm_calls": calls,
            "failed_tries": self.failure_reasons(),
        }
