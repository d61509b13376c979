"""The Export page's split, leakage, format and negatives controls through AppTest: what the page shows is
what the core's preview and export report, a bad ratio is the core's message, and the dataset card and
negatives come out with the other files."""

import json

import pytest

from rnr_app import state
from rnr_core.export import export_preview
from rnr_core.store import Store
from tests.app_data import add_sample, seed
from tests.apptest import open_page, plain, texts

PAGE = "pages/export.py"
CAFE = "Where is the cafe? <b>now</b>"  # four system prompts ask it: near-duplicates across splits
TEXTS = [CAFE] * 4 + [
    "How old is the oldest vase?",
    "Who painted the blue horse?",
    "When does the museum close?",
    "Can I take photos inside?",
    "Is there a cloakroom?",
    "How much is a ticket for children?",
]
PASS = [("r1", "checker", "pass"), ("r2", "llm:scripted", "pass")]
RATIOS = {"train": 0.6, "validation": 0.2, "test": 0.2}
SHARES = {"export_train": 0.6, "export_val": 0.2, "export_test": 0.2}


@pytest.fixture
def museum(tmp_path, monkeypatch):
    """The seeded store plus a run of ten system prompts, one passing sample each, and one rejected."""
    import streamlit as st

    db = tmp_path / "app.duckdb"
    seed(db)
    with Store(str(db)) as store:
        store.create_run("run-museum", store.dataset_id("demo"), "scripted", {"dataset": "demo"})
        for i, text in enumerate(TEXTS):
            add_sample(store, "run-museum", i, text, f"Answer {i}.", PASS, role=f"You are museum guide {i}.")
        bad = add_sample(store, "run-museum", 10, "Say it loudly.", "NO.", PASS, role="You are a mime.")
        store.review([bad], "reject", "ada", reason="low_quality", note="rude")
    monkeypatch.setenv("RNR_DB", str(db))
    monkeypatch.setenv("RNR_HOME", str(tmp_path / "home"))
    st.cache_resource.clear()
    yield db
    state.close_all()


def page(**values):
    """The Export page of the museum run with the given widget values (key -> value)."""
    at = open_page(PAGE)
    at.selectbox(key="export_run").set_value("run-museum")
    for key, value in values.items():
        kinds = ("number_input", "checkbox", "selectbox")
        next(w for kind in kinds for w in getattr(at, kind) if w.key == key).set_value(value)
    at.run()
    return at


def press(at, label: str):
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict:
    return {m.label: int(m.value.replace(",", "")) for m in at.metric}


def test_the_preview_shows_counts_per_split_and_category_and_the_pairs_across_splits(museum):
    at = press(page(**SHARES), "Preview counts")
    core = export_preview(state.store(), run_id="run-museum", ratios=RATIOS)
    assert metrics(at) == {
        "Train": 6,
        "Validation": 2,
        "Test": 2,
        "Left out: failing": 0,
        "Left out: not judged": 0,
    }
    assert core["counts"] == {"train": 6, "validation": 2, "test": 2}
    by_category = at.dataframe[0].value.to_dict("records")
    assert by_category == [
        {"Rule category": c, **{s: core["by_category"][s][c] for s in RATIOS}} for c in ("language", "style")
    ]
    leak = core["leakage"]
    assert leak["texts"] >= 1  # the cafe question is on both sides
    said = f"{leak['texts']} held-out instruction" + ("s" if leak["texts"] > 1 else "")
    assert any(said in plain(w.value) for w in at.warning), [w.value for w in at.warning]
    pairs = at.dataframe[1].value.to_dict("records")
    assert [(p["Held out in"], p["Instruction"], p["Close to, in"], p["Its instruction"]) for p in pairs] == [
        (e["split"], e["text"], e["other_split"], e["other_text"]) for e in leak["examples"]
    ]
    assert pairs[0]["Instruction"] == CAFE  # as text: the markup is shown, not applied
    assert "Counted at" in texts(at)

    at.number_input(key="export_test").set_value(0.25).run()  # other settings: the counts go
    assert not at.metric and "Counted at" not in texts(at)


def test_ratios_that_do_not_add_up_show_the_cores_message_and_write_nothing(museum, tmp_path):
    at = press(page(export_train=0.8, export_val=0.1, export_test=0.2), "Preview counts")
    says = "Split ratios must add up to 1, but train=0.8, validation=0.1, test=0.2 add up to 1.1"
    assert says in plain(at.error[0].value) and not at.metric
    at.text_input(key="export_out").set_value(str(tmp_path / "out")).run()
    press(at, "Export")
    assert says in texts(at) and not (tmp_path / "out").exists()


def test_dropping_the_pairs_writes_the_card_and_the_negatives_with_the_files(museum, tmp_path):
    out = tmp_path / "out"
    at = page(**SHARES, export_leak_action="drop", export_negatives=True)
    at.text_input(key="export_out").set_value(str(out)).run()
    press(at, "Export")
    manifest = json.loads((out / "manifest.json").read_text())
    dropped = manifest["leakage"]["dropped_samples"]
    assert dropped >= 1 and manifest["counts"]["train"] == 6
    counts = manifest["counts"]
    said = f"Wrote 6 train, {counts['validation']} validation and {counts['test']} test samples to {out}."
    assert said in texts(at)
    assert f"Dropped {dropped} held-out sample" in texts(at)
    held_out = [json.loads(line) for split in ("validation", "test") for line in open(out / f"{split}.jsonl")]
    assert len(held_out) == 4 - dropped
    assert "negatives.jsonl holds 1 rejected sample." in texts(at)
    (negative,) = [json.loads(line) for line in open(out / "negatives.jsonl")]
    assert (negative["reject_reason"], negative["review_note"]) == ("low_quality", "rude")
    (card,) = [c.value for c in at.code]
    assert card == (out / "README.md").read_text().rstrip("\n")  # st.code drops the final newline
    assert [d.label for d in at.download_button] == [f"Download {name}" for name in manifest["files"]]
    assert set(manifest["files"]) == {
        "train.jsonl",
        "validation.jsonl",
        "test.jsonl",
        "negatives.jsonl",
        "README.md",
        "manifest.json",
    }


def test_a_format_from_the_registry_names_the_files(museum, tmp_path):
    out = tmp_path / "out"
    at = page(export_leak_check=False)
    at.selectbox(key="export_format").set_value("parquet")
    at.text_input(key="export_out").set_value(str(out)).run()
    press(at, "Export")
    assert "Near-duplicate check: not run (turned off)." in texts(at)
    assert [d.label for d in at.download_button] == [
        f"Download {n}" for n in ("train.parquet", "test.parquet", "README.md", "manifest.json")
    ]
