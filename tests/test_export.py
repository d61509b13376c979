import asyncio
import json

import pytest

from rnr_core.errors import RnrError
from rnr_core.export import build_splits, export_samples
from rnr_core.generate import RunConfig, execute_run, start_run
from rnr_core.ingest import ingest_file


def distinct_prompts(messages, params):
    """A different system prompt per group, so splits have several prompts to share out."""
    if not params.json_schema:
        return "Done."
    topic = messages[0]["content"].split("1. ")[1].split("\n")[0]
    return json.dumps(
        {
            "role": f"You are a helper for {topic}.",
            "rules": [
                {"text": "Reply in one line only.", "category": "format"},
                {"text": "Stay polite at all times.", "category": "style"},
            ],
        }
    )


@pytest.fixture
def generated(store, tmp_path, scripted):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"Task {i}"}) + "\n" for i in range(40)))
    ingest_file(store, path, "d")
    scripted(distinct_prompts)
    config = RunConfig(dataset="d", model="scripted", n=40, k=2, rules=2, verifiable_share=0.0)
    asyncio.run(execute_run(store, start_run(store, config)))
    return store


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_messages_export_is_trl_conversational(generated, tmp_path):
    manifest = export_samples(generated, tmp_path / "out", test_fraction=0.25, seed=3)
    train, test = read(tmp_path / "out" / "train.jsonl"), read(tmp_path / "out" / "test.jsonl")
    assert manifest["counts"] == {"train": len(train), "test": len(test)}
    assert len(train) + len(test) == generated._scalar("SELECT count(*) FROM samples")
    assert test and train
    for row in train + test:
        assert list(row) == ["messages"]
        roles = [m["role"] for m in row["messages"]]
        assert roles[0] == "system" and roles[-1] == "assistant" and "user" in roles
    train_prompts = {r["messages"][0]["content"] for r in train}
    assert not train_prompts & {r["messages"][0]["content"] for r in test}  # no prompt leaks


def test_status_filter_and_sharegpt_format(generated, tmp_path):
    ids = [s["id"] for s in generated.list_samples(limit=3)]
    generated.set_sample_status(ids, "accepted")
    manifest = export_samples(
        generated, tmp_path / "acc", fmt="sharegpt", statuses=["accepted"], test_fraction=0
    )
    assert manifest["counts"] == {"train": 3, "test": 0}
    row = read(tmp_path / "acc" / "train.jsonl")[0]
    assert [t["from"] for t in row["conversations"]][:2] == ["system", "human"]
    assert row["conversations"][-1]["from"] == "gpt"


def test_export_errors(generated, tmp_path):
    with pytest.raises(RnrError, match="No samples with status rejected"):
        export_samples(generated, tmp_path / "x", statuses=["rejected"])
    with pytest.raises(RnrError, match="Unknown export format"):
        build_splits(generated.export_samples(["pending"]), "yaml", 0.1, 0)
    with pytest.raises(RnrError, match="test-fraction"):
        build_splits([], "messages", 1.5, 0)
