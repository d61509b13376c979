"""Datasets, imports and instructions."""

import json

import pyarrow as pa


class DatasetQueries:
    def dataset_id(self, name: str) -> int | None:
        return self._scalar("SELECT id FROM datasets WHERE name = ?", [name])

    def import_instructions(self, name: str, source: str, fmt: str, rows: list[tuple]) -> tuple[int, int]:
        """Add (line, hash, messages, original) rows to dataset `name` atomically; skip duplicates."""
        with self.transaction():
            dataset_id = self.dataset_id(name) or self._scalar(
                "INSERT INTO datasets (name) VALUES (?) RETURNING id", [name]
            )
            seen = {
                h
                for (h,) in self.con.execute(
                    "SELECT hash FROM instructions WHERE dataset_id = ?", [dataset_id]
                ).fetchall()
            }
            fresh = []
            for row in rows:
                if row[1] not in seen:
                    seen.add(row[1])
                    fresh.append(row)
            import_id = self._scalar(
                "INSERT INTO imports (dataset_id, source, format, n_read, n_added, n_duplicates) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                [dataset_id, source, fmt, len(rows), len(fresh), len(rows) - len(fresh)],
            )
            self._bulk_insert_instructions(dataset_id, import_id, fresh)
        return len(fresh), len(rows) - len(fresh)

    def _bulk_insert_instructions(self, dataset_id: int, import_id: int, rows: list[tuple]) -> None:
        if not rows:
            return
        cols = list(zip(*rows))
        table = pa.table(
            {
                "line_no": pa.array(cols[0], pa.int32()),
                "hash": cols[1],
                "messages": cols[2],
                "original": cols[3],
            }
        )
        self.con.register("_incoming", table)
        try:
            self.con.execute(
                "INSERT INTO instructions (dataset_id, import_id, line_no, hash, messages, original) "
                "SELECT ?, ?, line_no, hash, messages, original FROM _incoming",
                [dataset_id, import_id],
            )
        finally:
            self.con.unregister("_incoming")

    def dataset_names(self) -> list[str]:
        return [n for (n,) in self.con.execute("SELECT name FROM datasets ORDER BY name").fetchall()]

    def list_datasets(self) -> list[dict]:
        return self._rows(
            "SELECT d.id, d.name, d.created_at, count(i.id) AS instructions "
            "FROM datasets d LEFT JOIN instructions i ON i.dataset_id = d.id "
            "GROUP BY ALL ORDER BY d.id"
        )

    def instruction_ids(self, dataset_id: int) -> list[int]:
        return [
            r[0]
            for r in self.con.execute(
                "SELECT id FROM instructions WHERE dataset_id = ? ORDER BY id", [dataset_id]
            ).fetchall()
        ]

    def instructions(self, ids: list[int]) -> dict[int, list[dict]]:
        """Messages of the given instruction ids."""
        rows = self.con.execute(
            "SELECT id, messages FROM instructions WHERE list_contains(?, id)", [ids]
        ).fetchall()
        return {i: json.loads(m) for i, m in rows}
