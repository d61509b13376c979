"""Combination, start/end, case, punctuation and language kinds."""

from rnr_core.rules.base import RuleKind, compare, integer, phrase, register, relation, text
from rnr_core.rules.text import language, word_tokens

LANGUAGES = {
    "en": "English",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "ru": "Russian",
    "ja": "Japanese",
    "ko": "Korean",
    "zh-cn": "Chinese",
    "ar": "Arabic",
    "hi": "Hindi",
    "bn": "Bengali",
    "ta": "Tamil",
    "te": "Telugu",
    "mr": "Marathi",
    "gu": "Gujarati",
    "kn": "Kannada",
    "pa": "Punjabi",
    "ur": "Urdu",
    "ne": "Nepali",
    "fa": "Persian",
    "tr": "Turkish",
    "sw": "Swahili",
    "th": "Thai",
    "vi": "Vietnamese",
    "fi": "Finnish",
    "pl": "Polish",
    "bg": "Bulgarian",
}
_END_PHRASES = (
    "Is there anything else I can help with?",
    "Let me know if you have additional questions.",
    "Hope this helps.",
)


def _is_language(value: str, code: str) -> bool:
    """Detection failure counts as followed."""
    found = language(value)
    return found is None or found == code


@register
class TwoResponses(RuleKind):
    id, category = "combination:two_responses", "format"
    in_pool = False  # two alternative answers make a poor training target

    def check(self, response):
        pieces = response.split("******")
        kept = []
        for i, piece in enumerate(pieces):
            if piece.strip():
                kept.append(piece.strip())
            elif i not in (0, len(pieces) - 1):
                return False
        return len(kept) == 2 and kept[0] != kept[1]

    def render(self):
        return "Give two different responses, separated by six asterisks: ******."


@register
class RepeatPrompt(RuleKind):
    id, category = "combination:repeat_prompt", "format"
    params = (text("prompt_to_repeat"),)
    in_pool = False  # tied to one request, so it cannot sit in a shared system prompt

    def check(self, response):
        return response.strip().lower().startswith(self.prompt_to_repeat.strip().lower())

    def render(self):
        return f"First repeat this request word for word, then answer it: {self.prompt_to_repeat}"


@register
class EndChecker(RuleKind):
    id, category = "startend:end_checker", "format"
    params = (text("end_phrase"),)

    def check(self, response):
        return response.strip().strip('"').lower().endswith(self.end_phrase.strip().lower())

    def render(self):
        return f'Finish the response with the exact phrase "{self.end_phrase}"; nothing may follow it.'

    @classmethod
    def sample(cls, rng):
        return {"end_phrase": rng.choice(_END_PHRASES)}


@register
class Quotation(RuleKind):
    id, category = "startend:quotation", "format"

    def check(self, response):
        value = response.strip()
        return len(value) > 1 and value[0] == '"' and value[-1] == '"'

    def render(self):
        return "Wrap the entire response in double quotation marks."


@register
class CapitalWordFrequency(RuleKind):
    id, category = "change_case:capital_word_frequency", "style"
    params = (integer("capital_frequency"), relation("capital_relation"))

    def check(self, response):
        found = sum(1 for w in word_tokens(response) if w.isupper())
        return compare(found, self.capital_relation, self.capital_frequency)

    def render(self):
        words = phrase(self.capital_relation, self.capital_frequency, "times")
        return f"Words written in all capital letters should appear {words}."

    @classmethod
    def sample(cls, rng):
        rel = rng.choice(("less than", "at least"))
        return {
            "capital_relation": rel,
            "capital_frequency": rng.randint(2, 4) if rel == "less than" else rng.randint(1, 3),
        }


@register
class EnglishCapital(RuleKind):
    id, category = "change_case:english_capital", "style"

    def check(self, response):
        return response.isupper() and _is_language(response, "en")

    def render(self):
        return "Write the entire response in English, using capital letters only."


@register
class EnglishLowercase(RuleKind):
    id, category = "change_case:english_lowercase", "style"

    def check(self, response):
        return response.islower() and _is_language(response, "en")

    def render(self):
        return "Write the entire response in English, using lowercase letters only; no capitals."


@register
class NoComma(RuleKind):
    id, category = "punctuation:no_comma", "style"

    def check(self, response):
        return "," not in response

    def render(self):
        return "Do not use any commas in the response."


@register
class ResponseLanguage(RuleKind):
    id, category = "language:response_language", "language"
    params = (text("language"),)

    def check(self, response):
        return _is_language(response, self.language)

    def render(self):
        name = LANGUAGES.get(self.language, self.language)
        return f"Respond only in {name}; no other language is allowed."

    @classmethod
    def sample(cls, rng):
        return {"language": rng.choice(("fr", "de", "es", "it", "pt"))}
