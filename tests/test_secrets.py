"""Keys stay out of the store, the exports and the terminal; the request timeout is a setting."""

import json
import uuid

import duckdb
import pytest

from rnr_core.errors import InvalidOutput, ModelCallError, ModelSpecError, SettingError
from rnr_core.models.openai_compat import DEFAULT_RETRY
from rnr_core.models.registry import get_model, register_model
from rnr_core.secrets import MASK, scrub
from tests.conftest import DATA
from tests.stub_server import StubServer
from tests.test_cli import SP, rnr

SECRET = "s3cr3t-Value-42xyz"


@pytest.mark.parametrize(
    "text, secret",
    [
        ("Authorization: Bearer abc.DEF-123_x", "abc.DEF-123_x"),
        ("{'message': 'bad request with bearer tok/en+=='}", "tok/en+=="),
        ("key sk-proj-AbCdEfGhIjKlMnOp was rejected", "sk-proj-AbCdEfGhIjKlMnOp"),
        ("https://user:pass-word@host/v1", "user:pass-word"),
        ("https://TOKEN123@host/v1", "TOKEN123"),
        ("http://h/v1?api_key=abc123&x=1", "abc123"),
        ("http://h/v1?x=1&access_token=abc123", "abc123"),
        ("http://h/v1?apiKey=abc123", "abc123"),
        ("http://h/v1#token=abc123", "abc123"),
        ("http://h/v1?x-api-key=abc123", "abc123"),
        ("http://h/v1?password=abc123", "abc123"),
    ],
)
def test_scrub_masks_tokens_keys_and_url_credentials(text, secret):
    assert secret not in scrub(text) and MASK in scrub(text)


def test_scrub_masks_the_configured_key_in_any_form_it_is_echoed(monkeypatch):
    key = 'prov-key/with+odd"chars'
    monkeypatch.setenv("OPENAI_API_KEY", key)
    echoed = f"plain {key}, quoted prov-key%2Fwith%2Bodd%22chars, json {json.dumps(key)}"
    assert scrub(echoed) == f'plain {MASK}, quoted {MASK}, json "{MASK}"'


@pytest.mark.parametrize(
    "text",
    [
        "max_tokens=384 is above the limit",
        "Cannot reach http://127.0.0.1:8000/v1 after 4 tries",
        "openai:some-model@http://127.0.0.1:1/v1",
        "https://example.openai.azure.com/v1?api-version=2024-02-01",
        "a basic task-list for the bearer of news",
    ],
)
def test_scrub_leaves_ordinary_text_alone(text, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "abc")  # too short to be a secret worth garbling text for
    assert scrub(text) == text


def test_errors_are_scrubbed_when_made(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    call = ModelCallError(f"server said: Authorization: Bearer {SECRET}", transient=True)
    invalid = InvalidOutput(f"reply quotes {SECRET}", raw=f"the key is {SECRET}")
    assert SECRET not in str(call) and call.transient
    assert SECRET not in str(invalid) and SECRET not in invalid.raw and invalid.raw.startswith("the key is")


@pytest.mark.parametrize(
    "spec",
    [
        f"openai:m@http://h/v1?api_key={SECRET}",
        f"openai:m@http://h/v1?key={SECRET}",
        f"openai:m@http://h/v1?token={SECRET}",
        f"openai:m@http://h/v1?x=1&access_token={SECRET}",
        f"openai:m@https://user:{SECRET}@h/v1",
        f"openai:m@https://{SECRET}@h/v1",
        f"openai:m@https://{SECRET}@h",
        f"openai:m@http://h/v1#access_token={SECRET}",
    ],
)
def test_spec_with_a_credential_is_refused_without_echoing_it(spec):
    with pytest.raises(ModelSpecError) as info:
        get_model(spec)
    message = str(info.value)
    assert "OPENAI_API_KEY" in message and SECRET not in message and MASK in message


def test_spec_carrying_the_configured_key_is_refused(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    with pytest.raises(ModelSpecError) as info:
        get_model(f"openai:m@http://h/{SECRET}/v1")
    assert SECRET not in str(info.value)


def test_spec_with_ordinary_query_is_accepted(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    url = f"http://127.0.0.1:1/v1?api-version=2024-02-01&n={uuid.uuid4().hex}"
    assert get_model(f"openai:m@{url}").base_url == url


@pytest.mark.parametrize("url", [f"http://u:{SECRET}@h/v1", f"http://h/v1?api_key={SECRET}"])
def test_openai_base_url_with_a_credential_is_refused(url, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    with pytest.raises(ModelSpecError) as info:
        get_model(f"openai:m-{uuid.uuid4().hex}")
    message = str(info.value)
    assert "OPENAI_BASE_URL" in message and "OPENAI_API_KEY" in message and SECRET not in message


def test_register_model_serves_a_model_and_undo_restores_what_was_there(scripted):
    spec = f"seam-{uuid.uuid4().hex}"
    first = scripted(["a"], spec)
    assert get_model(spec) is first
    undo = register_model(spec, second := object())
    assert get_model(spec) is second
    undo()
    assert get_model(spec) is first


def test_register_model_undo_forgets_a_new_spec():
    spec = f"seam-{uuid.uuid4().hex}"
    undo = register_model(spec, object())
    undo()
    with pytest.raises(ModelSpecError, match="Unknown model spec"):
        get_model(spec)


def test_timeout_comes_from_rnr_timeout(monkeypatch):
    monkeypatch.setenv("RNR_TIMEOUT", "0.25")
    assert get_model(f"openai:m@http://127.0.0.1:1/v1?n={uuid.uuid4().hex}").timeout == 0.25
    monkeypatch.delenv("RNR_TIMEOUT")
    assert get_model(f"openai:m@http://127.0.0.1:1/v1?n={uuid.uuid4().hex}").timeout == 120


@pytest.mark.parametrize("value", ["abc", "0", "-1", "inf", "nan"])
def test_bad_rnr_timeout_is_a_clear_error(value, monkeypatch):
    monkeypatch.setenv("RNR_TIMEOUT", value)
    with pytest.raises(SettingError, match=f"RNR_TIMEOUT is '{value}'.*number above 0"):
        get_model(f"openai:m@http://127.0.0.1:1/v1?n={uuid.uuid4().hex}")


# ---- end to end through the CLI, with a canary key -----------------------------------------


def canary() -> str:
    return f"sk-canary-{uuid.uuid4()}"


def assert_nowhere(key: str, tmp_path, *procs) -> None:
    """The key is in no output, no file under tmp_path (store, its WAL, exports) and no stored row."""
    for proc in procs:
        assert key not in proc.stdout and key not in proc.stderr
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".duckdb" for p in files)
    for path in files:
        assert key.encode() not in path.read_bytes(), path
    # The file may compress strings, so read every stored value back as well.
    for db in (p for p in files if p.suffix == ".duckdb"):
        with duckdb.connect(str(db), read_only=True) as con:
            tables = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            for (table,) in tables:
                assert key not in repr(con.execute(f'SELECT * FROM "{table}"').fetchall()), table


def _generate(db, spec, *extra, env=None):
    args = ["--model", spec, "-n", "3", "--k", "3", "--rules", "2", "--verifiable-share", "0"]
    return rnr("generate", "--dataset", "demo", *args, *extra, "--db", db, "--json", env=env, check=False)


@pytest.fixture
def demo_db(tmp_path):
    db = str(tmp_path / "s.duckdb")
    rnr("ingest", str(DATA / "demo_alpaca.jsonl"), "--name", "demo", "--db", db)
    return db


def test_canary_key_echoed_by_the_server_is_stored_and_shown_nowhere(tmp_path, demo_db):
    key = canary()

    def answer(body):
        if "response_format" in body:
            return ("ok", SP)
        # every other response request fails with the key quoted back
        return ("echo-auth", 400) if len(stub.requests) % 2 else ("ok", "Sure.")

    env = {"OPENAI_API_KEY": key}
    with StubServer(default=answer) as stub:
        spec = f"openai:stub@{stub.url}"
        partial = _generate(demo_db, spec, env=env)
        run = json.loads(partial.stdout)
        shown = rnr("runs", run["id"], "--db", demo_db, env=env)
        stub.default = ("echo-auth", 500)
        stopped = _generate(demo_db, spec, env=env)
    exported = rnr("export", "--out", str(tmp_path / "out"), "--include-failing", "--db", demo_db, env=env)
    assert partial.returncode == 3 and run["counts"]["failed"] > 0 and run["counts"]["samples"] > 0
    assert "bad request with Bearer [redacted]" in shown.stdout
    assert stopped.returncode == 3
    assert "bad request with Bearer [redacted]" in json.loads(stopped.stdout)["error"]
    assert (tmp_path / "out" / "train.jsonl").exists()
    assert_nowhere(key, tmp_path, partial, shown, stopped, exported)


@pytest.mark.parametrize(
    "where", ["http://127.0.0.1:{port}/v1?api_key={key}", "http://{key}@127.0.0.1:{port}/v1"]
)
def test_canary_key_in_the_spec_is_refused(where, tmp_path, demo_db):
    key = canary()
    with StubServer() as stub:
        port = stub.url.split(":")[2].split("/")[0]
        proc = _generate(demo_db, "openai:stub@" + where.format(port=port, key=key))
    assert proc.returncode == 2 and "OPENAI_API_KEY" in proc.stderr and not stub.requests
    assert_nowhere(key, tmp_path, proc)


@pytest.mark.parametrize(
    "where", ["http://127.0.0.1:{port}/v1?api_key={key}", "http://user:{key}@127.0.0.1:{port}/v1"]
)
def test_canary_key_in_openai_base_url_is_refused(where, tmp_path, demo_db):
    key = canary()
    with StubServer() as stub:
        port = stub.url.split(":")[2].split("/")[0]
        proc = _generate(demo_db, "openai:stub", env={"OPENAI_BASE_URL": where.format(port=port, key=key)})
    assert proc.returncode == 2 and "OPENAI_BASE_URL" in proc.stderr and not stub.requests
    assert_nowhere(key, tmp_path, proc)


def test_slow_server_times_out_is_retried_then_stops_the_run(demo_db):
    with StubServer(default=("sleep", 3.0)) as stub:
        proc = _generate(demo_db, f"openai:stub@{stub.url}", "--timeout", "0.3")
    run = json.loads(proc.stdout)
    assert proc.returncode == 3 and run["status"] == "failed"
    assert len(stub.requests) == DEFAULT_RETRY.attempts  # the one system-prompt call, retried
    assert "0.3 s timeout" in run["error"] and "--timeout" in run["error"] and "RNR_TIMEOUT" in run["error"]


def test_ifeval_with_a_model_honours_the_timeout_flag(tmp_path):
    prompts = tmp_path / "input.jsonl"
    prompt = {"key": 1, "prompt": "Say hi.", "instruction_id_list": ["punctuation:no_comma"]}
    prompts.write_text(json.dumps(prompt) + "\n")
    with StubServer(default=("sleep", 3.0)) as stub:
        proc = rnr(
            "ifeval", "--input", str(prompts), "--model", f"openai:stub@{stub.url}",
            "--out", str(tmp_path / "out"), "--timeout", "0.2", check=False,
        )  # fmt: skip
    assert proc.returncode == 2 and "0.2 s timeout" in proc.stderr
    assert len(stub.requests) == DEFAULT_RETRY.attempts


@pytest.mark.parametrize("command", ["generate", "judge", "ifeval"])
@pytest.mark.parametrize("value", ["0", "soon"])
def test_bad_timeout_flag_is_refused(command, value):
    proc = rnr(command, "--timeout", value, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"--timeout is '{value}'" in proc.stderr
