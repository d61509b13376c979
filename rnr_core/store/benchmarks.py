"""Frozen benchmarks: a named, content-hashed copy of system prompts, user turns and rules."""

import json

import pyarrow as pa

from rnr_core.errors import BenchmarkError
from rnr_core.store.samples import _SAMPLE_SELECT, _decode_sample

ITEM_COLUMNS = ("benchmark_id", "item_key", "idx", "system_prompt", "messages", "rules")


class BenchmarkQueries:
    def benchmark_source_samples(self, run_id: str | None = None, dataset: str | None = None) -> list[dict]:
        """Every sample of a run or dataset that is not rejected, with its effective (edited) parts."""
        rows = self._rows(
            _SAMPLE_SELECT + "WHERE s.status <> 'rejected' AND (? IS NULL OR s.run_id = ?) "
            "AND (? IS NULL OR d.name = ?) ORDER BY s.id",
            [run_id, run_id, dataset, dataset],
        )
        return [_decode_sample(r) for r in rows]

    def add_benchmark(
        self, name: str, source: str, content_hash: str, items: list[dict], created_by: str | None = None
    ) -> int:
        """Store a benchmark and its items in one transaction; a name already used is refused."""
        with self.transaction():
            if self._scalar("SELECT id FROM benchmarks WHERE name = ?", [name]) is not None:
                raise BenchmarkError(
                    f"A benchmark named {name!r} already exists; frozen benchmarks never change. "
                    "Choose another name ('rnr benchmark list' shows those in use)."
                )
            benchmark_id = self._scalar(
                "INSERT INTO benchmarks (name, source, content_hash, n_items, created_by) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                [name, source, content_hash, len(items), created_by],
            )
            self._insert_items(benchmark_id, items)
        return benchmark_id

    def _insert_items(self, benchmark_id: int, items: list[dict]) -> None:
        rows = [
            (benchmark_id, i["item_key"], idx, i["system_prompt"])
            + (json.dumps(i["messages"], ensure_ascii=False), json.dumps(i["rules"], ensure_ascii=False))
            for idx, i in enumerate(items)
        ]
        types = {"benchmark_id": pa.int64(), "idx": pa.int32()}
        self.insert_columnar("benchmark_items", ITEM_COLUMNS, rows, types)

    def benchmark_row(self, name: str) -> dict | None:
        return self._one("SELECT * FROM benchmarks WHERE name = ?", [name])

    def benchmark_items(self, benchmark_id: int) -> list[dict]:
        """A benchmark's items in their frozen order."""
        rows = self._rows(
            "SELECT item_key, system_prompt, messages, rules FROM benchmark_items "
            "WHERE benchmark_id = ? ORDER BY idx",
            [benchmark_id],
        )
        for row in rows:
            row["messages"], row["rules"] = json.loads(row["messages"]), json.loads(row["rules"])
        return rows

    def list_benchmarks(self) -> list[dict]:
        return self._rows(
            "SELECT name, source, n_items AS items, content_hash, created_at, created_by "
            "FROM benchmarks ORDER BY created_at, id"
        )
