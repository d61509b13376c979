"""How a step of the loop runs: its result is a JSON file in the output folder, written whole once the
step has finished, so a rerun skips every step whose file exists and resumes at the first missing one."""

import json
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from rnr_core.progress import Progress

Say = Callable[[str], None]
SETTINGS = "step_settings"  # the key a stored result keeps the settings it was made with under


class Steps:
    """Runs named steps once, records each one's wall time in `timings.json`."""

    def __init__(self, out: Path, say: Say | None = None):
        self.out = out
        self.say = say or (lambda _msg: None)
        self.out.mkdir(parents=True, exist_ok=True)
        self.timings_path = out / "timings.json"
        self.timings: dict[str, float] = read_json(self.timings_path) or {}

    def path(self, name: str) -> Path:
        return self.out / "steps" / f"{name}.json"

    async def run(self, name: str, work: Callable[[], Awaitable[dict]], settings: dict | None = None) -> dict:
        """The step's stored result, or run `work` and store what it returns. A result stored with other
        `settings` (the ones the step depends on, e.g. max_tokens) is stale: the step runs again."""
        path = self.path(name)
        done = read_json(path)
        # A result stored without settings (by an older version) is trusted: nothing says it is stale.
        if done is not None and done.get(SETTINGS, settings) == settings:
            self.say(f"{name}: done before, skipped ({path.name})")
            return {k: v for k, v in done.items() if k != SETTINGS}
        self.say(f"{name}: running" if done is None else f"{name}: its settings changed, running again")
        start = time.perf_counter()
        result = await work()
        # Read again before adding: another process may have run other steps of this folder meanwhile.
        self.timings = {**(read_json(self.timings_path) or {}), name: round(time.perf_counter() - start, 1)}
        write_json(path, {**result, SETTINGS: settings})
        write_json(self.timings_path, self.timings)
        self.say(f"{name}: {self.timings[name]:.0f} s")
        return result


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def write_json(path: Path, value) -> None:
    """Write through a temporary file and rename, so a crash never leaves half a result."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def progress_line(say: Say, label: str) -> Progress:
    """A progress callback that reports every tenth of the way."""
    shown = [-1]

    def update(done: int, total: int, failed: int = 0) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth != shown[0]:
            shown[0] = tenth
            say(f"  {label}: {done}/{total}" + (f" ({failed} failed)" if failed else ""))

    return update
