"""The model a fine-tune starts from: the embedded GGUF (dequantised once), a checkpoint, or a fine-tune."""

from dataclasses import dataclass
from pathlib import Path

from rnr_core import settings
from rnr_core.errors import ModelSpecError
from rnr_core.models.registry import ALIASES
from rnr_core.train import hints  # noqa: F401  (registers the fixes named below)


@dataclass(frozen=True)
class Base:
    """`spec` as recorded with the fine-tune; a checkpoint folder, or a GGUF still to dequantise."""

    spec: str
    checkpoint: Path | None = None
    gguf: Path | None = None

    def folder(self) -> Path:
        """The checkpoint to train from, dequantising the GGUF into the cache the first time."""
        if self.checkpoint is not None:
            return self.checkpoint
        from rnr_core.models.convert import cached_checkpoint

        return cached_checkpoint(self.gguf, settings.rnr_home() / "models")

    def check_template(self) -> None:
        """Refuse a checkpoint whose chat template cannot limit the loss to the assistant's turns, before
        any work starts (the embedded GGUF's is SmolLM2's ChatML, which the shipped template matches)."""
        if self.checkpoint is None:
            return
        from transformers import AutoTokenizer

        from rnr_core.train.template import training_template

        training_template(AutoTokenizer.from_pretrained(str(self.checkpoint)))


def _checkpoint(folder: str, spec: str) -> Path:
    path = Path(folder).expanduser().resolve()
    if not (path / "config.json").is_file():
        raise ModelSpecError(
            f"Base model {spec}: {path} is not a transformers checkpoint (no config.json there).",
            hint="train_base",
        )
    return path


def _gguf(path: str, spec: str) -> Path:
    gguf = Path(path).expanduser().resolve()
    if not gguf.is_file():
        raise ModelSpecError(f"Base model {spec}: no GGUF file at {gguf}.", hint="train_base")
    return gguf


def _fine_tune(store, name: str) -> Base:
    ft = store.fine_tune(name)
    if ft["status"] != "completed":
        raise ModelSpecError(
            f"Base model {name}: that fine-tune's training is {ft['status']}, so it has no finished model "
            "to start from.",
            hint="train_base",
        )
    return Base(name, _checkpoint(ft["spec"].partition(":")[2], name))


def resolve_base(store, base: str) -> Base:
    """The base `local`, `llamacpp:<gguf>`, `hf:<folder>` or a fine-tune's name: checked, not loaded."""
    from rnr_core.models import llamacpp  # noqa: F401  (registers the `local` alias)

    spec = ALIASES[base]() if base in ALIASES else base
    prefix, _, rest = spec.partition(":")
    if prefix == "llamacpp" and rest:
        gguf = _gguf(rest, base)
        return Base(base if base in ALIASES else f"llamacpp:{gguf}", gguf=gguf)
    if prefix == "hf" and rest:
        path = _checkpoint(rest, base)
        return Base(f"hf:{path}", path)
    if store.fine_tune(base) is not None:
        return _fine_tune(store, base)
    raise ModelSpecError(
        f"Base model {base!r} cannot be trained: training needs a model's weights on this machine.",
        hint="train_base",
    )
