"""The name a stored model spec is shown by: in team mode the operator's name for its model, never the
endpoint's address; credentials masked everywhere."""

import re

from rnr_core import access
from rnr_core.models import finetunes
from rnr_core.secrets import scrub

# An endpoint spec's address: in team mode the operator's business, never shown to visitors.
_ADDRESS = re.compile(r"@(?:https?://)?[^\s,;)]+")


def team_names() -> dict[str, str]:
    """In team mode, each operator model's stored spec (`openai:<model>@<url>`) -> its name; else empty."""
    from rnr_core.models.connection import team_model_settings  # connection imports this module's users

    if not access.config().team:
        return {}
    return {team_model_settings(name).resolved_spec(): name for name in access.config().models}


def shown(text: str, names: dict[str, str] | None = None) -> str:
    """`text` (a spec, or a line naming specs) as a visitor may read it: team models by the operator's
    name, fine-tunes by their registered name, any other endpoint's address hidden in team mode,
    credentials masked."""
    names = team_names() if names is None else names
    text = finetunes.shown(text)  # a fine-tune's folder by its registered name
    for spec, name in sorted(names.items(), key=lambda kv: -len(kv[0])):  # longest first: no partial hit
        text = text.replace(spec, name)
    if access.config().team:
        text = _ADDRESS.sub("@(endpoint hidden)", text)
    return scrub(text)
