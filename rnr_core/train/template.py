"""The chat template training renders with: it must mark the assistant's tokens so only they count."""

import re
from pathlib import Path

from rnr_core.errors import ModelSpecError
from rnr_core.train import hints  # noqa: F401  (registers the fixes named below)

CHATML = Path(__file__).with_name("chatml.jinja")
_MARKED = re.compile(r"\{%-?\s*generation\s*-?%\}")
# Conversations the base's own template and ours must render alike, with and without a generation prompt.
PROBES = (
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Bye"},
    ],
)


def chatml() -> str:
    return CHATML.read_text(encoding="utf-8")


def marks_generation(template: str | None) -> bool:
    """Whether a template marks the assistant's turns with {% generation %}."""
    return bool(template) and _MARKED.search(template) is not None


def _renders_alike(tokenizer, a: str, b: str) -> bool:
    return all(
        tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=g, chat_template=a)
        == tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=g, chat_template=b)
        for c in PROBES
        for g in (False, True)
    )


def training_template(tokenizer) -> str:
    """The base's template if it marks generation; else the shipped ChatML one where it renders exactly as
    the base's does (SmolLM2's), so prompts at inference match the prompts trained on."""
    own = tokenizer.chat_template
    if marks_generation(own):
        return own
    if own and _renders_alike(tokenizer, own, chatml()):
        return chatml()
    raise ModelSpecError(
        "The base model's chat template does not mark the assistant's turns ({% generation %}), and it is "
        "not the ChatML format whose marked version ships here, so the loss cannot be limited to the "
        "assistant's answers.",
        hint="train_base",
    )


def assistant_mask(tokenizer, messages: list[dict], template: str) -> tuple[list[int], list[int]]:
    """The token ids of `messages` rendered with `template`, and 1 for each token the loss is taken on."""
    out = tokenizer.apply_chat_template(
        messages, chat_template=template, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    return list(out["input_ids"]), list(out["assistant_masks"])
