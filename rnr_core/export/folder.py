"""The files an export writes into its folder, and what an earlier export left there."""

import contextlib
from pathlib import Path

import orjson

from rnr_core.errors import OutputError
from rnr_core.export.formats import FORMATS
from rnr_core.export.splits import SPLITS
from rnr_core.review import plural

SUFFIXES = tuple(dict.fromkeys(f.suffix for f in FORMATS.values()))
# Every file an export may write: any of them found in a folder is an earlier export to ask about.
FILES = (
    *(f"{split}.{suffix}" for suffix in SUFFIXES for split in SPLITS),
    "negatives.jsonl",
    "README.md",
    "manifest.json",
)


class ExportExists(OutputError):
    """The folder already holds files an export would replace; `out` and `contents` say what, to ask first."""

    def __init__(self, out, contents: str):
        super().__init__(
            f"{out} already holds {contents}. Pass --overwrite to replace the export files, "
            "or choose another --out."
        )
        self.out, self.contents = str(out), contents


def split_files(fmt: str, ratios: dict) -> dict[str, str]:
    return {split: f"{split}.{FORMATS[fmt].suffix}" for split in ratios}


def export_files(fmt: str, ratios: dict, negatives: bool) -> list[str]:
    """The files this export writes, in the order of FILES."""
    wanted = {*split_files(fmt, ratios).values(), "README.md", "manifest.json"}
    wanted |= {"negatives.jsonl"} if negatives else set()
    return [name for name in FILES if name in wanted]


def _said(counts: dict) -> str:
    parts = [f"{n} {split}" for split, n in counts.items()]
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else "".join(parts)


def describe_contents(found: list[str], manifest: dict | None, others: int) -> str:
    """What a folder holds, in words: the export files found, the export they are from, other files."""
    text = ", ".join(found)
    if manifest and isinstance(manifest.get("counts"), dict) and manifest["counts"]:
        text += (
            f" (an export of {_said(manifest['counts'])} samples"
            f", made {manifest.get('created_at', 'at an unknown time')})"
        )
    if others:
        text += f", and {plural(others, 'other item')}, which an export leaves alone"
    return text


def existing_export(out_dir) -> str | None:
    """What in `out_dir` an export would replace, described; None when nothing would be."""
    out = Path(out_dir)
    found = [name for name in FILES if (out / name).exists()]
    if not found:
        return None
    try:
        manifest = orjson.loads((out / "manifest.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        manifest = None  # no readable manifest: the files are still named
    others = sum(1 for p in out.iterdir() if p.name not in FILES and not p.name.startswith("."))
    return describe_contents(found, manifest if isinstance(manifest, dict) else None, others)


def remove_stale(out_dir, written: list[str]) -> None:
    """Remove files of an earlier export that this one replaced but did not write (another format, or a
    split it no longer has), so the folder holds one export."""
    for name in FILES:
        if name not in written:
            with contextlib.suppress(FileNotFoundError):
                (Path(out_dir) / name).unlink()
