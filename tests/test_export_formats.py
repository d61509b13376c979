"""Export formats, negatives and the dataset card: each file's shape as its readers expect it."""

import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
import yaml

from rnr_core.export import FILES, FORMATS, export_samples
from rnr_core.ingest import ingest_file
from rnr_core.rules import rule_record
from rnr_core.store import Store
from tests.conftest import ROOT, ingest_questions

ODD = 'odd: "name" # [x] {y} &z *w\n- not\x85a list'  # YAML and Markdown syntax in a dataset name
MULTI = [
    {"role": "user", "content": "First question?"},
    {"role": "assistant", "content": "First answer."},
    {"role": "user", "content": "And a follow-up?"},
]


def add(store, run: str, prompt: int, key: str, messages=None, category="format", model="m") -> int:
    """A sample whose one rule (of `category`) passed."""
    rules = [rule_record(1, f"Rule {prompt}.", category)]
    pid = store._scalar("SELECT id FROM system_prompts WHERE run_id = ? AND group_idx = ?", [run, prompt])
    if pid is None:
        pid = store.add_system_prompt(
            run, prompt, "Role", rules, f"You are helper {prompt}.", "writer", "sp/v2"
        )
    sample = {"run_id": run, "item_key": key, "system_prompt_id": pid, "kind": "plain"}
    sample |= {"messages": messages or [{"role": "user", "content": f"Question {key}?"}]}
    sample |= {
        "response": f"Answer {key}.",
        "model": model,
        "template": "response/v3",
        "params": {},
        "seed": 0,
    }
    sample_id = store.add_sample(sample)
    store.add_verdicts(sample_id, "checker", [{"rule_id": "r1", "verdict": "pass"}])
    return sample_id


@pytest.fixture
def filled(store, tmp_path):
    """Twelve prompts of two samples in dataset ODD (one multi-turn), plus rejected samples with reasons."""
    path = tmp_path / "odd.jsonl"
    path.write_text(json.dumps({"instruction": "Anything?"}) + "\n")
    ingest_file(store, path, ODD)
    store.create_run("run", store.dataset_id(ODD), "m", {})
    ids = [
        add(store, "run", i, f"{i}.{j}", category=("format", "style")[i % 2])
        for i in range(12)
        for j in (0, 1)
    ]
    ids.append(add(store, "run", 0, "multi", MULTI, model='gpt: "x" # y'))
    store.review(ids[:2], "reject", "ann", "rule_broken", "Ignores rule 1.")
    store.review([ids[5]], "reject", "bob", "low_quality")
    return store


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def export(store, out, fmt, **extra) -> dict:
    return export_samples(store, out, fmt, test_fraction=0.25, seed=1, leakage_threshold=None, **extra)


def multi_row(rows: list[dict], fmt: str) -> dict:
    text = json.dumps(rows)
    assert "follow-up" in text
    return next(r for r in rows if "follow-up" in json.dumps(r))


def all_rows(out, manifest) -> list[dict]:
    return [row for split in manifest["counts"] for row in lines(out / manifest["split_files"][split])]


def test_messages_and_openai_lines_are_chat_fine_tuning_records(filled, tmp_path):
    for fmt in ("messages", "openai"):
        manifest = export(filled, tmp_path / fmt, fmt)
        rows = all_rows(tmp_path / fmt, manifest)
        assert len(rows) == sum(manifest["counts"].values()) == 22
        for row in rows:
            assert list(row) == ["messages"]
            roles = [m["role"] for m in row["messages"]]
            assert (
                roles[0] == "system"
                and roles[-1] == "assistant"
                and set(roles) <= {"system", "user", "assistant"}
            )
            assert all(isinstance(m["content"], str) and m["content"] for m in row["messages"])
        multi = multi_row(rows, fmt)["messages"]
        assert [m["role"] for m in multi] == ["system", "user", "assistant", "user", "assistant"]
        weights = [m.get("weight") for m in multi]
        # OpenAI trains on assistant turns unless weighted 0: only the final response is learnt.
        assert weights == ([None, None, 0, None, 1] if fmt == "openai" else [None] * 5)
        single = next(r for r in rows if len(r["messages"]) == 3)["messages"]
        assert all("weight" not in m for m in single)


def test_sharegpt_and_alpaca_shapes(filled, tmp_path):
    manifest = export(filled, tmp_path / "s", "sharegpt")
    rows = all_rows(tmp_path / "s", manifest)
    assert all(list(r) == ["conversations"] for r in rows)
    turns = multi_row(rows, "sharegpt")["conversations"]
    assert [t["from"] for t in turns] == ["system", "human", "gpt", "human", "gpt"]
    manifest = export(filled, tmp_path / "a", "alpaca")
    rows = all_rows(tmp_path / "a", manifest)
    single = next(r for r in rows if "history" not in r)
    assert list(single) == ["instruction", "input", "output", "system"] and single["input"] == ""
    assert single["system"].startswith("You are helper") and single["output"].startswith("Answer")
    multi = multi_row(rows, "alpaca")
    assert multi["instruction"] == "And a follow-up?" and multi["history"] == [
        ["First question?", "First answer."]
    ]


def test_parquet_is_written_in_row_groups_that_pyarrow_reads(filled, tmp_path, monkeypatch):
    from rnr_core.store import selection

    monkeypatch.setattr(selection, "BATCH", 4)  # several batches: several row groups
    manifest = export(filled, tmp_path / "p", "parquet")
    assert manifest["split_files"] == {"train": "train.parquet", "test": "test.parquet"}
    export(filled, tmp_path / "j", "messages")
    for split, n in manifest["counts"].items():
        table = pq.read_table(tmp_path / "p" / f"{split}.parquet")
        assert table.num_rows == n and table.column_names == ["messages"]
        assert table.to_pylist() == lines(tmp_path / "j" / f"{split}.jsonl")
    assert pq.ParquetFile(tmp_path / "p" / "train.parquet").num_row_groups > 1
    assert not (tmp_path / "p" / "train.jsonl").exists()


def test_negatives_carry_reasons_notes_and_their_prompts_split(filled, tmp_path):
    manifest = export(filled, tmp_path / "n", "messages", negatives=True)
    negatives = lines(tmp_path / "n" / "negatives.jsonl")
    assert manifest["negatives"] == {"count": 3, "reasons": {"rule_broken": 2, "low_quality": 1}}
    assert len(negatives) == 3 and "negatives.jsonl" in manifest["files"]
    first = negatives[0]
    assert set(first) == {"messages", "split", "reject_reason", "review_note", "failed_rules"}
    assert (first["reject_reason"], first["review_note"]) == ("rule_broken", "Ignores rule 1.")
    assert first["failed_rules"] == []  # rejected by a person, every rule passed
    # A negative's split is its system prompt's split: prompt 2's other sample is in that split's file.
    low = next(n for n in negatives if n["reject_reason"] == "low_quality")
    kept = lines(tmp_path / "n" / f"{low['split']}.jsonl")
    assert low["messages"][0]["content"] in {r["messages"][0]["content"] for r in kept}
    assert "Negatives" in (tmp_path / "n" / "README.md").read_text()
    without = export(filled, tmp_path / "none", "messages")
    assert without["negatives"] is None and not (tmp_path / "none" / "negatives.jsonl").exists()


def test_negatives_without_rejected_samples_add_no_config_that_cannot_load(store, tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"instruction": "Anything?"}) + "\n")
    ingest_file(store, path, "d")
    store.create_run("run", store.dataset_id("d"), "m", {})
    for i in range(4):
        add(store, "run", i, f"{i}.0")
    manifest = export_samples(store, tmp_path / "e", negatives=True)
    assert manifest["negatives"] == {"count": 0, "reasons": {}}
    assert (tmp_path / "e" / "negatives.jsonl").read_text() == ""
    meta = front_matter((tmp_path / "e" / "README.md").read_text())
    assert [c["config_name"] for c in meta["configs"]] == ["default"]


def front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    return yaml.safe_load(card.split("---\n")[1])


def test_the_dataset_card_has_parseable_metadata_and_the_counts(filled, tmp_path):
    manifest = export_samples(
        filled,
        tmp_path / "c",
        dataset=ODD,
        ratios={"train": 0.5, "validation": 0.25, "test": 0.25},
        negatives=True,
        seed=2,
    )
    card = (tmp_path / "c" / "README.md").read_text()
    meta = front_matter(card)
    # The odd name survives, as one value on one line.
    assert meta["pretty_name"] == 'RNR role-and-rules data from odd: "name" # [x] {y} &z *w - not a list'
    assert meta["task_categories"] == ["text-generation"] and meta["language"] == ["en"]
    assert meta["size_categories"] == ["n<1K"]
    default, negatives = meta["configs"]
    assert default["data_files"] == [
        {"split": s, "path": f"{s}.jsonl"} for s in ("train", "validation", "test")
    ]
    assert negatives == {
        "config_name": "negatives",
        "data_files": [{"split": "negatives", "path": "negatives.jsonl"}],
    }
    assert {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]} == manifest["counts"]
    for split, n in manifest["counts"].items():
        assert f"| {split} | {n:,} | {manifest['prompts'][split]:,} |" in card
    assert "| format |" in card and "| style |" in card and "| free-form |" in card
    assert "22 passed every rule (100.0%)" in card
    assert "| response/v3 | 22 |" in card and "| sp/v2 | 22 |" in card and "| writer | 22 |" in card
    assert 'gpt: "x" \\# y' in card  # a model name, escaped for Markdown
    assert "ratios | train=0.5, validation=0.25, test=0.25" in card and "| seed | 2 |" in card
    assert f"| exported | {manifest['created_at']} |" in card
    assert "## Leakage check" in card and "held-out instructions" in card
    assert "<" not in card.split("---\n", 2)[2].replace("n<1K", "")  # no raw HTML from stored text


def test_the_card_counts_repaired_samples_by_source_and_fixer(filled, tmp_path):
    fixed = {"source": "generated", "revisions": 1, "revised_kinds": ["change_case:english_lowercase"]}
    fixed["fixes"] = [{"rule_id": "r1", "kind": "change_case:english_lowercase", "fixer": "lowercase"}]
    recycled = {"source": "recycled", "revisions": 0, "fixes": [{"rule_id": "r1", "fixer": "wrap_in_quotes"}]}
    ids = [
        r[0]
        for r in filled.con.execute("SELECT id FROM samples WHERE status = 'pending' ORDER BY id").fetchall()
    ]
    filled.con.execute("UPDATE samples SET provenance = ? WHERE id = ?", [json.dumps(fixed), ids[0]])
    filled.con.execute(
        "UPDATE samples SET provenance = ? WHERE id IN (?, ?)", [json.dumps(recycled), ids[1], ids[2]]
    )
    manifest = export(filled, tmp_path / "r", "messages")
    assert manifest["provenance"] == {
        "sources": {"generated": 20, "recycled": 2},
        "revised": 1,
        "revised_kinds": {"change_case:english_lowercase": 1},
        "fixed": 3,
        "fixers": {"wrap_in_quotes": 2, "lowercase": 1},
    }
    card = (tmp_path / "r" / "README.md").read_text()
    assert "1 exported samples were revised after a failed check, and 3 were repaired" in card
    assert "| recycled | 2 |" in card and "| wrap\\_in\\_quotes | 2 |" in card


def test_another_export_over_an_earlier_one_leaves_no_file_of_it(filled, tmp_path):
    out = tmp_path / "o"
    export_samples(
        filled,
        out,
        "parquet",
        ratios={"train": 0.5, "validation": 0.25, "test": 0.25},
        negatives=True,
        leakage_threshold=None,
    )
    assert {p.name for p in out.iterdir()} == {
        "train.parquet",
        "validation.parquet",
        "test.parquet",
        "negatives.jsonl",
        "README.md",
        "manifest.json",
    }
    manifest = export(filled, out, "openai", overwrite=True)
    assert (
        sorted(p.name for p in out.iterdir())
        == sorted(manifest["files"])
        == sorted(["train.jsonl", "test.jsonl", "README.md", "manifest.json"])
    )
    assert set(manifest["files"]) <= set(FILES)


def cli(db, *args):
    argv = [sys.executable, "-m", "rnr_core.cli", "export", "--db", str(db), *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)


def test_cli_formats_negatives_and_empty_selections(tmp_path):
    db = tmp_path / "cli.duckdb"
    with Store(str(db)) as store:
        ingest_questions(store, tmp_path, 2, "d")
        store.create_run("run", store.dataset_id("d"), "m", {})
        ids = [add(store, "run", i, f"{i}") for i in range(8)]
        store.review(ids[:1], "reject", "ann", "unsafe", "Too risky.")
    help_text = cli(db, "--help").stdout
    for flag in (
        "--ratios",
        "--test-fraction",
        "--no-stratify",
        "--leakage-threshold",
        "--no-leakage-check",
        "--leakage-action",
        "--negatives",
        *FORMATS,
    ):
        assert flag in help_text
    done = cli(
        db,
        "--out",
        str(tmp_path / "o"),
        "--format",
        "alpaca",
        "--negatives",
        "--no-leakage-check",
        "--test-fraction",
        "0.25",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote ") and "1 rejected sample in negatives.jsonl" in done.stdout
    assert lines(tmp_path / "o" / "negatives.jsonl")[0]["review_note"] == "Too risky."
    assert set(lines(tmp_path / "o" / "train.jsonl")[0]) == {"instruction", "input", "output", "system"}
    empty = cli(db, "--out", str(tmp_path / "e"), "--status", "accepted")
    assert empty.returncode == 2 and "No samples with status accepted to export" in empty.stderr
    assert not (tmp_path / "e").exists()
    bad = cli(db, "--out", str(tmp_path / "b"), "--leakage-threshold", "1.5")
    assert bad.returncode == 2 and "1.5 is not a cosine similarity" in bad.stderr
