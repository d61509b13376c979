"""Detectable format and content kinds: lists, highlights, sections, JSON, titles, markers."""

import json
import re

from rnr_core.rules.base import RuleKind, integer, register, text

_STAR_BULLET = re.compile(r"^\s*\*[^\*].*$", flags=re.MULTILINE)
_DASH_BULLET = re.compile(r"^\s*-.*$", flags=re.MULTILINE)
_SINGLE = re.compile(r"\*[^\n\*]*\*")
_DOUBLE = re.compile(r"\*\*[^\n\*]*\*\*")
_PLACEHOLDER = re.compile(r"\[.*?\]")
_TITLE = re.compile(r"<<[^\n]+>>")
_FENCE_TAGS = ("```json", "```Json", "```JSON", "```")
ANSWERS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


@register
class NumberPlaceholders(RuleKind):
    id, category = "detectable_content:number_placeholders", "content"
    params = (integer("num_placeholders"),)

    def check(self, response):
        return len(_PLACEHOLDER.findall(response)) >= self.num_placeholders

    def render(self):
        return f"Include at least {self.num_placeholders} placeholders in square brackets, such as [name]."

    @classmethod
    def sample(cls, rng):
        return {"num_placeholders": rng.randint(1, 3)}


def _marker_pattern(marker: str) -> re.Pattern:
    """P.S. and P.P.S allow a space after each dot; other markers are literal."""
    key = marker.strip().lower()
    body = {"p.p.s": r"p\.\s?p\.\s?s", "p.s.": r"p\.\s?s\."}.get(key, re.escape(key))
    return re.compile(r"^\s*" + body, flags=re.MULTILINE)


@register
class Postscript(RuleKind):
    id, category = "detectable_content:postscript", "content"
    params = (text("postscript_marker"),)

    def check(self, response):
        return bool(_marker_pattern(self.postscript_marker).search(response.lower()))

    def render(self):
        return f"End with a postscript that starts with {self.postscript_marker}"

    @classmethod
    def sample(cls, rng):
        return {"postscript_marker": rng.choice(("P.S.", "P.P.S"))}


@register
class NumberBulletLists(RuleKind):
    id, category = "detectable_format:number_bullet_lists", "format"
    params = (integer("num_bullets"),)

    def check(self, response):
        found = len(_STAR_BULLET.findall(response)) + len(_DASH_BULLET.findall(response))
        return found == self.num_bullets

    def render(self):
        return (
            f"Give exactly {self.num_bullets} markdown bullet points (lines starting with "
            "* or -), and no other bulleted lines."
        )

    @classmethod
    def sample(cls, rng):
        return {"num_bullets": rng.randint(2, 5)}


@register
class ConstrainedResponse(RuleKind):
    id, category = "detectable_format:constrained_response", "format"
    in_pool = False  # only fits yes/no questions

    def check(self, response):
        return any(answer in response.strip() for answer in ANSWERS)

    def render(self):
        return "Answer with one of: " + ", ".join(f'"{a}"' for a in ANSWERS)


@register
class NumberHighlightedSections(RuleKind):
    id, category = "detectable_format:number_highlighted_sections", "format"
    params = (integer("num_highlights"),)

    def check(self, response):
        spans = _SINGLE.findall(response) + _DOUBLE.findall(response)
        return sum(1 for s in spans if s.strip("*").strip()) >= self.num_highlights

    def render(self):
        return (
            f"Highlight at least {self.num_highlights} sections with markdown, "
            "for example *highlighted section*."
        )

    @classmethod
    def sample(cls, rng):
        return {"num_highlights": rng.randint(1, 3)}


@register
class MultipleSections(RuleKind):
    id, category = "detectable_format:multiple_sections", "format"
    params = (text("section_spliter"), integer("num_sections"))

    def check(self, response):
        pieces = re.split(r"\s?" + re.escape(self.section_spliter.strip()) + r"\s?\d+\s?", response)
        return len(pieces) - 1 >= self.num_sections

    def render(self):
        return (
            f"Organise the response in {self.num_sections} sections, each starting with "
            f"'{self.section_spliter} X' where X is its number."
        )

    @classmethod
    def sample(cls, rng):
        return {
            "section_spliter": rng.choice(("Section", "SECTION", "Part")),
            "num_sections": rng.randint(2, 4),
        }


def _unfence(response: str) -> str:
    value = response.strip()
    for tag in _FENCE_TAGS:
        value = value.removeprefix(tag)
    return value.removesuffix("```").strip()


@register
class JsonFormat(RuleKind):
    id, category = "detectable_format:json_format", "format"

    def check(self, response):
        try:
            json.loads(_unfence(response))
        except ValueError:
            return False
        return True

    def render(self):
        return "Format the entire output as JSON; you may wrap it in a ``` code fence."


@register
class Title(RuleKind):
    id, category = "detectable_format:title", "format"

    def check(self, response):
        return any(t.lstrip("<").rstrip(">").strip() for t in _TITLE.findall(response))

    def render(self):
        return "Give the response a title wrapped in double angular brackets, such as <<my title>>."
