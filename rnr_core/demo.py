"""The demo a new user meets: the bundled instructions, and samples from the embedded model."""

from pathlib import Path

from rnr_core.generate import start_run
from rnr_core.generate.plan import RunConfig
from rnr_core.ingest import ingest_file

DEMO_FILE = Path(__file__).resolve().parent.parent / "data" / "demo_alpaca.jsonl"
# Small enough that the first samples show within a minute or two on 2 cores: two groups of two,
# short replies, no extra turns; the tiny model needs the quality gate off.
DEMO_RUN = RunConfig(
    dataset="demo",
    model="local",
    n=4,
    k=2,
    rules=2,
    tempting=False,
    out_of_scope=False,
    quality_gate=False,
    max_tokens=200,
    seed=7,
)


def seed_demo(store, jobs, path: Path = DEMO_FILE) -> str | None:
    """On an empty store, import the demo data and start generating in the background; the job id."""
    if store.list_datasets() or not path.is_file():
        return None
    ingest_file(store, path, DEMO_RUN.dataset)
    return jobs.start("generate", run_id=start_run(store, DEMO_RUN))
