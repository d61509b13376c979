"""Curated splits: ratios checked, system-prompt groups kept whole, rule categories stratified, seeded."""

import json
import random
import subprocess
import sys
from collections import Counter

import pytest

from rnr_core.errors import RnrError
from rnr_core.export import export_preview, export_samples, parse_ratios
from rnr_core.export.splits import assign_groups, check_ratios, resolve_ratios
from rnr_core.rules import rule_record
from rnr_core.store import Store
from tests.conftest import ROOT, ingest_questions

THREE = {"train": 0.8, "validation": 0.1, "test": 0.1}

BAD_RATIOS = [
    ({"train": 0.8, "test": 0.3}, r"must add up to 1, but train=0\.8, test=0\.3 add up to 1\.1"),
    (
        {"train": 0.5, "validation": 0.1, "test": 0.1},
        r"train=0\.5, validation=0\.1, test=0\.1 add up to 0\.7",
    ),
    ({"train": 0.9, "dev": 0.1}, r"Unknown split 'dev'"),
    ({"validation": 0.5, "test": 0.5}, r"Give ratios for train and one or two"),
    ({"train": 1.0}, r"Give ratios for train and one or two"),
    ({"train": 1.2, "test": -0.2}, r"from 0 to 1; train=1\.2, test=-0\.2"),
    ({"train": 0.0, "test": 1.0}, r"train split needs a ratio above 0"),
]


@pytest.mark.parametrize(("ratios", "message"), BAD_RATIOS)
def test_bad_ratios_are_refused_naming_them(ratios, message):
    with pytest.raises(RnrError, match=message):
        check_ratios(ratios)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("train=0.8,validation=0.1,test=0.1", THREE),
        (" test=0.25 , train=0.75 ", {"train": 0.75, "test": 0.25}),  # put in split order
        ("train=0.7,validation=0.3", {"train": 0.7, "validation": 0.3}),
    ],
)
def test_ratios_parse_from_the_command_line_form(text, expected):
    got = parse_ratios(text)
    assert got == expected and list(got) == [s for s in ("train", "validation", "test") if s in got]


@pytest.mark.parametrize("text", ["train:0.8,test:0.2", "train=x,test=0.2", "train=0.8,test"])
def test_unreadable_ratios_name_the_part(text):
    with pytest.raises(RnrError, match="Cannot read .* write NAME=NUMBER"):
        parse_ratios(text)


def test_test_fraction_is_shorthand_and_not_both():
    assert resolve_ratios(None, None) == {"train": 0.9, "test": 0.1}
    assert resolve_ratios(None, 0.25) == {"train": 0.75, "test": 0.25}
    with pytest.raises(RnrError, match="not both"):
        resolve_ratios(THREE, 0.2)
    with pytest.raises(RnrError, match="test-fraction must be at least 0 and below 1"):
        resolve_ratios(None, 1.0)


def synthetic_groups(n: int, seed: int = 1) -> list[tuple]:
    """Groups of 1 to 6 samples; a fifth of them have a safety rule, the rest format or style."""
    rng = random.Random(seed)
    cats = [["safety"]] * 2 + [["format"]] * 4 + [["style", "format"]] * 4
    return [(f"prompt-{i}", rng.choice(cats), rng.randint(1, 6)) for i in range(n)]


def shares(groups, placed) -> dict:
    counts = Counter()
    for key, _, n in groups:
        counts[placed[key]] += n
    total = sum(counts.values())
    return {s: counts[s] / total for s in counts}


def test_every_group_goes_whole_to_one_split_close_to_the_ratios():
    groups = synthetic_groups(600)
    placed = assign_groups(groups, THREE, seed=0, stratify=True)
    assert set(placed) == {g[0] for g in groups} and set(placed.values()) == set(THREE)
    for split, share in shares(groups, placed).items():
        assert abs(share - THREE[split]) < 0.01


def test_the_same_groups_in_any_order_land_in_the_same_splits_and_the_seed_changes_them():
    groups = synthetic_groups(200)
    placed = assign_groups(groups, THREE, seed=5, stratify=True)
    shuffled = random.Random(2).sample(groups, len(groups))
    assert assign_groups(shuffled, THREE, seed=5, stratify=True) == placed
    assert assign_groups(groups, THREE, seed=6, stratify=True) != placed


def stratum_error(groups, placed, ratios) -> float:
    """The largest gap between a split's share and its ratio within one category stratum."""
    worst = 0.0
    for stratum in {tuple(g[1]) for g in groups}:
        members = [g for g in groups if tuple(g[1]) == stratum]
        got = shares(members, placed)
        worst = max(worst, *(abs(got.get(s, 0) - r) for s, r in ratios.items()))
    return worst


def test_stratified_splits_keep_each_rule_category_close_to_the_ratios():
    ratios = {"train": 0.8, "test": 0.2}
    worst = {True: [], False: []}
    for seed in range(8):
        groups = synthetic_groups(150, seed)
        for stratify in (True, False):
            placed = assign_groups(groups, ratios, seed, stratify)
            worst[stratify].append(stratum_error(groups, placed, ratios))
    # Every stratum (30 groups at least) within a few points, always; seeded order alone strays further.
    assert max(worst[True]) < 0.06
    assert sum(worst[True]) < sum(worst[False]) / 2


def small_stratum_groups() -> list[tuple]:
    """Twenty groups: two of a rare category, so it cannot have one on every side."""
    return [(f"g{i}", ["rare"] if i < 2 else ["common"], 1) for i in range(20)]


def test_a_stratum_too_small_to_split_still_leaves_the_totals_at_the_ratios():
    groups = small_stratum_groups()
    placed = assign_groups(groups, {"train": 0.5, "test": 0.5}, seed=0, stratify=True)
    assert Counter(placed.values()) == {"train": 10, "test": 10}


# ---- through the store: files, manifest, preview ------------------------------------------------

CATS = ("format", "safety", "style", "length")


def category_store(store, tmp_path, prompts: int = 80, k: int = 3) -> None:
    """`prompts` system prompts with `k` passing samples each; prompt i's rule has category i % 4."""
    ingest_questions(store, tmp_path, 2, "d")
    store.create_run("run", store.dataset_id("d"), "m", {})
    for i in range(prompts):
        rules = [rule_record(1, f"Rule of prompt {i}.", CATS[i % len(CATS)])]
        pid = store.add_system_prompt(
            "run", i, f"Role {i}", rules, f"You are helper {i}. Rule {i}.", "m", "t"
        )
        for j in range(k):
            sample_id = store.add_sample(
                {
                    "run_id": "run",
                    "item_key": f"{i}.{j}",
                    "system_prompt_id": pid,
                    "kind": "plain",
                    "messages": [{"role": "user", "content": f"Question {i}.{j}"}],
                    "response": f"Answer {i}.{j}",
                    "model": "m",
                    "template": "t",
                    "params": {},
                    "seed": 0,
                }
            )
            store.add_verdicts(sample_id, "checker", [{"rule_id": "r1", "verdict": "pass"}])


def split_prompts(out, splits) -> dict[str, list[str]]:
    found = {}
    for split in splits:
        rows = [json.loads(line) for line in (out / f"{split}.jsonl").read_text().splitlines()]
        found[split] = [r["messages"][0]["content"] for r in rows]
    return found


def test_a_three_way_export_is_grouped_stratified_and_recorded(store, tmp_path):
    category_store(store, tmp_path)
    settings = {"ratios": THREE, "seed": 4, "leakage_threshold": None}
    preview = export_preview(store, **settings)
    manifest = export_samples(store, tmp_path / "out", **settings)
    prompts = split_prompts(tmp_path / "out", THREE)
    assert {s: len(p) for s, p in prompts.items()} == manifest["counts"] == preview["counts"]
    assert manifest["counts"] == {"train": 192, "validation": 24, "test": 24}  # 80 prompts x 3: exact
    for a, b in (("train", "validation"), ("train", "test"), ("validation", "test")):
        assert not set(prompts[a]) & set(prompts[b])  # no system prompt on two sides
    # Stratified: each category's 20 prompts split 16 / 2 / 2.
    assert manifest["by_category"] == preview["by_category"]
    for split, ratio in THREE.items():
        assert manifest["by_category"][split] == dict.fromkeys(CATS, round(60 * ratio))
    assert manifest["ratios"] == THREE and manifest["stratify"] is True and manifest["seed"] == 4
    assert manifest["split_files"] == {s: f"{s}.jsonl" for s in THREE}
    saved = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert saved["ratios"] == THREE and saved["test_fraction"] == 0.1
    assert saved["prompts"] == preview["prompts"] == {"train": 64, "validation": 8, "test": 8}


def test_stratification_is_what_keeps_each_category_exact(store, tmp_path):
    category_store(store, tmp_path)
    exact = {split: dict.fromkeys(CATS, round(60 * ratio)) for split, ratio in THREE.items()}
    found = {True: [], False: []}
    for seed in range(4):
        for stratify in (True, False):
            preview = export_preview(
                store, ratios=THREE, seed=seed, stratify=stratify, leakage_threshold=None
            )
            assert preview["stratify"] is stratify and sum(preview["counts"].values()) == 240
            found[stratify].append(preview["by_category"] == exact)
    assert all(found[True]) and not all(found[False])


def test_ratio_errors_write_nothing(store, tmp_path):
    category_store(store, tmp_path, prompts=4)
    with pytest.raises(RnrError, match=r"train=0\.8, test=0\.3 add up to 1\.1"):
        export_samples(store, tmp_path / "out", ratios={"train": 0.8, "test": 0.3})
    with pytest.raises(RnrError, match="not both"):
        export_preview(store, ratios=THREE, test_fraction=0.2)
    assert not (tmp_path / "out").exists()


def cli_export(db, out, *args):
    argv = [sys.executable, "-m", "rnr_core.cli", "export", "--db", str(db), "--out", str(out), *args]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)


def test_cli_ratios_and_their_errors(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store(str(db)) as store:
        category_store(store, tmp_path, prompts=20, k=1)
    bad = cli_export(db, tmp_path / "bad", "--ratios", "train=0.8,validation=0.1,test=0.2")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "train=0.8, validation=0.1, test=0.2 add up to 1.1" in bad.stderr
    both = cli_export(db, tmp_path / "bad", "--ratios", "train=0.8,test=0.2", "--test-fraction", "0.2")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    assert not (tmp_path / "bad").exists()
    ok = cli_export(
        db, tmp_path / "ok", "--ratios", "train=0.6,validation=0.2,test=0.2", "--no-leakage-check"
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("wrote 12 train, 4 validation, 4 test samples to")
    manifest = json.loads((tmp_path / "ok" / "manifest.json").read_text())
    assert manifest["ratios"] == {"train": 0.6, "validation": 0.2, "test": 0.2}
    assert manifest["leakage"] == {
        "checked": False,
        "reason": "turned off",
        "threshold": None,
        "action": "report",
    }
