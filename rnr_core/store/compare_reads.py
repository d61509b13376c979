"""Reads the Compare page makes on every rerun: what a person has already voted on (blind voting serves
each item and model pair once per voter), and a cheap token that changes with any evaluation or vote."""


class CompareReads:
    def voted_items(self, benchmark_id: int, voter: str, model_a: str, model_b: str) -> set[str]:
        """Item keys of `benchmark_id` on which `voter` already voted about this pair, in either order."""
        rows = self.con.execute(
            "SELECT DISTINCT item_key FROM votes WHERE benchmark_id = ? AND voter = ? "
            "AND voter_kind = 'human' AND ((model_a = ? AND model_b = ?) OR (model_a = ? AND model_b = ?))",
            [benchmark_id, voter, model_a, model_b, model_b, model_a],
        ).fetchall()
        return {r[0] for r in rows}

    def compare_token(self) -> tuple:
        """Changes whenever a benchmark, evaluation, answer, eval verdict or vote is written (answers and
        verdicts are replaced in place on a retry, so their contents are hashed): the key of cached
        benchmark summaries."""
        return self.con.execute(
            "SELECT (SELECT count(*) FROM benchmarks), "
            "(SELECT (count(*), max(updated_at)) FROM evals), "
            "(SELECT (count(*), sum(hash(status, response))) FROM eval_responses), "
            "(SELECT (count(*), sum(hash(judge, verdict))) FROM eval_verdicts), "
            "(SELECT (count(*), max(created_at)) FROM votes)"
        ).fetchone()
