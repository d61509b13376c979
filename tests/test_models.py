import asyncio
import json
import random
import time

import pytest

from rnr_core.errors import ModelCallError, ModelSpecError
from rnr_core.models.base import GenParams
from rnr_core.models.openai_compat import OpenAICompatModel
from rnr_core.models.registry import get_model, valid_forms
from rnr_core.models.retry import RetryPolicy, retry_async
from tests.stub_server import StubServer

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
HELLO = [{"role": "user", "content": "Say hello."}]
SCHEMA = {
    "type": "object",
    "required": ["greeting"],
    "additionalProperties": False,
    "properties": {"greeting": {"type": "string", "maxLength": 40}},
}


def test_unknown_spec_lists_the_valid_forms():
    with pytest.raises(ModelSpecError) as info:
        get_model("gpt5-please")
    message = str(info.value)
    for form in ("local", "openai:<model>", "llamacpp:<path", "hf:<"):
        assert form in message
    assert set(valid_forms()) >= {"local"}


def test_openai_without_key_says_how_to_set_it(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ModelSpecError, match="OPENAI_API_KEY"):
        get_model("openai:gpt-4o-mini")


def test_openai_spec_with_base_url_needs_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = get_model("openai:some-model@http://127.0.0.1:1/v1")
    assert (model.name, model.base_url) == ("some-model", "http://127.0.0.1:1/v1")


def test_missing_gguf_is_a_clear_error(tmp_path):
    with pytest.raises(ModelSpecError, match="No GGUF file"):
        get_model(f"llamacpp:{tmp_path}/none.gguf")


@pytest.mark.parametrize("attempt, cap", [(1, 0.5), (2, 1.0), (3, 2.0), (8, 20.0)])
def test_backoff_grows_exponentially_with_jitter_and_a_cap(attempt, cap):
    policy, rng = RetryPolicy(), random.Random(0)
    delays = [policy.delay(attempt, rng) for _ in range(200)]
    assert max(delays) <= cap and min(delays) >= 0 and max(delays) > cap * 0.8


def test_retry_stops_on_permanent_errors():
    calls = []

    async def call():
        calls.append(1)
        raise KeyError("permanent")

    with pytest.raises(KeyError):
        asyncio.run(retry_async(call, lambda e: isinstance(e, TimeoutError), FAST))
    assert len(calls) == 1


@pytest.mark.parametrize("faults", [[429, 429], [500, 503], [("sleep", 1.5)]])
def test_openai_backend_retries_429_5xx_and_timeouts(faults):
    with StubServer([*faults, ("ok", "recovered")]) as stub:
        model = OpenAICompatModel("stub", base_url=stub.url, timeout=0.5, retry=FAST)
        result = asyncio.run(model.complete(HELLO, GenParams(max_tokens=8)))
    assert result.text == "recovered"
    assert result.usage == {"prompt_tokens": 3, "completion_tokens": 2}
    assert len(stub.requests) == len(faults) + 1


def test_openai_backend_gives_up_after_its_attempts():
    with StubServer([429] * 10) as stub:
        model = OpenAICompatModel("stub", base_url=stub.url, retry=FAST)
        with pytest.raises(ModelCallError, match="stub status 429"):
            asyncio.run(model.complete(HELLO, GenParams()))
    assert len(stub.requests) == FAST.attempts


def test_openai_backend_does_not_retry_a_bad_request():
    with StubServer([400]) as stub:
        model = OpenAICompatModel("stub", base_url=stub.url, retry=FAST)
        with pytest.raises(ModelCallError):
            asyncio.run(model.complete(HELLO, GenParams()))
    assert len(stub.requests) == 1


def test_unreachable_endpoint_is_retried_then_explained():
    from tests.conftest import free_port

    model = OpenAICompatModel("m", base_url=f"http://127.0.0.1:{free_port()}/v1", retry=FAST)
    with pytest.raises(ModelCallError, match="Cannot reach .* after 4 tries"):
        asyncio.run(model.complete(HELLO, GenParams()))


def test_concurrency_limit_is_respected():
    with StubServer([("sleep", 0.2)] * 6) as stub:
        model = OpenAICompatModel("stub", base_url=stub.url, concurrency=2, retry=FAST)

        async def burst():
            return await asyncio.gather(*(model.complete(HELLO, GenParams()) for _ in range(6)))

        t0 = time.perf_counter()
        asyncio.run(burst())
        elapsed = time.perf_counter() - t0
    assert elapsed >= 0.55, f"6 calls of 0.2 s at concurrency 2 took only {elapsed:.2f} s"


def test_json_mode_sends_the_schema_to_compatible_servers():
    with StubServer([("ok", '{"greeting": "hi"}')]) as stub:
        model = OpenAICompatModel("stub", base_url=stub.url, retry=FAST)
        asyncio.run(model.complete(HELLO, GenParams(json_schema=SCHEMA, seed=7)))
    sent = stub.requests[0]
    assert sent["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert sent["seed"] == 7


@pytest.mark.slow
def test_real_llama_server_through_openai_client(llama_server):
    model = OpenAICompatModel("smollm2", base_url=llama_server, retry=FAST)
    plain = asyncio.run(model.complete(HELLO, GenParams(max_tokens=16, seed=1)))
    assert plain.text.strip() and plain.usage["completion_tokens"] > 0 and plain.latency_ms > 0
    structured = asyncio.run(model.complete(HELLO, GenParams(max_tokens=64, seed=1, json_schema=SCHEMA)))
    assert set(json.loads(structured.text)) == {"greeting"}


@pytest.mark.slow
def test_embedded_model_loads_once_and_follows_a_schema():
    model = get_model("local")
    assert get_model("local") is model and model.llama is model.llama
    result = asyncio.run(model.complete(HELLO, GenParams(max_tokens=64, seed=3, json_schema=SCHEMA)))
    assert isinstance(json.loads(result.text)["greeting"], str)
    assert result.usage["completion_tokens"] > 0
