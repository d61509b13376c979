import asyncio
import json
import os
import random
import stat
import subprocess
import sys

import pytest

from rnr_core import jsonl
from rnr_core.errors import OutputError, RnrError
from rnr_core.export import (
    FILES,
    ExportExists,
    build_splits,
    conversation,
    export_preview,
    export_samples,
    split_warning,
)
from rnr_core.generate import RunConfig, execute_run, start_run
from rnr_core.ingest import ingest_file
from rnr_core.rules import rule_record
from rnr_core.stats import with_outcomes
from rnr_core.store import VERDICTS, Store, selection
from tests.conftest import ROOT, ingest_questions


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
    with pytest.raises(RnrError, match="Pick at least one review status"):
        export_samples(generated, tmp_path / "x", statuses=[])
    assert not (tmp_path / "x").exists()
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


# ---- streamed export: filters, SQL outcomes, preview, staging ------------------------------------

CATEGORIES = ("format", "safety", "style")
JUDGES = ("checker", "llm:a", "llm:b", "human:ann", "human:bob", "adjudicator:mia", "other")


def add_plain_sample(store, run: str, prompt_id: int, key: str) -> int:
    return store.add_sample(
        {
            "run_id": run,
            "item_key": key,
            "system_prompt_id": prompt_id,
            "kind": "plain",
            "messages": [{"role": "user", "content": f"Question {key}"}],
            "response": f"Answer {key}",
            "model": "m",
            "template": "t",
            "params": {},
            "seed": 0,
        }
    )


def small_store(store, tmp_path, prompts: int = 6, k: int = 3) -> list[int]:
    """Two datasets (a, b) with one run each; prompt i has rules r1, r2 of categories i and i + 1."""
    for name in ("a", "b"):
        ingest_questions(store, tmp_path, 2, name)
        store.create_run(f"run-{name}", store.dataset_id(name), "m", {})
    ids = []
    for i in range(prompts):
        run = f"run-{'ab'[i % 2]}"
        cats = [CATEGORIES[(i + j) % len(CATEGORIES)] for j in range(2)]
        rules = [rule_record(j + 1, f"Rule {j + 1} of prompt {i}.", c) for j, c in enumerate(cats)]
        pid = store.add_system_prompt(run, i, f"Role {i}", rules, f"Role {i}. Rules of prompt {i}.", "m", "t")
        ids += [add_plain_sample(store, run, pid, f"{i}.{j}") for j in range(k)]
    return ids


def random_verdicts(store, ids, rng):
    """Varied verdicts: all judge kinds, unknowns, unjudged rules, same-time ties, a rule not in prompt."""
    for sample_id in ids:
        for _ in range(rng.randint(0, 4)):
            judges = rng.sample(JUDGES, rng.randint(1, 3))
            with store.transaction():  # one transaction: one timestamp, so these tie on time
                for judge_name in judges:
                    rule_ids = rng.sample(["r1", "r2", "r9"], rng.randint(1, 2))
                    verdicts = [{"rule_id": r, "verdict": rng.choice(VERDICTS)} for r in rule_ids]
                    store.add_verdicts(sample_id, judge_name, verdicts)


def sql_outcomes(store, statuses=("pending", "accepted", "rejected"), **filters) -> dict[int, str]:
    return {s["id"]: s["outcome"] for b in store.selected_batches(list(statuses), **filters) for s in b}


def reference_export(store, fmt, statuses, test_fraction, seed, include_failing) -> dict[str, bytes]:
    """What the in-memory export wrote: every candidate loaded, judged in Python, split, then dumped."""
    candidates = with_outcomes(store.attach_verdicts(store.export_samples(list(statuses))))
    chosen = [s for s in candidates if include_failing or s["outcome"] == "pass"]
    splits = build_splits(chosen, fmt, test_fraction, seed)
    return {name: b"".join(jsonl.dumps(r) for r in rows) for name, rows in splits.items()}


def test_sql_outcomes_agree_with_stats_on_random_verdicts(store, tmp_path, monkeypatch):
    monkeypatch.setattr(selection, "BATCH", 4)
    ids = small_store(store, tmp_path, prompts=10, k=4)
    no_rules = store.add_system_prompt("run-a", 99, "Role", [], "A role without rules.", "m", "t")
    ids.append(add_plain_sample(store, "run-a", no_rules, "none"))
    random_verdicts(store, ids, random.Random(7))
    judge(store, [store.get_sample(ids[-1])], rule_ids=["r1"])  # a pass on no rule of its own decides nothing
    expected = {s["id"]: s["outcome"] for s in with_outcomes(store.attach_verdicts(all_samples(store)))}
    assert set(expected.values()) == {"pass", "fail", "unjudged"}
    assert sql_outcomes(store) == expected


@pytest.mark.parametrize("fmt", ["messages", "sharegpt"])
@pytest.mark.parametrize("include_failing", [False, True])
def test_streamed_export_matches_in_memory_export_byte_for_byte(
    store, tmp_path, monkeypatch, fmt, include_failing
):
    monkeypatch.setattr(selection, "BATCH", 5)  # several batches, some of them empty
    ids = small_store(store, tmp_path, prompts=12, k=3)
    random_verdicts(store, ids, random.Random(3))
    judge(store, [store.get_sample(i) for i in ids[::2]])  # enough passing samples on both sides
    store.set_sample_status(ids[:6], "rejected")
    store.set_sample_status(ids[6:12], "accepted")
    out = tmp_path / "out"
    export_samples(store, out, fmt, test_fraction=0.3, seed=1, include_failing=include_failing)
    want = reference_export(store, fmt, ("pending", "accepted"), 0.3, 1, include_failing)
    assert want["train"] and want["test"]
    assert {n: (out / f"{n}.jsonl").read_bytes() for n in want} == want


def test_stale_verdicts_decide_nothing(store, tmp_path):
    first, second, *_ = small_store(store, tmp_path, prompts=1, k=3)
    judge(store, [store.get_sample(first), store.get_sample(second)])
    store.con.execute("UPDATE verdicts SET stale = true WHERE sample_id = ?", [first])
    assert sql_outcomes(store)[first] == "unjudged" and sql_outcomes(store)[second] == "pass"
    judge(store, [store.get_sample(first)], "fail", "human:ann", rule_ids=["r2"])
    assert sql_outcomes(store)[first] == "fail"


def test_edited_prompt_is_exported_and_edited_rules_are_filtered_and_judged(store, tmp_path):
    ids = small_store(store, tmp_path, prompts=1, k=3)  # rules r1 format, r2 safety
    judge(store, [store.get_sample(i) for i in ids])
    edited = [rule_record(1, "Only this rule now.", "style"), rule_record(3, "A new rule.", "style")]
    store.con.execute(
        "UPDATE samples SET edited_rules = ?, edited_prompt = 'Edited prompt.' WHERE id = ?",
        [json.dumps(edited), ids[0]],
    )
    assert sql_outcomes(store)[ids[0]] == "unjudged"  # its new rule r3 has no verdict yet
    assert set(sql_outcomes(store, categories=["style"])) == {ids[0]}
    assert set(sql_outcomes(store, categories=["safety"])) == set(ids[1:])
    judge(store, [store.get_sample(ids[0])], rule_ids=["r3"])
    export_samples(store, tmp_path / "out", categories=["style"], test_fraction=0)
    (row,) = read(tmp_path / "out" / "train.jsonl")
    assert row["messages"][0] == {"role": "system", "content": "Edited prompt."}


def test_dataset_and_category_filters_choose_samples_and_are_recorded(store, tmp_path):
    ids = small_store(store, tmp_path, prompts=6, k=2)  # even prompts in dataset a, odd in b
    judge(store, [store.get_sample(i) for i in ids])
    samples = {i: store.get_sample(i) for i in ids}

    def chosen(**filters):
        manifest = export_samples(store, tmp_path / "out", test_fraction=0, overwrite=True, **filters)
        return manifest, sorted(r["messages"][-1]["content"] for r in read(tmp_path / "out" / "train.jsonl"))

    def answers(keep):
        return sorted(s["response"] for s in samples.values() if keep(s))

    manifest, got = chosen(dataset="a")
    assert got == answers(lambda s: s["dataset"] == "a")
    assert manifest["dataset"] == "a" and manifest["categories"] is None
    manifest, got = chosen(categories=["safety", "style"])
    cats = {"safety", "style"}
    assert got == answers(lambda s: cats & {r["category"] for r in s["rules"]})
    assert manifest["categories"] == ["safety", "style"]
    _, got = chosen(dataset="b", categories=["format"])
    assert got == answers(lambda s: s["dataset"] == "b" and "format" in {r["category"] for r in s["rules"]})
    assert len(set(got)) < len(ids) // 2  # each filter really left samples out
    with pytest.raises(
        RnrError, match=r"No samples with status pending, accepted \(dataset a; rule category x\)"
    ):
        export_samples(store, tmp_path / "none", dataset="a", categories=["x"])


FILTER_CASES = [
    {},
    {"include_failing": True},
    {"dataset": "a"},
    {"categories": ["safety"]},
    {"categories": "style"},  # one category as a plain string
    {"run_id": "run-b", "categories": ["format", "style"], "include_failing": True},
    {"statuses": ["accepted", "rejected"], "test_fraction": 0.5, "seed": 4},
]


@pytest.mark.parametrize("filters", FILTER_CASES)
def test_preview_counts_what_export_writes(store, tmp_path, filters):
    ids = small_store(store, tmp_path, prompts=10, k=3)
    random_verdicts(store, ids, random.Random(11))
    judge(store, [store.get_sample(i) for i in ids[::3]])
    store.set_sample_status(ids[::4], "accepted")
    store.set_sample_status(ids[1::5], "rejected")
    settings = {"test_fraction": 0.3, **filters}
    preview = export_preview(store, **settings)
    try:
        manifest = export_samples(store, tmp_path / "out", **settings)
    except RnrError:
        manifest = {"counts": {"train": 0, "test": 0}}
    assert preview["counts"] == manifest["counts"]
    assert sum(preview["counts"].values()) > 0 or filters == {}
    if "excluded" in manifest:
        assert preview["excluded"] == manifest["excluded"]
        assert preview["prompts"] == manifest["prompts"]
        assert preview["split_warning"] == manifest["split_warning"]
    assert preview["candidates"] == sum(preview["counts"].values()) + sum(preview["excluded"].values())


def test_preview_writes_nothing_and_checks_settings(generated, tmp_path):
    before = sorted(tmp_path.rglob("*"))
    preview = export_preview(generated, test_fraction=0.25, seed=3)
    assert sorted(tmp_path.rglob("*")) == before
    assert (
        preview["counts"] == export_samples(generated, tmp_path / "o", test_fraction=0.25, seed=3)["counts"]
    )
    with pytest.raises(RnrError, match="test-fraction"):
        export_preview(generated, test_fraction=1.0)
    with pytest.raises(RnrError, match="Unknown export format"):
        export_preview(generated, fmt="yaml")


def test_failed_export_keeps_earlier_files_and_leaves_no_temp_files(store, tmp_path, monkeypatch):
    monkeypatch.setattr(selection, "BATCH", 2)
    ids = small_store(store, tmp_path, prompts=4, k=2)
    judge(store, [store.get_sample(i) for i in ids])
    out = tmp_path / "out"
    export_samples(store, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RnrError, match="No samples with status rejected"):
        export_samples(store, out, statuses=["rejected"], overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # A sample that fails to convert late in the stream: earlier batches were already written to temp files.
    store.con.execute(
        "UPDATE samples SET messages = ? WHERE id = ?",
        [json.dumps([{"role": "tool", "content": "x"}]), ids[-1]],
    )
    with pytest.raises(KeyError):
        export_samples(store, out, fmt="sharegpt", include_failing=True, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    with pytest.raises(KeyError):
        export_samples(store, tmp_path / "new" / "deeper", fmt="sharegpt", include_failing=True)
    assert not (tmp_path / "new").exists()


def test_cli_export_filters_by_dataset_and_repeated_category(tmp_path):
    db = tmp_path / "e.duckdb"
    with Store(str(db)) as store:
        ids = small_store(store, tmp_path, prompts=6, k=2)
        judge(store, [store.get_sample(i) for i in ids])
        want = export_preview(store, dataset="b", categories=["format", "style"], test_fraction=0)
    args = ["--dataset", "b", "--category", "format", "--category", "style", "--test-fraction", "0"]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnr_core.cli",
            "export",
            "--db",
            str(db),
            "--out",
            str(tmp_path / "o"),
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["dataset"] == "b" and manifest["categories"] == ["format", "style"]
    assert manifest["counts"] == want["counts"] and want["counts"]["train"] > 0
    assert len(read(tmp_path / "o" / "train.jsonl")) == want["counts"]["train"]


# ---- file modes, earlier exports, the share a split can honour, progress ---------------------------


@pytest.fixture
def umask():
    """Set the process umask for one test, then put the old one back."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_mode_the_umask_gives(store, tmp_path, umask, mask, mode):
    ids = small_store(store, tmp_path, prompts=4, k=2)
    judge(store, [store.get_sample(i) for i in ids])
    umask(mask)
    manifest = export_samples(store, tmp_path / "out", negatives=True)
    jsonl.write_jsonl(tmp_path / "one.jsonl", [{"a": 1}])
    assert set(manifest["files"]) == {
        "train.jsonl",
        "test.jsonl",
        "negatives.jsonl",
        "README.md",
        "manifest.json",
    }
    written = [tmp_path / "out" / name for name in manifest["files"]] + [tmp_path / "one.jsonl"]
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {p.name: mode for p in written}


def test_an_earlier_export_is_replaced_only_when_asked(store, tmp_path):
    ids = small_store(store, tmp_path, prompts=4, k=2)
    judge(store, [store.get_sample(i) for i in ids])
    out = tmp_path / "out"
    first = export_samples(store, out, test_fraction=0)
    (out / "notes.txt").write_text("mine")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(ExportExists) as refused:
        export_samples(store, out, test_fraction=0.5)
    message = str(refused.value)
    assert message.startswith(f"{out} already holds train.jsonl, test.jsonl, README.md, manifest.json")
    assert f"an export of 8 train and 0 test samples, made {first['created_at']}" in message
    assert "1 other item, which an export leaves alone" in message and "--overwrite" in message
    assert refused.value.out == str(out) and "notes.txt" not in message
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing touched
    second = export_samples(store, out, test_fraction=0.5, overwrite=True)
    assert json.loads((out / "manifest.json").read_text())["test_fraction"] == 0.5
    assert len(read(out / "test.jsonl")) == second["counts"]["test"] > 0
    assert (out / "notes.txt").read_text() == "mine"


def test_a_folder_without_export_files_is_written_into(store, tmp_path):
    ids = small_store(store, tmp_path, prompts=2, k=2)
    judge(store, [store.get_sample(i) for i in ids])
    out = tmp_path / "out"
    out.mkdir()
    (out / "readme.md").write_text("mine")
    written = export_samples(store, out)["files"]  # nothing an export writes is there: nothing to ask
    assert set(written) <= set(FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted([*written, "readme.md"])
    (out / "train.jsonl").unlink()
    (out / "manifest.json").write_text("{not json")
    with pytest.raises(
        ExportExists, match=r"holds test\.jsonl, README\.md, manifest\.json, and 1 other item"
    ):
        export_samples(store, out)  # an unreadable manifest still counts as a file to replace


def test_cli_refuses_to_replace_an_export_and_says_to_pass_overwrite(tmp_path):
    db = tmp_path / "e.duckdb"
    with Store(str(db)) as store:
        ids = small_store(store, tmp_path, prompts=4, k=2)
        judge(store, [store.get_sample(i) for i in ids])
    out = tmp_path / "o"

    def export(*args):
        argv = [sys.executable, "-m", "rnr_core.cli", "export", "--db", str(db), "--out", str(out), *args]
        return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)

    assert export().returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    refused = export("--test-fraction", "0.5")
    assert refused.returncode == 2 and refused.stdout == "" and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"Error: {out} already holds train.jsonl")
    assert "Pass --overwrite" in refused.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    replaced = export("--test-fraction", "0.5", "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert json.loads((out / "manifest.json").read_text())["test_fraction"] == 0.5


SPLITS = [
    # (train, test) samples, (train, test) prompts, test share asked, warned
    ((3, 4), (2, 1), 0.1, "with 3 system prompts the test split holds 57% of the samples (4 of 7), not 10%"),
    ((7, 0), (1, 0), 0.1, "with 1 system prompt the test split holds 0% of the samples (0 of 7), not 10%"),
    ((0, 5), (0, 2), 0.3, "holds 100% of the samples (5 of 5), not 30%"),
    ((900, 100), (90, 10), 0.1, None),
    ((880, 120), (88, 12), 0.1, None),  # 12%: within a fifth of the share
    ((870, 130), (87, 13), 0.1, "holds 13% of the samples (130 of 1,000), not 10%"),
    ((991, 9), (99, 1), 0.01, None),  # 0.9%: within one point
    ((5, 0), (5, 0), 0.0, None),  # no test split asked, none made
    ((0, 0), (0, 0), 0.1, None),  # nothing selected: the export says so itself
]


@pytest.mark.parametrize(("counts", "prompts", "share", "warned"), SPLITS)
def test_split_warning_says_when_the_share_cannot_be_honoured(counts, prompts, share, warned):
    ratios = {"train": 1 - share, "test": share}
    got = split_warning(dict(zip(("train", "test"), counts)), dict(zip(("train", "test"), prompts)), ratios)
    if warned is None:
        assert got is None
    else:
        assert warned in got and "Try another split seed" in got


def test_preview_manifest_and_cli_warn_when_few_prompts_miss_the_share(tmp_path):
    db = tmp_path / "e.duckdb"
    with Store(str(db)) as store:
        ids = small_store(store, tmp_path, prompts=3, k=3)
        judge(store, [store.get_sample(i) for i in ids])
        preview = export_preview(store, test_fraction=0.1)
        manifest = export_samples(store, tmp_path / "out", test_fraction=0.1)
        rules = [rule_record(1, "Be brief.", "format")]
        for group in range(100, 400):
            pid = store.add_system_prompt("run-a", group, "Role", rules, f"Prompt {group}.", "m", "t")
            judge(store, [store.get_sample(add_plain_sample(store, "run-a", pid, f"{group}"))])
        wide = export_preview(store, test_fraction=0.1)
    assert preview["prompts"] == manifest["prompts"] and sum(preview["prompts"].values()) == 3
    assert preview["split_warning"] and preview["split_warning"] == manifest["split_warning"]
    assert "with 3 system prompts the test split holds" in preview["split_warning"]
    saved = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert saved["split_warning"] == preview["split_warning"]
    assert wide["split_warning"] is None and sum(wide["prompts"].values()) == 303
    proc = subprocess.run(
        [sys.executable, "-m", "rnr_core.cli", "export", "--db", str(db), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("wrote ") and "\nwarning: " not in proc.stdout  # 303 prompts suffice


class Calls(list):
    """A progress callback that records its (done, total) calls."""

    def __call__(self, done: int, total: int, failed: int = 0) -> None:
        self.append((done, total))


def test_progress_counts_every_sample_of_the_store_once(store, tmp_path, monkeypatch):
    monkeypatch.setattr(selection, "BATCH", 4)
    ids = small_store(store, tmp_path, prompts=6, k=3)
    judge(store, [store.get_sample(i) for i in ids])
    store.con.execute("DELETE FROM samples WHERE id BETWEEN ? AND ?", [ids[4], ids[11]])  # a gap in the ids
    left = len(ids) - 8
    ranges = len({i // 4 for i in ids if not ids[4] <= i <= ids[11]})
    for filters in ({}, {"dataset": "a", "include_failing": True}):
        calls = Calls()
        export_samples(store, tmp_path / "out", overwrite=True, progress=calls, **filters)
        assert calls[0] == (0, left) and calls[-1] == (left, left)
        assert len(calls) == ranges + 1  # one at the start, one per id range that holds samples
        done = [d for d, _ in calls]
        assert done == sorted(done) and len(set(done)) == len(done) and {t for _, t in calls} == {left}
