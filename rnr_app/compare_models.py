"""Which models a person may put on the Compare page, what each runs as, and the name each is shown by."""

from rnr_app import state
from rnr_core import access
from rnr_core.models import finetunes
from rnr_core.models.connection import team_model_settings, use_model
from rnr_core.models.names import shown


def choices() -> dict[str, str]:
    """The models this person may put in: key -> the name shown. The embedded model and the finished
    fine-tunes, each right after its base; in personal mode the sidebar's model, in team mode the
    operator's models by name (and no checkpoint folder that is not a registered fine-tune: a server path)."""
    found = {}
    for label, spec in finetunes.model_choices(state.store()):
        name = finetunes.names().get(spec)  # a fine-tune by its registered name
        if name or not (state.team() and spec.startswith("hf:")):
            found[spec] = name or label
    if state.team():
        found.update({f"team:{name}": name for name in access.config().models})
    elif (active := state.active_spec()) != "local" and not active.startswith("not set"):
        found["sidebar"] = active
    return found


def spec_of(key: str) -> str:
    """The spec a choice runs as; a sidebar or team model is built and served under its spec first."""
    if key == "sidebar":
        return use_model(state.model_settings()).spec
    if key.startswith("team:"):
        return use_model(team_model_settings(key.removeprefix("team:"))).spec
    return key


def known_fine_tunes() -> tuple:
    """(spec, name) of every finished fine-tune, read from the store now, so that names show them by
    their registered name (a chart drawn before this process read the store would show a folder)."""
    finetunes.model_choices(state.store())
    return tuple(sorted(finetunes.names().items()))


def names_of(specs) -> dict[str, str]:
    """Each stored spec -> the name the page shows (the operator's name for a team model, a fine-tune's
    registered name; never a URL)."""
    known_fine_tunes()
    return {spec: shown(spec) for spec in specs}
