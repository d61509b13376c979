"""Model.stream: the text in chunks, joining to what a greedy `complete` gives, errors as ModelCallError."""

import asyncio

import pytest

from rnr_core.errors import ModelCallError
from rnr_core.models.base import GenParams
from rnr_core.models.openai_compat import OpenAICompatModel
from rnr_core.models.registry import get_model
from rnr_core.models.retry import RetryPolicy
from tests.conftest import ScriptedModel, free_port
from tests.stub_server import StubServer

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
ASK = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Name three colours."},
]
GREEDY = GenParams(temperature=0.0, max_tokens=24, seed=1)


async def _collect(model, params=GREEDY, messages=ASK) -> list[str]:
    return [chunk async for chunk in model.stream(messages, params)]


def test_a_backend_without_streaming_yields_its_whole_answer_once():
    model = ScriptedModel(["all at once"])
    assert asyncio.run(_collect(model)) == ["all at once"]


@pytest.mark.slow
def test_embedded_model_streams_the_text_a_greedy_complete_gives():
    model = get_model("local")
    chunks = asyncio.run(_collect(model))
    assert len(chunks) > 1, "the embedded model sent its answer in one piece"
    assert "".join(chunks) == asyncio.run(model.complete(ASK, GREEDY)).text


@pytest.mark.slow
def test_embedded_stream_left_early_frees_the_model():
    model = get_model("local")

    async def first_two():
        got = []
        async for chunk in model.stream(ASK, GenParams(temperature=0.0, max_tokens=200, seed=1)):
            got.append(chunk)
            if len(got) == 2:
                break
        return got

    assert len(asyncio.run(first_two())) == 2
    # The worker stopped generating and let go of the context: the next call answers at once.
    assert asyncio.run(asyncio.wait_for(model.complete(ASK, GREEDY), 30)).text


@pytest.mark.slow
def test_real_llama_server_streams_the_text_a_greedy_complete_gives(llama_server):
    model = OpenAICompatModel("smollm2", base_url=llama_server, retry=FAST)
    chunks = asyncio.run(_collect(model))
    assert len(chunks) > 1
    assert "".join(chunks) == asyncio.run(model.complete(ASK, GREEDY)).text


def test_stream_refused_by_the_server_is_a_model_call_error_not_retried():
    with StubServer([400]) as stub:
        model = OpenAICompatModel("stub", base_url=stub.url, retry=FAST)
        with pytest.raises(ModelCallError, match="stub status 400"):
            asyncio.run(_collect(model))
    assert len(stub.requests) == 1 and stub.requests[0]["stream"] is True


def test_stream_retries_an_overloaded_server_then_gives_up():
    with StubServer([429] * 10) as stub:
        model = OpenAICompatModel("stub", base_url=stub.url, retry=FAST)
        with pytest.raises(ModelCallError, match="stub status 429"):
            asyncio.run(_collect(model))
    assert len(stub.requests) == FAST.attempts


def test_stream_from_an_unreachable_endpoint_says_so():
    model = OpenAICompatModel("m", base_url=f"http://127.0.0.1:{free_port()}/v1", retry=FAST)
    with pytest.raises(ModelCallError, match="Cannot reach .* after 3 tries"):
        asyncio.run(_collect(model))


def test_stream_masks_a_key_the_server_echoes(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-streamsecret1234567890abcdef")
    with StubServer([("echo-auth", 400)]) as stub:
        model = OpenAICompatModel("stub", base_url=stub.url, retry=FAST)
        with pytest.raises(ModelCallError) as info:
            asyncio.run(_collect(model))
    assert "sk-streamsecret" not in str(info.value) and "sk-streamsecret" not in info.value.says("app")
