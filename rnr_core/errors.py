"""Domain exceptions. Each message says what went wrong and what to do next."""

from rnr_core.hints import with_hint
from rnr_core.secrets import scrub


class RnrError(Exception):
    """Base class for errors shown to users as a message, not a traceback.

    `hint` names what to do next (rnr_core.hints); `str(exc)` words it for the command line and
    `says("app")` for the app, so each edge names its own controls.
    """

    def __init__(self, message: str = "", *args, hint: str | None = None, **params):
        # Messages are stored and printed; a server may have echoed the key into them.
        self.what, self.hint, self.params = scrub(str(message)), hint, params
        super().__init__(scrub(with_hint(self.what, hint, "cli", **params)), *args)

    def says(self, edge: str) -> str:
        """The message with its fix worded for `edge` ('cli' or 'app')."""
        return scrub(with_hint(self.what, self.hint, edge, **self.params))


class StoreError(RnrError):
    """The DuckDB file cannot be opened or used."""


class StoreLocked(StoreError):
    """The DuckDB file is held by another process."""


class MigrationError(RnrError):
    """A schema migration failed and was rolled back."""


class IngestError(RnrError):
    """An input file could not be imported; nothing from it was written."""


class SettingError(RnrError):
    """A setting from the environment or a flag has a value that cannot be used."""


class Forbidden(RnrError):
    """The acting identity's role does not allow the action; nothing was done."""


class OutputError(RnrError):
    """An output file or directory cannot be written; nothing was written."""


class ModelSpecError(RnrError):
    """A model spec string does not name a known backend."""


class ModelCallError(RnrError):
    """An LLM call failed after its retries.

    `transient` failures (unreachable, rate-limited, overloaded) stop a run, since later calls
    would fail too; others (a request the server refuses) fail only their own item.
    """

    def __init__(self, message: str, transient: bool = False, hint: str | None = None, **params):
        super().__init__(message, hint=hint, **params)
        self.transient = transient


class InvalidOutput(RnrError):
    """A model reply did not parse or validate; `raw` keeps the text, `reason` a short code."""

    def __init__(self, message: str, raw: str, reason: str = "invalid"):
        super().__init__(message)
        self.raw, self.reason = scrub(raw), reason


class QualityGateFailed(InvalidOutput):
    """A reply parsed but is unfit to train on; `reasons` are its problem codes, `reason` the first."""

    def __init__(self, message: str, raw: str, reasons: list[str]):
        super().__init__(message, raw, reasons[0])
        self.reasons = tuple(reasons)


class NotFound(RnrError):
    """A dataset, run or sample id does not exist."""


class RuleError(RnrError):
    """A rule names an unknown kind or has missing or ill-typed kwargs."""


class EvalInputError(RnrError):
    """An evaluation input file is malformed or does not match its counterpart; nothing was written."""


class BenchmarkError(RnrError):
    """A benchmark cannot be frozen as asked (a name in use, no items); nothing was written."""


class ReviewError(RnrError):
    """A review action, filter or edit is invalid; nothing was changed."""


class VersionConflict(RnrError):
    """Another reviewer saved the sample first; the losing edit is kept as an unapplied revision.

    `current` is the sample as now stored; `draft_revision` the revision holding the losing edit.
    """

    def __init__(self, message: str, current: dict | None = None, draft_revision: int | None = None):
        super().__init__(message)
        self.current, self.draft_revision = current, draft_revision


class LabelError(RnrError):
    """A human label of a verdict is incomplete or invalid; nothing was written."""


class VoteError(RnrError):
    """A pairwise vote is incomplete or invalid; nothing was written."""
