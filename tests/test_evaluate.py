"""Frozen benchmarks: from a run, a split, a file and IFEval; immutable, uniquely named, checked input."""

import json

import pytest

from rnr_core.errors import BenchmarkError, EvalInputError, NotFound
from rnr_core.evaluate.benchmark import benchmarks, freeze, freeze_ifeval, load
from rnr_core.evaluate.compare import record_vote
from rnr_core.evaluate.items import item_key
from rnr_core.export import export_samples
from rnr_core.ingest import ingest_file
from rnr_core.store import Store
from tests import app_data
from tests.conftest import DATA


@pytest.fixture
def seeded(tmp_path):
    """The app's fixture store: a run of three samples (one verifiable, one free-form rule each)."""
    path = tmp_path / "app.duckdb"
    ids = app_data.seed(path)
    with Store(str(path)) as store:
        yield store, ids


def write_lines(path, records) -> str:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return str(path)


RULES = [
    {"id": "r1", "text": "Write in lowercase only.", "kind": "change_case:english_lowercase", "kwargs": {}},
    {"id": "r2", "text": "Be polite.", "category": "style"},
]


def line(i: int, rules=RULES, **extra) -> dict:
    return {
        "messages": [
            {"role": "system", "content": "You are a terse helper."},
            {"role": "user", "content": f"Question {i}?"},
            {"role": "assistant", "content": "ignored"},
        ],
        "rules": rules,
        **extra,
    }


def test_freeze_from_a_run_keeps_samples_not_rejected(seeded):
    store, ids = seeded
    store.set_sample_status([ids["failing"]], "rejected")
    summary = freeze(store, "museum", run_id="run-fixture", created_by="ana")
    assert summary["items"] == 2 and summary["source"] == "run:run-fixture"
    bench = load(store, "museum")
    assert bench["content_hash"] == summary["content_hash"]
    prompts = {i["messages"][0]["content"] for i in bench["items"]}
    assert "Say it in French." not in prompts and "Where is the cafe?" in prompts
    item = bench["items"][0]
    assert item["system_prompt"].startswith("You are a patient museum guide")
    assert [r["kind"] for r in item["rules"]] == ["language:response_language", None]
    assert [b["name"] for b in benchmarks(store)] == ["museum"]
    assert benchmarks(store)[0]["created_by"] == "ana"


def test_an_edit_of_a_source_sample_leaves_the_benchmark_unchanged(seeded):
    store, ids = seeded
    before = freeze(store, "v1", run_id="run-fixture")
    frozen = load(store, "v1")
    sample = store.get_sample(ids["plain"])
    store.save_edit(ids["plain"], sample["version"], "ana", role="You are a grumpy pirate.")
    assert load(store, "v1") == frozen
    after = freeze(store, "v2", dataset="demo")
    assert after["content_hash"] != before["content_hash"]
    edited = [i for i in load(store, "v2")["items"] if i["messages"][0]["content"] == "Where is the cafe?"]
    assert edited[0]["system_prompt"].startswith("You are a grumpy pirate.")


def exported_prompts(out) -> dict[str, set]:
    """The system prompts in each split file of an export."""
    return {
        split: {
            json.loads(row)["messages"][0]["content"]
            for row in (out / f"{split}.jsonl").read_text().splitlines()
        }
        for split in ("train", "test")
    }


def test_a_split_keeps_the_prompts_an_export_puts_there(seeded, tmp_path):
    store, ids = seeded
    for n, sample_id in enumerate(ids.values()):  # three system prompts, so a split can divide them
        store.save_edit(sample_id, store.get_sample(sample_id)["version"], "ana", role=f"You are guide {n}.")
        verdict = "fail" if sample_id == ids["failing"] else "pass"  # the export leaves one prompt out
        rules = store.get_sample(sample_id)["rules"]
        store.add_verdicts(sample_id, "human:ann", [{"rule_id": r["id"], "verdict": verdict} for r in rules])
    halves = {"train": 0.5, "test": 0.5}
    manifest = export_samples(store, tmp_path / "out", run_id="run-fixture", ratios=halves, seed=3)
    assert manifest["counts"] == {"train": 1, "test": 1}
    test = freeze(store, "t", run_id="run-fixture", split="test", ratios=halves, seed=3)
    train = freeze(store, "tr", run_id="run-fixture", split="train", test_fraction=0.5, seed=3)
    frozen = {name: {i["system_prompt"] for i in load(store, name)["items"]} for name in ("t", "tr")}
    exported = exported_prompts(tmp_path / "out")
    assert exported["test"] <= frozen["t"] and exported["train"] <= frozen["tr"]
    assert frozen["t"].isdisjoint(frozen["tr"])
    assert test["items"] + train["items"] == 3  # the prompt the export left out is placed by seed alone
    assert "split:test" in test["source"] and "ratios train=0.5,test=0.5, seed 3" in test["source"]
    with pytest.raises(BenchmarkError, match="have no validation split"):
        freeze(store, "v", run_id="run-fixture", split="validation", ratios=halves)


def test_an_export_s_held_out_prompts_are_frozen_exactly_as_it_placed_them(store, tmp_path):
    from tests.test_export_formats import add

    (tmp_path / "d.jsonl").write_text(json.dumps({"instruction": "Anything?"}) + "\n")
    ingest_file(store, tmp_path / "d.jsonl", "d")
    store.create_run("run", store.dataset_id("d"), "m", {})
    ids = [add(store, "run", i, f"{i}.0", category=("format", "style")[i % 3 == 0]) for i in range(24)]
    store.review(ids[::2], "accept", "ann")  # a filtered export places its own groups
    out = tmp_path / "out"
    manifest = export_samples(
        store, out, statuses=["accepted"], ratios={"train": 0.5, "test": 0.5}, seed=1, leakage_threshold=None
    )
    assert "held_out" not in manifest  # recorded in the folder, not printed
    frozen = freeze(store, "held", export=out)
    exported = exported_prompts(out)
    assert {i["system_prompt"] for i in load(store, "held")["items"]} == exported["test"]
    assert frozen["items"] == manifest["counts"]["test"] and frozen["source"] == f"export:{out} split:test"
    with pytest.raises(BenchmarkError, match="has no held-out train split; it holds out test"):
        freeze(store, "x", export=out, split="train")
    with pytest.raises(NotFound, match="No manifest.json in"):
        freeze(store, "x", export=tmp_path / "nowhere")
    with pytest.raises(BenchmarkError, match="exactly one source"):
        freeze(store, "x", export=out, run_id="run")


def test_a_name_in_use_is_refused_naming_it(seeded):
    store, _ = seeded
    freeze(store, "museum", run_id="run-fixture")
    with pytest.raises(BenchmarkError, match="'museum' already exists"):
        freeze(store, "museum", dataset="demo")
    assert len(benchmarks(store)) == 1


def test_exactly_one_source_and_known_ones(seeded):
    store, _ = seeded
    with pytest.raises(BenchmarkError, match="exactly one source"):
        freeze(store, "x", run_id="run-fixture", dataset="demo")
    with pytest.raises(NotFound, match="No run 'run-nope'"):
        freeze(store, "x", run_id="run-nope")
    with pytest.raises(NotFound, match="No dataset 'nope'"):
        freeze(store, "x", dataset="nope")
    with pytest.raises(BenchmarkError, match="--split must be one of train, validation, test"):
        freeze(store, "x", run_id="run-fixture", split="dev")
    assert benchmarks(store) == []


def test_freeze_from_a_file(tmp_path):
    path = write_lines(tmp_path / "bench.jsonl", [line(1), line(2), line(1, [RULES[1]])])
    with Store(":memory:") as store:
        summary = freeze(store, "file", file=path)
        bench = load(store, "file")
    assert summary["items"] == 2  # the same system prompt and turns twice is one item
    assert summary["duplicates_dropped"] == 1 and len(bench["items"][0]["rules"]) == 2  # the first kept
    item = bench["items"][0]
    assert item["system_prompt"] == "You are a terse helper."
    assert item["messages"] == [{"role": "user", "content": "Question 1?"}]  # the answer is not kept
    assert item["rules"][0]["category"] == "style"  # the checker's category when none is given
    assert item["rules"][1] == {
        "id": "r2",
        "text": "Be polite.",
        "kind": None,
        "kwargs": None,
        "category": "style",
    }


def test_benchmark_items_ad_hoc_prompts_and_votes_share_one_key(tmp_path):
    path = write_lines(tmp_path / "bench.jsonl", [line(1)])
    with Store(":memory:") as store:
        freeze(store, "file", file=path)
        (frozen,) = load(store, "file")["items"]
        asked = {"system_prompt": "You are a terse helper.", "messages": frozen["messages"]}
        vote = dict(benchmark=None, item_key=None, item=asked, model_a="x", model_b="y")
        record_vote(store, **vote, response_a="a", response_b="b", winner="a", voter="ana", blind=True)
        (stored,) = store.votes(None)
    assert frozen["item_key"] == item_key(asked["system_prompt"], asked["messages"]) == stored["item_key"]
    assert frozen["item_key"].startswith("i-") and len(frozen["item_key"]) == 18


@pytest.mark.parametrize(
    "bad, says",
    [
        ("{not json", ":2: invalid JSON"),
        ({"messages": [{"role": "user", "content": "hi"}]}, ":2: field 'rules' must be a non-empty list"),
        ({"messages": [{"role": "bot", "content": "hi"}], "rules": RULES}, ":2: field 'messages': message 0"),
        (
            line(2, [{"id": "r1", "text": "x", "kind": "no:such"}]),
            ":2: rules\\[0\\]: .*unknown rule kind 'no:such'",
        ),
        (
            line(2, [{"id": "r1", "text": "x", "kind": "keywords:existence", "kwargs": {}}]),
            ":2: rules\\[0\\]: .*missing kwarg 'keywords'",
        ),
        (line(2, [{"id": "r1", "text": ""}]), ":2: rules\\[0\\]: field 'text' must be a non-empty string"),
        (line(2, [{"id": "r1", "text": "x", "category": "vibes"}]), ":2: rules\\[0\\]: field 'category'"),
        (line(2, [RULES[1], RULES[1]]), ":2: field 'rules': rule ids must be unique"),
    ],
)
def test_a_bad_file_line_is_named_and_nothing_is_frozen(tmp_path, bad, says):
    path = write_lines(tmp_path / "bench.jsonl", [line(1), bad])
    with Store(":memory:") as store:
        with pytest.raises(EvalInputError, match=f"bench.jsonl{says}"):
            freeze(store, "file", file=path)
        assert benchmarks(store) == []


def test_an_unknown_benchmark_names_itself_and_the_known_ones(tmp_path):
    with Store(":memory:") as store:
        freeze(store, "real", file=write_lines(tmp_path / "b.jsonl", [line(1)]))
        with pytest.raises(NotFound, match="No benchmark 'nope' \\(known: real\\)"):
            load(store, "nope")


def test_ifeval_subset_is_seeded_and_covers_every_kind(shared_data):
    path = shared_data / "ifeval" / "input_data.jsonl"
    kinds = {k for ln in path.read_text().splitlines() for k in json.loads(ln)["instruction_id_list"]}
    with Store(":memory:") as store:
        a = freeze_ifeval(store, path, name="a", limit=len(kinds), seed=1)
        b = freeze_ifeval(store, path, name="b", limit=len(kinds), seed=1)
        c = freeze_ifeval(store, path, name="c", limit=len(kinds), seed=2)
        items = load(store, "a")["items"]
    assert a["items"] == len(kinds) == 25
    assert a["content_hash"] == b["content_hash"] != c["content_hash"]
    assert {r["kind"] for i in items for r in i["rules"]} == kinds  # stratified: every kind drawn
    assert all(i["system_prompt"] == "" and len(i["messages"]) == 1 for i in items)
    assert "limit 25, seed 1" in a["source"]


def test_ifeval_whole_file_has_every_prompt(shared_data):
    with Store(":memory:") as store:
        summary = freeze_ifeval(store, shared_data / "ifeval" / "input_data.jsonl")
    assert summary["name"] == "ifeval" and summary["items"] == 540


def test_a_missing_ifeval_file_says_to_pass_its_path(tmp_path, monkeypatch):
    monkeypatch.setenv("RNR_IFEVAL_INPUT", str(tmp_path / "nowhere.jsonl"))
    with Store(":memory:") as store:
        with pytest.raises(NotFound, match="nowhere.jsonl. Pass --ifeval-input PATH"):
            freeze_ifeval(store)


def test_demo_data_exists():
    assert (DATA / "demo_alpaca.jsonl").is_file()
