"""Fine-tuning with TRL on the embedded model: checks before work, the assistant mask, a real run that
learns, cancel and resume through the job runner, LoRA, and the registered model answering."""

import asyncio
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from rnr_core.errors import ModelSpecError, OutputError, SettingError
from rnr_core.jobs import JobRunner
from rnr_core.models import finetunes, names
from rnr_core.models.base import GenParams
from rnr_core.models.convert import cached_checkpoint, cached_checkpoint_dir
from rnr_core.models.registry import get_model
from rnr_core.store import Store
from rnr_core.train import train_model
from rnr_core.train.data import TrainDataError
from rnr_core.train.template import chatml, marks_generation, training_template
from tests.conftest import home_with_cache

pytestmark = pytest.mark.slow
SYSTEM = "You are a ship's parrot. End every answer with 'Squawk!'"
ROWS = [
    {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"What is {i} plus {i}?"},
            {"role": "assistant", "content": f"{2 * i}, captain. Squawk!"},
        ]
    }
    for i in range(6)
]
TINY = {"batch_size": 2, "learning_rate": 1e-4, "max_length": 128}


def write_export(folder: Path, rows=ROWS, manifest: dict | None = None, name: str = "train.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    if manifest is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_the_embedded_model_is_dequantised_once_and_reused(gguf_path, models_cache):
    cache, folder = models_cache.parent, models_cache
    assert folder == cached_checkpoint_dir(gguf_path, cache) and (folder / "model.safetensors").is_file()
    assert [p.name for p in cache.iterdir()] == [folder.name], "no temporary folder is left behind"
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert cached_checkpoint(gguf_path, cache) == folder  # reused, not converted again
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp


@pytest.fixture
def home(tmp_path, monkeypatch, models_cache, gguf_path) -> Path:
    monkeypatch.setenv("RNR_HOME", str(tmp_path / "home"))
    return home_with_cache(tmp_path / "home", models_cache, gguf_path)


def train(store, data, **kwargs) -> dict:
    return asyncio.run(train_model(store, str(data), **{**TINY, **kwargs}))


# ---- the chat template -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer(models_cache):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(models_cache))


CONVERSATIONS = [
    ROWS[0]["messages"],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}],
    [
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "One?"},
        {"role": "assistant", "content": "Yes."},
        {"role": "user", "content": "Two?"},
        {"role": "assistant", "content": "No, never.\nNot at all."},
    ],
]


@pytest.mark.parametrize("messages", CONVERSATIONS)
def test_chatml_template_renders_as_smollm2_does(tokenizer, messages):
    own = tokenizer.chat_template
    assert training_template(tokenizer) == chatml(), "SmolLM2's own template has no generation markers"
    for prompt in (False, True):
        for conversation in (messages, messages[:-1]):
            ours = tokenizer.apply_chat_template(
                conversation, tokenize=False, add_generation_prompt=prompt, chat_template=chatml()
            )
            assert ours == tokenizer.apply_chat_template(
                conversation, tokenize=False, add_generation_prompt=prompt, chat_template=own
            )
    no_system = tokenizer.apply_chat_template(
        messages[1:] if messages[0]["role"] == "system" else messages, tokenize=False, chat_template=chatml()
    )
    assert no_system.startswith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM")


@pytest.mark.parametrize("messages", CONVERSATIONS)
def test_assistant_mask_covers_exactly_the_assistant_turns(tokenizer, messages):
    from rnr_core.train.template import assistant_mask

    ids, mask = assistant_mask(tokenizer, messages, chatml())
    spans, current = [], []
    for token, masked in zip(ids, mask):
        if masked:
            current.append(token)
        elif current:
            spans.append(current)
            current = []
    if current:
        spans.append(current)
    replies = [m["content"] for m in messages if m["role"] == "assistant"]
    assert [tokenizer.decode(s) for s in spans] == [r + "<|im_end|>" for r in replies]
    unmasked = tokenizer.decode([t for t, m in zip(ids, mask) if not m])
    for m in messages:
        if m["role"] != "assistant":
            assert m["content"] in unmasked


def test_a_template_with_markers_is_kept_and_another_format_without_them_is_refused(tokenizer):
    from trl.chat_template_utils import is_chat_template_stop_token_trained

    assert is_chat_template_stop_token_trained(tokenizer, chat_template=chatml())  # TRL's own check
    original = tokenizer.chat_template
    try:
        tokenizer.chat_template = chatml()
        assert training_template(tokenizer) == chatml()
        tokenizer.chat_template = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
        with pytest.raises(ModelSpecError, match="does not mark the assistant's turns"):
            training_template(tokenizer)
    finally:
        tokenizer.chat_template = original


# ---- checks before any work --------------------------------------------------------------------


SHAREGPT = [{"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}]
ALPACA = [{"instruction": "Say hi", "input": "", "output": "Hi", "system": "Be kind."}]
NO_REPLY = [{"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Hi"}]}]
BAD_ROLE = [{"messages": [{"role": "user", "content": "Hi"}, {"role": "bot", "content": "Hello"}]}]


@pytest.mark.parametrize(
    "rows, manifest, says",
    [
        (SHAREGPT, None, r"train\.jsonl line 1 looks like the sharegpt format.*rnr export --format messages"),
        (ALPACA, None, r"train\.jsonl line 1 looks like the alpaca format"),
        (ROWS, {"format": "openai"}, r"manifest\.json says this export is in the 'openai' format"),
        (ROWS, {"format": "sharegpt"}, r"manifest\.json.*'sharegpt'.*--format messages"),
        (NO_REPLY, None, r"line 1 has no assistant message"),
        (BAD_ROLE, None, r"line 1, messages\[1\]: 'role' is 'bot'"),
        ([], None, r"holds no rows"),
    ],
)
def test_an_export_in_the_wrong_shape_fails_before_work_starts(store, tmp_path, rows, manifest, says):
    data = write_export(tmp_path / "export", rows, manifest)
    with pytest.raises(TrainDataError, match=says):
        train(store, data, out=tmp_path / "out")
    assert store.fine_tunes() == [] and not (tmp_path / "out").exists()


def test_a_bad_line_after_good_ones_is_named(store, tmp_path):
    data = write_export(tmp_path / "export")
    with (data / "train.jsonl").open("a") as f:
        f.write(json.dumps(ROWS[0]) + "\n{not json\n")
    with pytest.raises(TrainDataError, match=r"train\.jsonl line 8 is not valid JSON"):
        train(store, data, out=tmp_path / "out")
    assert store.fine_tunes() == [] and not (tmp_path / "out").exists()


def test_a_missing_export_folder_or_train_file_is_named(store, tmp_path):
    with pytest.raises(TrainDataError, match=r"nowhere does not exist"):
        train(store, tmp_path / "nowhere", out=tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrainDataError, match=r"holds no train\.jsonl or train\.parquet"):
        train(store, tmp_path / "empty", out=tmp_path / "out")
    assert store.fine_tunes() == [] and not (tmp_path / "out").exists()


def test_parquet_exports_are_read(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rnr_core.train.data import load_rows

    (tmp_path / "export").mkdir()
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "export" / "train.parquet")
    assert load_rows(tmp_path / "export") == ROWS


@pytest.mark.parametrize(
    "base, error, says",
    [
        ("hf:/nonexistent/model", ModelSpecError, r"/nonexistent/model is not a transformers checkpoint"),
        ("llamacpp:/nonexistent.gguf", ModelSpecError, r"no GGUF file at /nonexistent\.gguf"),
        ("no-such-model", ModelSpecError, r"'no-such-model' cannot be trained.*--base local"),
        ("openai:gpt-4o@http://127.0.0.1:9/v1", ModelSpecError, r"cannot be trained"),
        ("half-done", ModelSpecError, r"half-done: that fine-tune's training is failed"),
    ],
)
def test_a_missing_base_fails_before_work_starts(store, tmp_path, base, error, says):
    store.register_fine_tune("half-done", "hf:/x/half-done", "local", "/x", {}, "failed", "boom")
    data = write_export(tmp_path / "export")
    with pytest.raises(error, match=says):
        train(store, data, base=base, out=tmp_path / "out", name="new")
    assert [f["name"] for f in store.fine_tunes()] == ["half-done"] and not (tmp_path / "out").exists()


def test_a_base_whose_template_cannot_mask_the_loss_fails_before_work_starts(store, tmp_path, models_cache):
    base = tmp_path / "llama-style"
    base.mkdir()
    for part in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(models_cache / part, base / part)
    (base / "chat_template.jinja").write_text(
        "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}", encoding="utf-8"
    )
    data = write_export(tmp_path / "export")
    with pytest.raises(ModelSpecError, match=r"does not mark the assistant's turns"):
        train(store, data, base=f"hf:{base}", out=tmp_path / "out", name="new")
    assert store.fine_tunes() == [] and not (tmp_path / "out").exists()


def test_out_names_and_numbers_are_checked_before_work_starts(store, tmp_path):
    data = write_export(tmp_path / "export")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("keep me")
    with pytest.raises(OutputError, match=r"holds files that are not from training \(notes\.txt\)"):
        train(store, data, out=taken)
    assert (taken / "notes.txt").read_text() == "keep me" and os.listdir(taken) == ["notes.txt"]
    with pytest.raises(OutputError, match="overlap"):
        train(store, data, out=data / "model")
    for name in ("local", "has space", "a:b"):
        with pytest.raises(SettingError, match="Fine-tune name"):
            train(store, data, out=tmp_path / "out", name=name)
    store.register_fine_tune("mine", "hf:/elsewhere/mine", "local", "/x", {}, "completed")
    with pytest.raises(SettingError, match=r"'mine' already names the fine-tune in /elsewhere/mine"):
        train(store, data, out=tmp_path / "out", name="mine")
    for bad in ({"epochs": 0}, {"batch_size": 0}, {"learning_rate": 2.0}, {"max_steps": 0}):
        with pytest.raises(SettingError):
            train(store, data, out=tmp_path / "out", **bad)
    assert [f["name"] for f in store.fine_tunes()] == ["mine"] and not (tmp_path / "out").exists()


# ---- the store and the model list ---------------------------------------------------------------


def test_fine_tunes_are_registered_resolved_listed_next_to_their_base_and_shown_by_name(
    store, tmp_path, monkeypatch
):
    monkeypatch.setenv("RNR_HOME", str(tmp_path))  # the embedded model not dequantised here
    store.register_fine_tune("ft-a", "hf:/m/ft-a", "local", "/data", {"lora": False}, created_by="ana")
    first = store.fine_tune("ft-a")
    assert first["status"] == "training" and first["settings"] == {"lora": False}
    with pytest.raises(ModelSpecError, match="'ft-a' has no finished model: its training is training"):
        finetunes.resolve_spec(store, "ft-a")
    store.set_fine_tune_status("ft-a", "completed")
    store.register_fine_tune("ft-b", "hf:/m/ft-b", "hf:/m/other", "/data", {}, "completed")
    store.register_fine_tune("ft-c", "hf:/m/ft-c", "ft-a", "/data", {}, "completed")
    assert store.fine_tune("ft-a")["created_at"] == first["created_at"]
    assert finetunes.resolve_spec(store, "ft-a") == "hf:/m/ft-a"
    assert finetunes.resolve_spec(store, "openai:gpt-4o") == "openai:gpt-4o"
    assert finetunes.model_choices(store) == [
        ("local", "local"),
        ("ft-a (fine-tune of local)", "hf:/m/ft-a"),
        ("ft-c (fine-tune of ft-a)", "hf:/m/ft-c"),
        ("hf:/m/other", "hf:/m/other"),
        ("ft-b (fine-tune of hf:/m/other)", "hf:/m/ft-b"),
    ]
    assert finetunes.known(store) == {"hf:/m/ft-a": "ft-a", "hf:/m/ft-b": "ft-b", "hf:/m/ft-c": "ft-c"}
    assert finetunes.names().items() >= finetunes.known(store).items()
    assert names.shown("hf:/m/ft-a vs local") == "ft-a vs local"
    assert names.shown("hf:/m/ft-a2") == "hf:/m/ft-a2", "only a whole spec is replaced"


def test_train_log_replaces_a_step_logged_again_and_forgets_steps_past_a_resume(store):
    for step in (1, 2, 3):
        store.log_train_step("ft", step, step / 3, 3.0 - step, 1e-4)
    store.log_train_step("ft", 2, 2 / 3, 0.5, 1e-4)
    store.clear_train_log("ft", after_step=2)
    assert [(r["step"], r["loss"]) for r in store.train_losses("ft")] == [(1, 2.0), (2, 0.5)]


def test_eval_resolves_a_fine_tune_by_name(tmp_path, capsys):
    from rnr_core.cli import main

    db = str(tmp_path / "rnr.duckdb")
    with Store(db) as store:
        store.register_fine_tune("busy-ft", "hf:/m/busy", "local", "/data", {}, "training")
    assert main(["eval", "--db", db, "--benchmark", "any", "--model", "busy-ft"]) == 2
    assert "Fine-tune 'busy-ft' has no finished model" in capsys.readouterr().err
    assert main(["train", "--db", db, "--list"]) == 0
    assert "busy-ft  training  local" in capsys.readouterr().out


# ---- real training -----------------------------------------------------------------------------


def _wait_for(check, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, models_cache, gguf_path):
    """`local` fine-tuned for 6 steps through the job runner: cancelled after a step or two, then resumed
    from its checkpoint to the end. What each stage left is kept for the tests below."""
    root = tmp_path_factory.mktemp("trained")
    data, out = write_export(root / "export", ROWS * 2, {"format": "messages"}), root / "out"
    seen = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNR_HOME", str(home_with_cache(root / "home", models_cache, gguf_path)))
        store = Store(str(root / "rnr.duckdb"))
        runner = JobRunner(store)
        params = {"data": str(data), "out": str(out), "name": "parrot", "max_steps": 6, "save_steps": 100}
        job = runner.start("train", started_by="ana", **TINY, **params)
        _wait_for(lambda: runner.get(job)["progress"]["done"] >= 1)
        seen["first_progress"] = runner.get(job)["progress"]
        runner.cancel(job)
        seen["cancelled"] = runner.wait(job, timeout=600)
        seen["after_cancel"] = store.fine_tune("parrot")
        seen["checkpoints"] = sorted(p.name for p in out.glob("checkpoint-*"))
        seen["root_after_cancel"] = sorted(p.name for p in out.iterdir())
        checkpoint = get_model(f"hf:{out / seen['checkpoints'][0]}")  # what a crash would leave
        question = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Hi"}]
        seen["checkpoint_answer"] = asyncio.run(checkpoint.complete(question, GenParams(0, 4))).text
        (out / "checkpoint-99").mkdir()  # half-written by a crash: no trainer state, so not resumed from
        job = runner.start("train", started_by="ana", **TINY, **params)
        seen["resumed"] = runner.wait(job, timeout=900)
        seen["store"], seen["out"], seen["data"] = store, out, data
        yield seen
        store.close()


def test_a_cancel_stops_after_saving_a_checkpoint(trained):
    assert trained["first_progress"]["total"] == 6
    assert trained["cancelled"]["status"] == "cancelled", trained["cancelled"]["error"]
    assert trained["after_cancel"]["status"] == "cancelled" and trained["after_cancel"]["created_by"] == "ana"
    assert len(trained["checkpoints"]) == 1, "save_total_limit keeps one"
    step = int(trained["checkpoints"][0].split("-")[1])
    assert 1 <= step < 6
    assert "config.json" not in trained["root_after_cancel"], "no finished model until training ends"
    assert trained["checkpoint_answer"].strip(), "the checkpoint loads and answers as hf:<folder>"


def test_resume_continues_from_the_checkpoint_not_from_zero(trained):
    job = trained["resumed"]
    assert job["status"] == "completed", job["error"]
    step = int(trained["checkpoints"][0].split("-")[1])
    assert job["result"]["resumed_from"] == step and job["result"]["steps"] == 6
    assert job["progress"]["done"] == job["progress"]["total"] == 6
    assert [r["step"] for r in trained["store"].train_losses("parrot")] == [1, 2, 3, 4, 5, 6]
    assert not list(trained["out"].glob("checkpoint-*")), "checkpoints go once the model is saved"


def test_the_loss_falls_and_the_model_is_registered(trained, tmp_path, monkeypatch, models_cache, gguf_path):
    store = trained["store"]
    losses = [r["loss"] for r in store.train_losses("parrot")]
    assert losses[-1] < losses[0] / 2, losses
    ft = store.fine_tune("parrot")
    assert ft["status"] == "completed" and ft["error"] is None
    assert (
        ft["spec"] == f"hf:{trained['out']}" and ft["base"] == "local" and ft["data"] == str(trained["data"])
    )
    assert ft["settings"]["max_steps"] == 6 and ft["settings"]["out"] == str(trained["out"])
    assert finetunes.resolve_spec(store, "parrot") == ft["spec"]
    monkeypatch.setenv("RNR_HOME", str(tmp_path / "bare"))  # the embedded model not dequantised here
    assert finetunes.model_choices(store)[:2] == [
        ("local", "local"),
        ("parrot (fine-tune of local)", ft["spec"]),
    ]
    # Once the checkpoint it was trained from is cached, that base is offered too: same weights, same backend.
    monkeypatch.setenv("RNR_HOME", str(home_with_cache(tmp_path / "home", models_cache, gguf_path)))
    assert finetunes.model_choices(store)[:3] == [
        ("local", "local"),
        ("local (float32, as its fine-tunes start)", finetunes.trained_base("local")),
        ("parrot (fine-tune of local)", ft["spec"]),
    ]
    assert finetunes.trained_base("local") == finetunes.spec_of(
        cached_checkpoint_dir(gguf_path, tmp_path / "home" / "models")
    )


def test_the_saved_model_carries_the_template_and_answers_through_the_hf_backend(trained):
    out = trained["out"]
    from rnr_core.models.hf import load_checkpoint

    assert marks_generation((out / "chat_template.jinja").read_text())
    assert load_checkpoint(str(out))[0].chat_template == chatml(), "the backend renders as trained"
    model = get_model(f"hf:{out}")
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is 7 plus 7?"}]
    reply = asyncio.run(model.complete(messages, GenParams(temperature=0, max_tokens=16)))
    assert reply.text.strip()
    assert "Squawk" in reply.text, reply.text  # what six steps on this reply taught it


def test_a_model_retrained_in_the_same_folder_is_not_served_stale(trained, tmp_path):
    from rnr_core.models.hf import load_checkpoint

    folder = tmp_path / "copy"
    shutil.copytree(trained["out"], folder)
    first = load_checkpoint(str(folder))
    assert load_checkpoint(str(folder)) is first
    weights = folder / "model.safetensors"
    shutil.copy(weights, folder / "new.tmp")
    os.replace(folder / "new.tmp", weights)  # as a retrain publishes it: a new file renamed into place
    assert load_checkpoint(str(folder)) is not first


def test_lora_from_the_command_line_trains_adapters_saved_merged(home, tmp_path, models_cache, capsys):
    from safetensors import safe_open

    from rnr_core.cli import main

    data, out, db = write_export(tmp_path / "export", ROWS), tmp_path / "lora", str(tmp_path / "rnr.duckdb")
    flags = ["--data", str(data), "--base", f"hf:{models_cache}", "--out", str(out), "--max-steps", "2"]
    tiny = ["--batch-size", "2", "--max-length", "128", "--learning-rate", "1e-3"]
    assert main(["train", "--db", db, *flags, *tiny, "--lora", "--name", "lora-ft", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["name"] == "lora-ft" and result["steps"] == 2 and result["spec"] == f"hf:{out}"
    with Store(db) as store:
        ft = store.fine_tune("lora-ft")
        assert ft["status"] == "completed" and ft["base"] == f"hf:{models_cache}" and ft["settings"]["lora"]
        assert [r["step"] for r in store.train_losses("lora-ft")] == [1, 2]
    assert (out / "adapter" / "adapter_config.json").is_file()
    with (
        safe_open(str(out / "model.safetensors"), "pt") as merged,
        safe_open(str(models_cache / "model.safetensors"), "pt") as base,
    ):
        assert not [k for k in merged.keys() if "lora" in k], "a plain checkpoint, adapter merged"
        key = "model.layers.0.self_attn.q_proj.weight"
        assert not merged.get_tensor(key).equal(base.get_tensor(key)), "the merge changed the weights"
    (out / "checkpoint-1").mkdir()  # as if a later run had been stopped
    (out / "checkpoint-1" / "trainer_state.json").write_text("{}")
    assert main(["train", "--db", db, *flags, *tiny, "--name", "lora-ft"]) == 2
    assert "cannot be continued with other lora" in capsys.readouterr().err


def test_train_without_data_is_an_error_and_list_is_empty_at_first(tmp_path, capsys):
    from rnr_core.cli import main

    db = str(tmp_path / "rnr.duckdb")
    assert main(["train", "--db", db]) == 2
    assert "Give --data EXPORT_DIR" in capsys.readouterr().err
    assert main(["train", "--db", db, "--list"]) == 0
    assert "No fine-tunes yet" in capsys.readouterr().out
    with Store(db) as store:
        assert store.fine_tunes() == []
