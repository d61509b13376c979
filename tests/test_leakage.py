"""Near-duplicate instructions across splits, found with the real all-MiniLM-L6-v2 embeddings, stored
once per text, and fixed by moving or dropping the held-out side."""

import json

import numpy as np
import pytest

from rnr_core import embeddings
from rnr_core.errors import RnrError
from rnr_core.export import export_preview, export_samples, split_placement
from rnr_core.export.leakage import Entry, best_matches, moved_groups
from rnr_core.rules import rule_record
from tests.conftest import ingest_questions

# ---- pure pair finding ---------------------------------------------------------------------------


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_chunked_matches_equal_the_full_matrix():
    rng = np.random.default_rng(0)
    queries, keys = unit(rng.normal(size=(300, 16))), unit(rng.normal(size=(500, 16)))
    keys[7] = queries[3]  # an exact duplicate
    full = queries @ keys.T
    found = best_matches(queries, [keys[:128], keys[128:333], keys[333:]], threshold=0.5, chunk=37)
    assert np.array_equal(found.index, full.argmax(axis=1))
    assert np.allclose(found.best, full.max(axis=1))
    assert np.array_equal(found.above, (full >= 0.5).sum(axis=1))
    assert found.index[3] == 7 and found.best[3] == pytest.approx(1.0)


def test_no_keys_match_nothing():
    found = best_matches(unit(np.ones((3, 4))), [], threshold=0.9)
    assert list(found.index) == [-1, -1, -1] and not found.above.any()


def test_moving_a_group_follows_the_texts_it_takes_into_train():
    """Entry 0 leaks; its group g1 also holds entry 1, whose text is close to entry 2 (group g2), and
    entry 3 shares entry 2's text through group g3: all of g1, g2 and g3 join train; g4 stays."""
    vectors = unit(np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0.05, 0], [0, 0, 0, 1]], dtype=float))
    entries = [
        Entry("test", "a", "a", {"g1"}),
        Entry("test", "b", "b", {"g1"}),
        Entry("test", "c", "c", {"g2", "g3"}),
        Entry("test", "d", "d", {"g4"}),
    ]
    assert moved_groups(entries, vectors, {0}, threshold=0.9) == {"g1", "g2", "g3"}
    assert moved_groups(entries, vectors, set(), threshold=0.9) == set()


# ---- through the store, with the real model --------------------------------------------------------

PLANTED = ("How do I bake sourdough bread at home?", "How can I bake sourdough bread at home?")
TOPICS = [
    "Explain how ocean tides work.",
    "List three industrial uses of copper.",
    "Write a haiku about a winter morning.",
    "What is the capital city of Peru?",
    "Summarize the plot of Shakespeare's Hamlet.",
    "Give advice for a first job interview.",
    "How do vaccines train the immune system?",
    "Translate 'good morning' into Spanish.",
    "Describe the water cycle for a child.",
    "Compare electric and petrol cars on cost.",
    "Suggest a name for a pet tortoise.",
    "Why is the sky blue during the day?",
    "Outline a weekly budget for a student.",
    "What causes earthquakes along fault lines?",
]


def add_prompt(store, i: int, instructions: list[str], category: str = "format") -> list[int]:
    """A system prompt with one passing sample per instruction."""
    rules = [rule_record(1, f"Rule {i}.", category)]
    pid = store.add_system_prompt("run", i, f"Role {i}", rules, f"You are assistant {i}.", "m", "t")
    ids = []
    for j, text in enumerate(instructions):
        sample = {
            "run_id": "run",
            "item_key": f"{i}.{j}",
            "system_prompt_id": pid,
            "kind": "plain",
            "messages": [{"role": "user", "content": text}],
            "response": f"Answer {i}.{j}",
            "model": "m",
            "template": "t",
            "params": {},
            "seed": 0,
        }
        ids.append(store.add_sample(sample))
        store.add_verdicts(ids[-1], "checker", [{"rule_id": "r1", "verdict": "pass"}])
    return ids


@pytest.fixture
def planted(store, tmp_path):
    """Fourteen distinct prompts of one instruction each, and two prompts holding a near-duplicate pair
    (prompt 100 also has a second instruction); returns the seed that puts the pair on two sides."""
    ingest_questions(store, tmp_path, 2, "d")
    store.create_run("run", store.dataset_id("d"), "m", {})
    for i, text in enumerate(TOPICS):
        add_prompt(store, i, [text])
    add_prompt(store, 100, [PLANTED[0], "Name the planets of the solar system."])
    add_prompt(store, 101, [PLANTED[1]])
    for seed in range(50):
        place = split_placement(store, test_fraction=0.25, seed=seed)
        sides = {place("You are assistant 100."), place("You are assistant 101.")}
        if sides == {"train", "test"}:
            return store, seed, place("You are assistant 100.")
    raise AssertionError("no seed splits the planted pair")


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def users(path) -> list[str]:
    return [embeddings.instruction(r["messages"][1:-1]) for r in lines(path)]


def cross_similarity(out) -> float:
    """The highest cosine between an instruction in train and one in test, embedded afresh."""
    train, test = embeddings.encode(users(out / "train.jsonl")), embeddings.encode(users(out / "test.jsonl"))
    return float((test @ train.T).max())


def test_a_planted_near_duplicate_is_reported_and_move_or_drop_fixes_it(planted, tmp_path):
    store, seed, side_of_100 = planted
    held_out = PLANTED[1] if side_of_100 == "train" else PLANTED[0]
    settings = {"test_fraction": 0.25, "seed": seed}
    report = export_samples(store, tmp_path / "report", **settings)
    leak = report["leakage"]
    assert leak["checked"] and leak["model"] == "all-MiniLM-L6-v2" and leak["threshold"] == 0.9
    assert (leak["texts"], leak["samples"], leak["by_splits"]) == (1, 1, {"test~train": 1})
    (pair,) = leak["examples"]
    assert {pair["text"], pair["other_text"]} == set(PLANTED) and pair["text"] == held_out
    assert pair["similarity"] >= 0.9 and cross_similarity(tmp_path / "report") >= 0.9
    assert export_preview(store, **settings)["leakage"] == leak
    card = (tmp_path / "report" / "README.md").read_text()
    assert "1 held-out instructions (1 samples) have a near duplicate" in card and "sourdough" in card

    moved = export_samples(store, tmp_path / "move", **settings, leakage_action="move")
    held_group = 2 if held_out == PLANTED[0] else 1  # prompt 100 has two samples, 101 one
    assert moved["leakage"]["moved_groups"] == 1 and moved["leakage"]["moved_samples"] == held_group
    assert moved["counts"]["train"] == report["counts"]["train"] + held_group
    assert set(PLANTED) <= set(users(tmp_path / "move" / "train.jsonl"))
    assert cross_similarity(tmp_path / "move") < 0.9

    dropped = export_samples(store, tmp_path / "drop", **settings, leakage_action="drop")
    assert dropped["leakage"]["dropped_samples"] == 1 and dropped["dropped"] == 1
    assert dropped["counts"]["test"] == report["counts"]["test"] - 1
    assert held_out not in users(tmp_path / "drop" / "test.jsonl")
    assert cross_similarity(tmp_path / "drop") < 0.9
    for action, manifest in (("move", moved), ("drop", dropped)):
        preview = export_preview(store, **settings, leakage_action=action)
        assert preview["counts"] == manifest["counts"] and preview["prompts"] == manifest["prompts"]


def test_a_higher_threshold_or_no_check_reports_nothing(planted, tmp_path):
    store, seed, _ = planted
    strict = export_preview(store, test_fraction=0.25, seed=seed, leakage_threshold=0.999)
    assert strict["leakage"]["checked"] and strict["leakage"]["texts"] == 0
    off = export_preview(store, test_fraction=0.25, seed=seed, leakage_threshold=None)
    assert off["leakage"]["checked"] is False and off["leakage"]["reason"] == "turned off"
    train_only = export_preview(store, test_fraction=0.0, seed=seed)
    assert train_only["leakage"]["checked"] is False
    with pytest.raises(RnrError, match="Unknown leakage action 'fix'"):
        export_preview(store, leakage_action="fix")
    with pytest.raises(RnrError, match="cosine similarity above 0 and at most 1"):
        export_preview(store, leakage_threshold=1.5)
    with pytest.raises(RnrError, match="cannot be moved without the near-duplicate check"):
        export_preview(store, leakage_threshold=None, leakage_action="move")


def test_each_instruction_is_embedded_once_and_stored(planted, tmp_path):
    store, seed, _ = planted
    distinct = len(TOPICS) + 3
    before, calls = embeddings.ENCODED["texts"], []
    progress = lambda done, total: calls.append((done, total))  # noqa: E731
    export_samples(store, tmp_path / "one", test_fraction=0.25, seed=seed, embedding_progress=progress)
    assert calls[0] == (0, distinct) and calls[-1] == (distinct, distinct)
    assert store.embedding_count(embeddings.MODEL) == distinct
    assert embeddings.ENCODED["texts"] - before == distinct
    # Another export, preview and seed: every vector is read back, none computed again.
    export_samples(store, tmp_path / "two", test_fraction=0.5, seed=seed + 1, leakage_action="move")
    export_preview(store, ratios={"train": 0.5, "validation": 0.25, "test": 0.25})
    assert embeddings.ENCODED["texts"] - before == distinct
    assert store.embedding_count() == distinct
    # A new instruction is the only text embedded next time.
    add_prompt(store, 200, ["Plan a three-day trip to Lisbon.", TOPICS[0]])
    export_preview(store, test_fraction=0.25, seed=seed)
    assert embeddings.ENCODED["texts"] - before == distinct + 1 == store.embedding_count()
    stored = store.embeddings_of(embeddings.MODEL, [embeddings.text_hash(TOPICS[0])])
    fresh = embeddings.encode([TOPICS[0]])[0]
    assert float(stored[embeddings.text_hash(TOPICS[0])] @ fresh) == pytest.approx(1.0, abs=1e-5)


def test_the_store_hashes_instructions_as_python_does(store, tmp_path):
    ingest_questions(store, tmp_path, 2, "d")
    store.create_run("run", store.dataset_id("d"), "m", {})
    turns = [
        {"role": "user", "content": "Première question ✓ 😀"},
        {"role": "assistant", "content": "Réponse"},
        {"role": "user", "content": "Second line\nwith a break\u2028"},
    ]
    rules = [rule_record(1, "Rule.", "format")]
    pid = store.add_system_prompt("run", 0, "Role", rules, "Système ✓", "m", "t")
    sample = {"run_id": "run", "item_key": "0", "system_prompt_id": pid, "kind": "plain", "messages": turns}
    sample |= {"response": "R", "model": "m", "template": "t", "params": {}, "seed": 0}
    store.add_sample(sample)
    selection = {"statuses": ["pending"], "run_id": None, "dataset": None, "categories": None}
    total, batches = store.texts_to_embed(selection, True, embeddings.MODEL)
    (chunk,) = batches
    text = embeddings.instruction(turns)
    assert total == 1
    assert chunk == [(embeddings.text_hash(text), text)]
    assert text == "Première question ✓ 😀\nSecond line\nwith a break\u2028"
    (row,) = [r for b in store.selected_batches(["pending"]) for r in b]
    assert row["group_key"] == embeddings.text_hash("Système ✓")
