import asyncio
import json
import subprocess
import sys

import pytest

from rnr_core.errors import OutputError, RnrError
from rnr_core.export import build_splits, conversation, export_samples
from rnr_core.generate import RunConfig, execute_run, start_run
from rnr_core.ingest import ingest_file
from tests.conftest import ROOT


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


def judge(store, samples, verdict="pass", judge_name="llm:test", rule_ids=None):
    """Record one judge's verdict on the rules (all, or `rule_ids`) of these samples."""
    for s in samples:
        ids = rule_ids or [r["id"] for r in s["rules"]]
        store.add_verdicts(s["id"], judge_name, [{"rule_id": i, "verdict": verdict} for i in ids])


def all_samples(store):
    return store.export_samples(["pending", "accepted", "rejected"])


@pytest.fixture
def unjudged(store, tmp_path, scripted):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"Task {i}"}) + "\n" for i in range(40)))
    ingest_file(store, path, "d")
    scripted(distinct_prompts)
    config = RunConfig(dataset="d", model="scripted", n=40, k=2, rules=2, verifiable_share=0.0)
    asyncio.run(execute_run(store, start_run(store, config)))
    return store


@pytest.fixture
def generated(unjudged):
    """Generated samples whose every rule a judge passed."""
    judge(unjudged, all_samples(unjudged))
    return unjudged


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def exported(out):
    """The conversations written to train and test, as comparable JSON strings."""
    rows = read(out / "train.jsonl") + read(out / "test.jsonl")
    return sorted(json.dumps(r["messages"]) for r in rows)


def conversations(samples):
    return sorted(json.dumps(conversation(s)) for s in samples)


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


def test_default_export_keeps_only_samples_that_passed_every_verdict(unjudged, tmp_path):
    samples = all_samples(unjudged)
    failing, partly, rejected, overruled, *rest = samples
    judge(unjudged, [failing, rejected, overruled, *rest])
    judge(unjudged, [failing], "fail", rule_ids=["r2"])
    judge(unjudged, [partly], rule_ids=["r1"])  # r2 never judged
    judge(unjudged, [overruled], "fail", "llm:other")
    judge(unjudged, [overruled], "pass", "human:ann")  # a person decides over an LLM
    unjudged.set_sample_status([rejected["id"]], "rejected")
    manifest = export_samples(unjudged, tmp_path / "out")
    assert exported(tmp_path / "out") == conversations([overruled, *rest])
    assert manifest["include_failing"] is False and manifest["statuses"] == ["pending", "accepted"]
    assert manifest["excluded"] == {"failing": 1, "unjudged": 1}
    saved = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert saved["excluded"] == manifest["excluded"] and saved["include_failing"] is False

    manifest = export_samples(unjudged, tmp_path / "all", include_failing=True)
    assert exported(tmp_path / "all") == conversations([failing, partly, overruled, *rest])
    assert manifest["include_failing"] is True and manifest["excluded"] == {"failing": 0, "unjudged": 0}


def test_accepted_only_still_needs_passing_verdicts(generated, tmp_path):
    good, bad, _ = generated.list_samples(limit=3)
    generated.set_sample_status([good["id"], bad["id"]], "accepted")
    judge(generated, [bad], "fail", "checker")
    export_samples(generated, tmp_path / "acc", statuses=["accepted"])
    assert exported(tmp_path / "acc") == conversations([good])
    export_samples(generated, tmp_path / "both", statuses=["accepted"], include_failing=True)
    assert exported(tmp_path / "both") == conversations([good, bad])


def test_nothing_passed_says_to_judge_and_writes_nothing(unjudged, tmp_path):
    n = len(all_samples(unjudged))
    judge(unjudged, all_samples(unjudged)[:1], "fail")
    with pytest.raises(
        RnrError, match=rf"None of the {n} samples .*\(1 failed a rule, {n - 1} have rules not yet judged\)"
    ) as e:
        export_samples(unjudged, tmp_path / "out")
    assert "rnr judge" in str(e.value) and "--include-failing" in str(e.value)
    assert not (tmp_path / "out").exists()


BAD_OUTS = ["existing file", "parent is a file", "under /proc", "unwritable directory"]


@pytest.mark.parametrize("case", BAD_OUTS)
def test_unwritable_out_is_a_clear_error_and_writes_nothing(generated, tmp_path, unwritable_outs, case):
    out = unwritable_outs[case]
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(OutputError, match=f"{out}.*directory"):
        export_samples(generated, out)
    assert sorted(tmp_path.rglob("*")) == before
    assert (tmp_path / "taken.txt").read_text() == "keep me"
    assert not unwritable_outs["under /proc"].exists()


@pytest.mark.parametrize("case", BAD_OUTS)
def test_cli_unwritable_out_exits_2_without_traceback(tmp_path, unwritable_outs, case):
    out = unwritable_outs[case]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnr_core.cli",
            "export",
            "--db",
            str(tmp_path / "e.duckdb"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("Error: ") and str(out) in proc.stderr and "Traceback" not in proc.stderr
    assert "directory" in proc.stderr and proc.stdout == ""


def separators(messages, params):
    return distinct_prompts(messages, params) if params.json_schema else "One\u2028two\u2029three."


def test_line_separators_are_escaped_one_record_per_line(store, tmp_path, scripted):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"Task {i}\u2028line"}) + "\n" for i in range(6)))
    ingest_file(store, path, "d")
    scripted(separators)
    config = RunConfig(dataset="d", model="scripted", n=6, k=2, rules=2, verifiable_share=0.0)
    asyncio.run(execute_run(store, start_run(store, config)))
    judge(store, all_samples(store))
    for fmt in ("messages", "sharegpt"):
        out = tmp_path / fmt
        manifest = export_samples(store, out, fmt=fmt, test_fraction=0.5)
        for name in ("train", "test"):
            text = (out / f"{name}.jsonl").read_text(encoding="utf-8")
            assert "\u2028" not in text and "\u2029" not in text
            lines = text.splitlines()
            assert len(lines) == manifest["counts"][name]
            assert all(
                "One\u2028two\u2029three." in json.dumps(json.loads(line), ensure_ascii=False)
                for line in lines
            )
