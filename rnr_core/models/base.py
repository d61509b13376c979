"""The one interface every LLM backend implements."""

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class GenParams:
    """Sampling settings; `json_schema` asks for a JSON object of that shape."""

    temperature: float = 0.7
    max_tokens: int = 512
    seed: int | None = None
    json_schema: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Completion:
    text: str
    usage: dict = field(default_factory=dict)
    latency_ms: float = 0.0
    cached: bool = False


class Model(ABC):
    """A chat model addressed by its spec string."""

    spec: str

    @abstractmethod
    async def complete(self, messages: list[dict], params: GenParams) -> Completion:
        """Answer a conversation; raise ModelCallError when the backend fails for good."""

    async def stream(self, messages: list[dict], params: GenParams) -> AsyncIterator[str]:
        """The answer as chunks of text, in order; a backend that cannot stream yields it whole."""
        yield (await self.complete(messages, params)).text

    def describe(self) -> dict:
        """What provenance records about this model."""
        return {"spec": self.spec, "backend": type(self).__name__}
