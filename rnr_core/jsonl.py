"""Output directories checked before work starts, and JSONL files written whole or not at all."""

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

import orjson

from rnr_core.errors import OutputError

# JSON allows these raw inside strings, but line splitters (str.splitlines, JavaScript) break on them.
_LINE_SEPARATORS = (("\u2028".encode(), b"\\u2028"), ("\u2029".encode(), b"\\u2029"))


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _probe(directory: Path) -> None:
    """Create and remove a file: the only sure test of writability (root ignores modes, /proc does not)."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=".rnr-probe-")
    os.close(fd)
    os.unlink(name)


def check_out_dir(path) -> Path:
    """Fail now, creating nothing, if `path` cannot become a directory that files are written into."""
    path = Path(path)
    base = _nearest_existing(path.absolute())
    if not base.is_dir():
        what = "is a file" if base == path.absolute() else f"is under {base}, which is a file"
        raise OutputError(f"Output path {path} {what}, not a directory; give a directory to write into.")
    try:
        _probe(base)
    except OSError as exc:
        raise OutputError(
            f"Cannot write output to {path}: creating a file in {base} failed ({exc.strerror}); "
            "give a directory you can write to."
        ) from exc
    return path


def out_dir(path) -> Path:
    """Check `path`, then create it (with its parents) if missing."""
    path = check_out_dir(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create output directory {path} ({exc.strerror}).") from exc
    return path


def _temp_beside(directory: Path, name: str) -> tuple[int, str]:
    """A new hidden temp file for `name` in `directory`, open for writing; returns (fd, path).

    Unlike mkstemp (always 0600), it is created 0666 less the umask, so once renamed into place the
    file has the mode any file the user makes would have (0644 under umask 022).
    """
    while True:
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue


def dumps(row) -> bytes:
    """One JSONL line, with U+2028/U+2029 escaped so every line splitter sees one record."""
    line = orjson.dumps(row)
    for raw, escaped in _LINE_SEPARATORS:
        line = line.replace(raw, escaped)
    return line + b"\n"


def _write_atomic(path, chunks) -> None:
    """Write beside the target, then rename, so a reader never sees half a file."""
    path = Path(path)
    try:
        fd, tmp = _temp_beside(path.parent, path.name)
    except OSError as exc:
        raise OutputError(f"Cannot write {path} ({exc.strerror}); give a writable directory.") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.writelines(chunks)
        os.replace(tmp, path)
    except BaseException as exc:
        os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(f"Cannot write {path} ({exc.strerror or exc}).") from exc
        raise


def write_jsonl(path, rows) -> None:
    """One JSON object per line, written whole or not at all."""
    _write_atomic(path, (dumps(r) for r in rows))


def write_json(path, data) -> None:
    """An indented JSON document, written whole or not at all."""
    _write_atomic(path, [orjson.dumps(data, option=orjson.OPT_INDENT_2)])


def _missing_dirs(path: Path) -> list[Path]:
    """The directories that creating `path` would make, outermost first."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing[::-1]


def _discard(temps: dict, made: list[Path]) -> None:
    """Remove the temp files, then the directories made for them (left if something else is in them)."""
    for f, tmp in temps.values():
        f.close()
        if os.path.exists(tmp):  # already moved into place if a later rename failed
            os.unlink(tmp)
    for directory in reversed(made):
        with contextlib.suppress(OSError):  # not empty: another program wrote there; keep its files
            directory.rmdir()


@contextlib.contextmanager
def staged_files(directory, names: list[str]):
    """Writable temp files for `names` in `directory`, moved into place together when the block succeeds.

    On any error the temp files, and the directories made for them, are removed: nothing half-written.
    """
    directory = Path(directory).absolute()
    made = _missing_dirs(directory)
    out_dir(directory)
    temps: dict[str, tuple] = {}
    try:
        for name in names:
            fd, tmp = _temp_beside(directory, name)
            temps[name] = (os.fdopen(fd, "wb", buffering=1 << 20), tmp)
        yield {name: f for name, (f, _) in temps.items()}
        for f, _ in temps.values():
            f.close()
        for name, (_, tmp) in temps.items():
            os.replace(tmp, directory / name)
    except BaseException as exc:
        _discard(temps, made)
        if isinstance(exc, OSError):
            raise OutputError(f"Cannot write to {directory} ({exc.strerror or exc}).") from exc
        raise
