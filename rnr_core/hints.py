"""What to do next, in each edge's own words: the CLI names its flags, the app its own controls.

A core error says what went wrong and names a hint; the edge that shows it adds the hint's text
for itself (`RnrError.says(edge)`), so no page has to rewrite a message meant for a terminal.
"""

from dataclasses import dataclass

EDGES = ("cli", "app")


@dataclass(frozen=True)
class Hint:
    """One fix, worded for the command line and for the app; `{name}` slots take the error's params."""

    cli: str
    app: str

    def text(self, edge: str, **params) -> str:
        return getattr(self, edge).format(**params)


HINTS: dict[str, Hint] = {
    "column": Hint(
        "Pass --column NAME to say which column holds the instruction (columns: {columns}).",
        "Pick the column that holds the instruction under 'Column' (columns: {columns}). If the first "
        "row holds text rather than column names, set 'Format' to csv-no-header.",
    ),
    "format": Hint(
        "Pass --format, or --column NAME to use one text field.",
        "Pick the file's format under 'Format', or the field that holds the instruction under 'Column'.",
    ),
    "dataset_name": Hint("Give --name a name such as 'demo'.", "Type a dataset name such as 'demo'."),
    "import": Hint(
        "Import one with 'rnr ingest FILE --name NAME'.", "Upload a file under 'Upload a file' first."
    ),
    "list_runs": Hint("'rnr runs' lists the runs.", "The Runs list on the Generate page shows them."),
    "run_sizes": Hint(
        "Set -n, --k and --rules to at least 1.",
        "Set 'Instructions (count)', 'K' and 'Rules per system prompt' to at least 1.",
    ),
    "run_limits": Hint(
        "Set --max-retries and --rejections to 0 or more, --max-tokens to at least 1.",
        "Set 'Retries' to 0 or more.",
    ),
    "verifiable_share": Hint(
        "Give --verifiable-share a value between 0 and 1.", "Set 'Verifiable share of rules' between 0 and 1."
    ),
    "fewer_instructions": Hint(
        "Lower -n or ingest more data.", "Lower 'Instructions (count)', or upload more instructions."
    ),
    "timeout": Hint(
        "Raise it with --timeout SECONDS or RNR_TIMEOUT.",
        "Raise 'Timeout (s)' in the sidebar's Model settings.",
    ),
    "api_key": Hint(
        "Set the {key_env} environment variable, or point at another server with openai:<model>@<base-url>.",
        "Set the {key_env} environment variable before starting the app, or choose 'Endpoint' in the "
        "sidebar's Model settings and give the server's base URL.",
    ),
    "sample_ids": Hint("'rnr samples list' shows the ids.", "Reload the review queue."),
    "export_empty": Hint(
        "Generate some with 'rnr generate' or widen --status.",
        "Generate some on the Generate page, or choose more statuses.",
    ),
    "export_failing": Hint(
        "Judge them with 'rnr judge', or pass --include-failing to export them anyway.",
        "Judge their run on the Generate page, or tick 'Include samples that failed a rule or are not "
        "fully judged' to export them anyway.",
    ),
}


def hint_text(hint: str | None, edge: str, **params) -> str:
    """The fix for `edge`, or '' when there is none."""
    if edge not in EDGES:
        raise ValueError(f"edge must be one of {', '.join(EDGES)}, got {edge!r}")
    return HINTS[hint].text(edge, **params) if hint else ""


def with_hint(what: str, hint: str | None, edge: str, **params) -> str:
    """A message and its fix for `edge`, as one line."""
    fix = hint_text(hint, edge, **params)
    return f"{what} {fix}" if fix else what
