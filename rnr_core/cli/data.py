"""Data commands: ingest, datasets, models, config."""

from rnr_core.cli import _emit, command


def _ingest_args(p):
    from rnr_core.ingest import FORMATS

    p.add_argument("file", help="Alpaca JSON/JSONL, ShareGPT JSONL, chat JSONL, CSV or Parquet")
    p.add_argument("--name", required=True, help="dataset to add to (created if new)")
    p.add_argument("--format", choices=FORMATS, help="skip detection and read as this format")
    p.add_argument("--column", help="for CSV/Parquet or plain JSON: the field holding the instruction")


@command("ingest", "import an instruction file into a dataset")(_ingest_args)
def _ingest(args, store):
    from dataclasses import asdict

    from rnr_core.ingest import ingest_file

    result = asdict(ingest_file(store, args.file, args.name, args.format, args.column))
    _emit(
        args,
        result,
        lambda r: (
            f"{r['dataset']}: read {r['read']} ({r['format']}), "
            f"added {r['added']}, skipped {r['duplicates']} duplicates"
        ),
    )


@command("datasets", "list datasets")(lambda p: None)
def _datasets(args, store):
    _emit(
        args,
        store.list_datasets(),
        lambda rows: (
            "\n".join(f"{d['name']}\t{d['instructions']} instructions" for d in rows)
            or "No datasets yet. Import one with 'rnr ingest FILE --name NAME'."
        ),
    )


@command("models", "list the model spec forms")(lambda p: None)
def _models(args, store):
    from rnr_core.models.registry import valid_forms

    _emit(args, valid_forms(), lambda forms: "\n".join(forms))


@command("config", "check the operator's configuration file (RNR_CONFIG, else RNR_HOME/config.toml)")(
    lambda p: p.add_argument("action", choices=["check"], help="load the file, refuse a bad entry, show it")
)
def _config(args, store):
    from rnr_core import access

    _emit(args, access.describe(access.reload()), access.describe_text)
