"""Fine-tunes as models: a registered name stands for its `hf:<folder>` spec, shown by that name, offered
next to its base."""

import re
from pathlib import Path

from rnr_core.errors import ModelSpecError

# Spec -> name of every fine-tune this process has read from a store, for display (rnr_core.models.names).
_NAMES: dict[str, str] = {}


def spec_of(out) -> str:
    """The model spec of a fine-tune's folder."""
    return f"hf:{Path(out).expanduser().absolute()}"


def _remember(rows: list[dict]) -> list[dict]:
    _NAMES.update({r["spec"]: r["name"] for r in rows})
    return rows


def known(store) -> dict[str, str]:
    """Spec -> name of every fine-tune in the store, remembered so this process shows them by name."""
    return {r["spec"]: r["name"] for r in _remember(store.fine_tunes())}


def resolve_spec(store, spec_or_name: str) -> str:
    """A finished fine-tune's spec for its name; any other spec as given."""
    known(store)  # the reports that follow name every fine-tune, not just this one
    ft = store.fine_tune(spec_or_name)
    if ft is None:
        return spec_or_name
    if ft["status"] != "completed":
        raise ModelSpecError(
            f"Fine-tune {spec_or_name!r} has no finished model: its training is {ft['status']}"
            f"{' (' + ft['error'] + ')' if ft['error'] else ''}. 'rnr train --list' shows every fine-tune."
        )
    return ft["spec"]


def model_choices(store, specs=("local",)) -> list[tuple[str, str]]:
    """(label, spec) for each of `specs`, each followed by its finished fine-tunes (and theirs); then the
    fine-tunes whose base is not among them, after their base."""
    done = _remember(store.fine_tunes("completed"))
    by_base: dict[str, list[dict]] = {}
    for ft in sorted(done, key=lambda ft: ft["created_at"]):
        by_base.setdefault(_base_spec(store, ft["base"]), []).append(ft)
    fine_tuned = {ft["spec"] for ft in done}
    choices: list[tuple[str, str]] = []

    def add(spec: str, label: str) -> None:
        if any(spec == listed for _, listed in choices):
            return
        choices.append((label, spec))
        if by_base.get(spec) and (start := trained_base(spec)):
            add(start, _NAMES.setdefault(start, f"{label} (float32, as its fine-tunes start)"))
        for ft in by_base.get(spec, []):
            add(ft["spec"], f"{ft['name']} (fine-tune of {_NAMES.get(spec, spec)})")

    for spec in [*specs, *(b for b in by_base if b not in fine_tuned)]:
        add(spec, _NAMES.get(spec, spec))
    return choices


def trained_base(spec: str) -> str | None:
    """The `hf:` checkpoint a GGUF base is fine-tuned from, once cached: its fine-tunes run on the same
    backend from the same weights, so a side-by-side shows what training changed, not quantisation."""
    from rnr_core import settings
    from rnr_core.models import llamacpp  # noqa: F401  (registers the `local` alias)
    from rnr_core.models.convert import cached_checkpoint_dir
    from rnr_core.models.registry import ALIASES

    prefix, _, gguf = (ALIASES[spec]() if spec in ALIASES else spec).partition(":")
    if prefix != "llamacpp" or not Path(gguf).is_file():
        return None
    folder = cached_checkpoint_dir(gguf, settings.rnr_home() / "models")
    return spec_of(folder) if (folder / "config.json").is_file() else None


def demo_pair(store, offered) -> list[str]:
    """The newest finished fine-tune among `offered` specs and the spec its training started from (for a
    GGUF base its float32 checkpoint once cached, so a side-by-side shows what training changed, not
    quantisation); [] when none is offered."""
    done = [ft for ft in store.fine_tunes("completed") if ft["spec"] in offered]
    if not done:
        return []
    newest = max(done, key=lambda ft: ft["created_at"])
    base = _base_spec(store, newest["base"])
    start = trained_base(base) or base
    return [start if start in offered else next(iter(offered)), newest["spec"]]


def _base_spec(store, base: str) -> str:
    """A recorded base as a spec: a fine-tune's name becomes its folder's spec."""
    ft = store.fine_tune(base)
    return ft["spec"] if ft else base


def names() -> dict[str, str]:
    """Spec -> name of the fine-tunes this process has read from a store."""
    return dict(_NAMES)


def shown(text: str) -> str:
    """`text` with each known fine-tune's spec replaced by its name (a whole spec only, not a prefix)."""
    for spec, name in sorted(_NAMES.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(re.escape(spec) + r"(?![\w./-])", lambda _, name=name: name, text)
    return text
