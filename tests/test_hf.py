"""The transformers backend on a real checkpoint: SmolLM2 converted from the bundled GGUF."""

import asyncio

import pytest

from rnr_core.errors import ModelCallError
from rnr_core.models.base import GenParams
from rnr_core.models.convert import gguf_to_checkpoint
from rnr_core.models.hf import HFModel
from rnr_core.models.registry import get_model

pytestmark = pytest.mark.slow
QUESTIONS = ["What is 2 + 2?", "Name a colour.", "Say hi to Ana, who is visiting from Lisbon today."]


@pytest.fixture(scope="session")
def checkpoint(gguf_path, tmp_path_factory):
    return str(gguf_to_checkpoint(gguf_path, tmp_path_factory.mktemp("smollm2-hf")))


def ask(model, question, **params):
    return model.complete(
        [{"role": "user", "content": question}], GenParams(temperature=0, max_tokens=12, **params)
    )


def test_concurrent_calls_share_one_batch_and_match_single_calls(checkpoint, monkeypatch):
    model = HFModel(checkpoint)
    batches = []
    original = model.generate_batch
    monkeypatch.setattr(
        model, "generate_batch", lambda convs, params: batches.append(len(convs)) or original(convs, params)
    )

    async def together():  # different seeds, as pipeline items have, still share one batch
        return await asyncio.gather(*(ask(model, q, seed=i) for i, q in enumerate(QUESTIONS)))

    batched = asyncio.run(together())
    assert batches == [3]
    singles = [asyncio.run(ask(model, q)) for q in QUESTIONS]
    assert batches == [3, 1, 1, 1]
    for b, s in zip(batched, singles):
        assert b.text and b.text == s.text  # left padding keeps greedy output unchanged
        assert b.usage["completion_tokens"] > 0 and b.usage["prompt_tokens"] > 5


def test_hf_spec_resolves_through_the_registry(checkpoint):
    model = get_model(f"hf:{checkpoint}")
    assert isinstance(model, HFModel)
    assert asyncio.run(ask(model, "Hello")).text


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    model = HFModel(str(tmp_path / "nothing"))
    with pytest.raises(ModelCallError, match="Cannot load a transformers checkpoint"):
        asyncio.run(ask(model, "Hi"))


def test_batches_in_flight_together_all_answer(checkpoint):
    model = HFModel(checkpoint, batch_size=1)  # three calls, three batches in three threads at once

    async def together():
        return await asyncio.gather(*(ask(model, q) for q in QUESTIONS))

    answers = asyncio.run(together())
    assert all(a.text for a in answers)
    assert [a.text for a in answers] == [asyncio.run(ask(model, q)).text for q in QUESTIONS]
