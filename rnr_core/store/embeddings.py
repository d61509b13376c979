"""Stored instruction embeddings: one vector per (text hash, model), written once and read by hash."""

import numpy as np
import pyarrow as pa


def _vectors(hashes: list[str], vectors: np.ndarray) -> pa.Table:
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel())
    return pa.table(
        {"text_hash": pa.array(hashes, pa.string()), "vector": pa.FixedSizeListArray.from_arrays(flat, 384)}
    )


def as_matrix(batch) -> tuple[list[str], np.ndarray]:
    """(hashes, float32 matrix) of an Arrow batch of (text_hash, vector) rows."""
    vectors = batch.column(1)
    if isinstance(vectors, pa.ChunkedArray):
        vectors = vectors.combine_chunks()
    matrix = vectors.values.to_numpy(zero_copy_only=False).reshape(len(vectors), -1)
    return batch.column(0).to_pylist(), matrix


class EmbeddingQueries:
    def add_embeddings(self, model: str, hashes: list[str], vectors: np.ndarray) -> None:
        """Store vectors for these text hashes; a hash already stored for `model` keeps its vector."""
        if not hashes:
            return
        data = _vectors(hashes, vectors)

        def write():
            self.con.register("_new_embeddings", data)
            try:
                with self.transaction():
                    self.con.execute(
                        "INSERT OR IGNORE INTO embeddings (text_hash, model, vector) "
                        "SELECT text_hash, $model, vector FROM _new_embeddings",
                        {"model": model},
                    )
            finally:
                self.con.unregister("_new_embeddings")

        self.retrying(write)

    def embedding_count(self, model: str | None = None) -> int:
        """How many vectors are stored (for `model`, or for any)."""
        return self._scalar(
            "SELECT count(*) FROM embeddings WHERE $model IS NULL OR model = $model", {"model": model}
        )

    def embeddings_of(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these text hashes (those stored), by hash."""
        self.con.register("_wanted_hashes", pa.table({"text_hash": pa.array(list(hashes), pa.string())}))
        try:
            table = self.con.sql(
                "SELECT text_hash, vector FROM embeddings "
                "WHERE model = $model AND text_hash IN (SELECT text_hash FROM _wanted_hashes)",
                params={"model": model},
            ).to_arrow_table()
        finally:
            self.con.unregister("_wanted_hashes")
        found, matrix = as_matrix(table)
        return dict(zip(found, matrix))
