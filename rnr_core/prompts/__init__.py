"""Versioned prompt templates kept as files: `<name>.<version>.txt`, filled with `$fields`."""

from dataclasses import dataclass
from importlib.resources import files
from string import Template


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    version: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.name}.{self.version}"

    def render(self, **fields) -> str:
        """Fill every `$field`; a missing one is a KeyError naming it."""
        return Template(self.text).substitute(fields).strip()

    def lines(self) -> list[str]:
        """Non-comment lines, for templates that hold one alternative per line."""
        return [ln for ln in self.text.splitlines() if ln.strip() and not ln.startswith("#")]


def load(name: str, version: str = "v1") -> PromptTemplate:
    text = (files(__package__) / f"{name}.{version}.txt").read_text(encoding="utf-8")
    return PromptTemplate(name, version, text)
