"""How a rule is worded in a system prompt: the kind's own rendering and other phrasings.

Training prompts use the kind's `render()` or one of the `train` phrasings; the held-out benchmark
uses only `heldout` phrasings, so a gain there shows the model follows the rule, not a sentence it
memorised. Each entry maps a rule (a built RuleKind) to its text.
"""

import random

from rnr_core.rules.base import RuleKind


def _quoted(words: list[str]) -> str:
    return " and ".join(f'"{w}"' for w in words)


WORDINGS: dict[str, dict[str, tuple]] = {
    "change_case:english_lowercase": {
        "train": (lambda r: "Use only lowercase letters in the whole answer.",),
        "heldout": (
            lambda r: "Do not write a single capital letter: everything you reply must be lowercase.",
            lambda r: "Your reply must be written entirely in small letters, with no uppercase at all.",
        ),
    },
    "change_case:english_capital": {
        "train": (lambda r: "Write everything in uppercase letters.",),
        "heldout": (
            lambda r: "Reply in ALL CAPS: every letter must be a capital.",
            lambda r: "The entire answer has to be in capital letters, no lowercase allowed.",
        ),
    },
    "startend:quotation": {
        "train": (lambda r: 'Put your whole answer inside double quotes (").',),
        "heldout": (
            lambda r: 'Begin your reply with a double quote character and end it with one ("like this").',
            lambda r: "Enclose the complete answer in a pair of double quotation marks.",
        ),
    },
    "startend:end_checker": {
        "train": (lambda r: f'End your answer with "{r.end_phrase}" and write nothing after it.',),
        "heldout": (
            lambda r: f'The very last words of your reply must be: "{r.end_phrase}"',
            lambda r: f'Close every answer with this exact sentence: "{r.end_phrase}"',
        ),
    },
    "detectable_format:title": {
        "train": (lambda r: "Start with a title in double angle brackets, like <<title>>.",),
        "heldout": (
            lambda r: "Put a heading at the top of your reply, enclosed like this: <<Heading Here>>.",
            lambda r: "Your answer needs a title written between << and >>.",
        ),
    },
    "detectable_content:postscript": {
        "train": (lambda r: f"Add a postscript at the end, starting with {r.postscript_marker}",),
        "heldout": (
            lambda r: f"After your answer, add a short note that begins with {r.postscript_marker}",
            lambda r: f"Finish with an extra remark introduced by {r.postscript_marker}",
        ),
    },
    "punctuation:no_comma": {
        "train": (lambda r: "Never use a comma.",),
        "heldout": (
            lambda r: "The comma character (,) must not appear anywhere in your reply.",
            lambda r: "Write without commas; use other punctuation instead.",
        ),
    },
    "keywords:existence": {
        "train": (lambda r: f"Mention the words {_quoted(r.keywords)} in your answer.",),
        "heldout": (
            lambda r: f"Make sure your reply contains the words {_quoted(r.keywords)}.",
            lambda r: f"Work the words {_quoted(r.keywords)} into what you write.",
        ),
    },
    "detectable_format:number_highlighted_sections": {
        "train": (lambda r: f"Highlight {r.num_highlights} or more parts with *asterisks*.",),
        "heldout": (
            lambda r: f"Emphasise at least {r.num_highlights} phrases by wrapping them in single asterisks.",
            lambda r: f"Mark {r.num_highlights} or more key phrases in markdown italics, *like this*.",
        ),
    },
    "detectable_format:number_bullet_lists": {
        "train": (lambda r: f"Use exactly {r.num_bullets} bullet points (lines starting with * or -).",),
        "heldout": (
            lambda r: f"Your reply must have {r.num_bullets} bulleted lines, no more and no fewer.",
            lambda r: f"Format the answer as a list of exactly {r.num_bullets} markdown bullets.",
        ),
    },
}


def has_wording(kind: str) -> bool:
    return kind in WORDINGS


def word(rule: RuleKind, side: str, rng: random.Random) -> str:
    """The rule's text for a prompt on `side` ('train': render() or a train phrasing; 'heldout')."""
    options = WORDINGS[rule.id][side]
    if side == "train":
        options = (lambda r: r.render(), *options)
    return rng.choice(options)(rule)
