"""Files uploaded in the app: previewed and imported from a temporary copy that is then removed."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from rnr_core.errors import IngestError
from rnr_core.ingest import field_names, ingest_file, read_records

PREVIEW_ROWS = 5


@contextmanager
def _as_file(filename: str, data: bytes):
    """The upload as a file named like the original; errors name the original, not the temp folder."""
    with tempfile.TemporaryDirectory(prefix="rnr-upload-") as tmp:
        path = Path(tmp) / Path(filename).name
        path.write_bytes(data)
        try:
            yield path
        except IngestError as exc:
            raise IngestError(exc.what.replace(tmp + os.sep, ""), hint=exc.hint, **exc.params) from exc


def upload_columns(filename: str, data: bytes, fmt: str | None = None) -> list[str]:
    """The columns (CSV, Parquet) or text fields of the first record (plain JSON) a user may pick."""
    with _as_file(filename, data) as path:
        return field_names(path, fmt)


def preview_upload(filename: str, data: bytes, fmt: str | None = None, column: str | None = None) -> dict:
    """Format, record count and the first records' messages of an uploaded file; writes nothing."""
    with _as_file(filename, data) as path:
        found, records = read_records(path, fmt, column)
        if not records:
            raise IngestError(f"{filename}: no records found. Is the file empty?")
    rows = [{"line": r.line, "messages": r.messages} for r in records[:PREVIEW_ROWS]]
    return {"format": found, "records": len(records), "rows": rows}


def ingest_upload(store, filename: str, data: bytes, name: str, fmt: str | None = None, column=None):
    """Import an uploaded file into dataset `name`, all or nothing."""
    with _as_file(filename, data) as path:
        return ingest_file(store, path, name, fmt, column)
