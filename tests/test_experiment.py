"""The RNR experiment: its config's errors, a held-out benchmark that training never saw (instructions,
prompts, settings, wording), the bleed detector, and a tiny loop end to end on the embedded model."""

import asyncio
import json
import random
import re
from pathlib import Path

import pytest

from rnr_core.errors import RnrError, SettingError
from rnr_core.experiment import bleed, heldout, pools, samples, sources, wording
from rnr_core.experiment.config import load, validate
from rnr_core.experiment.loop import run_loop
from rnr_core.experiment.report import SECTIONS
from rnr_core.rules.base import KINDS, build
from tests.conftest import home_with_cache

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo_alpaca.jsonl"
KINDS_USED = [
    "change_case:english_lowercase",
    "startend:quotation",
    "startend:end_checker",
    "detectable_format:title",
    "keywords:existence",
    "punctuation:no_comma",
    "detectable_content:postscript",
]


def raw(**changes) -> dict:
    """A valid parsed config; `changes` maps 'section.key' to a value (None deletes the key)."""
    cfg = {
        "run": {"out": "out"},
        "data": {
            "files": [str(DEMO)],
            "samples": 8,
            "ratios": {"train": 0.6, "dev": 0.0, "heldout": 0.4},
            "kinds": list(KINDS_USED),
            "max_words": 40,
        },
        "benchmark": {"items": 6, "bleed": 3, "max_tokens": 16, "batch_size": 8},
        "train": {"max_steps": 2, "batch_size": 2, "max_length": 192},
        "ifeval": {"limit": 0},
    }
    for dotted, value in changes.items():
        section, key = dotted.split(".")
        if value is None:
            cfg[section].pop(key)
        else:
            cfg.setdefault(section, {})[key] = value
    return cfg


# ---- configuration -----------------------------------------------------------------------------


def test_a_valid_config_fills_defaults_and_resolves_paths_from_its_folder(tmp_path):
    path = tmp_path / "loop.toml"
    path.write_text(
        '[run]\nout = "results"\n[data]\nfiles = ["d.jsonl"]\nsamples = 4\nkinds = ["startend:quotation"]\n'
        "ratios = {train = 0.5, dev = 0.25, heldout = 0.25}\n[train]\nmax_steps = 3\n"
    )
    cfg = load(path)
    assert cfg.out == tmp_path / "results"
    assert cfg.data["files"] == [str(tmp_path / "d.jsonl")]
    assert cfg.data["source"] == "recycled" and cfg.train["base"] == "local"
    assert cfg.benchmark["split"] == "heldout" and cfg.benchmark["items"] == 200


@pytest.mark.parametrize(
    "changes, named",
    [
        ({"train.max_steps": None}, r"\[train\] max_steps is missing"),
        ({"data.ratios": None}, r"\[data\] ratios is missing"),
        ({"train.epochs": 3}, r"\[train\] epochs: unknown key; \[train\] takes base, max_steps"),
        ({"benchmark.items": 0}, r"\[benchmark\] items must be an integer of at least 1, got 0"),
        ({"train.learning_rate": "fast"}, r"\[train\] learning_rate must be a number"),
        ({"data.ratios": {"train": 0.5, "dev": 0.1, "heldout": 0.3}}, r"ratios must sum to 1, got 0.9"),
        ({"data.ratios": {"train": 0.5, "heldout": 0.5}}, r"ratios must give exactly train, dev, heldout"),
        ({"data.ratios": {"train": 1.0, "dev": 0.0, "heldout": 0.0}}, r"ratios.train must be a number"),
        (
            {"data.ratios": {"train": 0.7, "dev": 0.3, "heldout": 0.0}},
            r"train and heldout must both be above 0",
        ),
        ({"data.source": "scraped"}, r"\[data\] source must be one of recycled"),
        (
            {"data.kinds": ["keywords:frequency"]},
            r"'keywords:frequency' is not a kind the experiment can word",
        ),
        ({"data.rules_min": 3, "data.rules_max": 2}, r"rules_min \(3\) is above rules_max"),
        ({"benchmark.split": "test"}, r"\[benchmark\] split must be 'heldout'"),
        ({"data.plain": 1.0}, r"\[data\] plain must be a share from 0 to below 1"),
    ],
)
def test_a_bad_config_names_the_key(changes, named):
    with pytest.raises(SettingError, match=named):
        validate(raw(**changes), "loop.toml")


def test_an_unknown_section_and_a_bad_file_are_named(tmp_path):
    with pytest.raises(SettingError, match=r"loop.toml: unknown section \[eval\]"):
        validate({**raw(), "eval": {}}, "loop.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\nout=1")
    with pytest.raises(SettingError, match="bad.toml: not valid TOML"):
        load(bad)
    with pytest.raises(SettingError, match="Cannot read the experiment config"):
        load(tmp_path / "missing.toml")


def test_recycling_needs_a_fixer_for_every_kind():
    kind = "detectable_format:number_highlighted_sections"
    with pytest.raises(SettingError, match=f"{kind}' has no mechanical fixer"):
        validate(raw(**{"data.kinds": [kind]}), "loop.toml")
    validate(raw(**{"data.kinds": [kind], "data.source": "self"}), "loop.toml")  # a model can follow it


# ---- held out: instructions, system prompts, settings and wording ------------------------------


def _Cfg(**changes):
    """The settings the builders read, as the loop hands them over."""
    from rnr_core.experiment.loop import _Data

    return _Data(validate(raw(**changes), "loop.toml"))


def _built(records: list[dict], samples_n: int = 24, items: int = 16, **changes):
    cfg = _Cfg(**{"data.samples": samples_n, "benchmark.items": items, **changes})
    groups = sources.split(records, items, 0, 0)
    rows, stats = asyncio.run(samples.SOURCES["recycled"](groups["train"], cfg))
    return groups, rows, heldout.benchmark_lines(groups["heldout"], cfg), stats


def test_the_held_out_benchmark_shares_nothing_with_training():
    groups, rows, bench, stats = _built(sources.load([str(DEMO)]))
    assert rows and len(bench) == 16 and stats["kept"] == len(rows)
    assert heldout.leaks(rows, bench) == {
        "instruction": [],
        "system_prompt": [],
        "setting": [],
        "wording": [],
    }
    train_instructions = {r["instruction"] for r in rows}
    assert not train_instructions & {line["messages"][1]["content"] for line in bench}
    assert not {r["instruction"] for r in groups["heldout"]} & {r["instruction"] for r in groups["train"]}
    train_texts = {rule["text"] for r in rows for rule in r["rules"]}
    assert not train_texts & {rule["text"] for line in bench for rule in line["rules"]}


def test_every_training_row_passes_its_rules_and_its_control_has_none():
    from rnr_core.rules.sampling import check_rules

    _, rows, _, _ = _built(sources.load([str(DEMO)]))
    for row in rows:
        response = row["messages"][2]["content"]
        assert all(check_rules(row["rules"], response).values())
        system, original = row["control"][0]["content"], row["control"][2]["content"]
        assert "Rules:" not in system and row["messages"][0]["content"].startswith(system)
        assert row["control"][1] == row["messages"][1]
        assert original.strip() and (original == response or row["provenance"]["fixes"])


def test_a_plain_share_of_rows_has_the_role_alone_and_the_unedited_answer():
    _, rows, _, _ = _built(sources.load([str(DEMO)]), **{"data.plain": 0.5})
    plain = [row for row in rows if not row["rules"]]
    assert 0 < len(plain) < len(rows)
    for row in plain:
        assert row["messages"][0]["content"] in pools.ROLES["train"]
        assert row["messages"] == row["control"]  # the control twin of a rule-free row is itself
        assert not row["provenance"]["fixes"]


def test_a_planted_leak_is_caught():
    _, rows, bench, _ = _built(sources.load([str(DEMO)]))
    leaked = [{"messages": rows[0]["messages"][:2], "rules": rows[0]["rules"]}, *bench]
    found = heldout.leaks(rows, leaked)
    assert found["instruction"] == [rows[0]["instruction"]] and found["system_prompt"]
    with pytest.raises(RnrError, match="leaks into training"):
        heldout.assert_disjoint(rows, leaked)


def test_end_phrases_keywords_and_roles_come_from_disjoint_pools():
    halves = pools.words(0)
    assert halves["train"] and not set(halves["train"]) & set(halves["heldout"])
    assert not set(pools.ROLES["train"]) & set(pools.ROLES["heldout"])
    rng = random.Random(0)
    train = {pools.end_phrase(rng, "train") for _ in range(300)}
    held = {pools.end_phrase(rng, "heldout") for _ in range(300)}
    assert len(train) > 250, "each training row gets a fresh end phrase"
    assert not train & held and not any("," in p for p in train | held)
    words_of = {w.lower().strip(".!") for p in held for w in p.split()}
    assert not words_of & set(halves["train"])


@pytest.mark.parametrize("kind", sorted(wording.WORDINGS))
def test_held_out_wordings_differ_from_every_training_wording(kind):
    rng = random.Random(1)
    rule = build(kind, KINDS[kind].sample(rng) or None)
    train = {wording.word(rule, "train", random.Random(i)) for i in range(20)}
    held = {wording.word(rule, "heldout", random.Random(i)) for i in range(20)}
    assert rule.render() in train and len(held) >= 2
    assert not train & held


# ---- bleed ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, formats",
    [
        ("Paris is the capital of France. It sits on the Seine.", []),
        ("paris is the capital of france and it sits on the seine.", ["lowercase"]),
        ("PARIS IS THE CAPITAL OF FRANCE AND IT SITS ON THE SEINE.", ["uppercase"]),
        ('"Paris is the capital of France."', ["quotation"]),
        ("<<Capitals>>\n\nParis is the capital of France.", ["title"]),
        ("Paris is the capital.\n\nP.S. It is lovely in spring.", ["postscript"]),
        ("Paris is the capital.\n\nP.P.S It is lovely.", ["postscript_pps"]),
        ("Paris is the capital. Thanks for asking about rain.", ["end_phrase"]),
    ],
)
def test_the_bleed_detector_finds_rule_formats(answer, formats):
    assert bleed.formats_in(answer, ["Thanks for asking about rain."]) == formats


def test_bleed_is_the_share_of_answers_with_any_format():
    result = bleed.bleed(["Plain answer here.", '"quoted"', None, "all lower case words here."])
    assert result["answers"] == 3 and result["showing"] == 2
    assert result["rate"] == pytest.approx(2 / 3)
    assert result["by_format"] == {"quotation": 1, "lowercase": 1}


# ---- end to end ----------------------------------------------------------------------------------


@pytest.fixture
def tiny_home(tmp_path, monkeypatch, gguf_path, models_cache):
    """An RNR_HOME whose model cache already holds the dequantised embedded model."""
    monkeypatch.setenv("RNR_HOME", str(tmp_path / "home"))
    return home_with_cache(tmp_path / "home", models_cache, gguf_path)


@pytest.mark.slow
def test_a_tiny_loop_runs_end_to_end_and_resumes(tmp_path, tiny_home):
    from rnr_core.evaluate.report import eval_report
    from rnr_core.store import Store

    config = tmp_path / "loop.toml"
    config.write_text(
        f'[run]\nout = "out"\nname = "tiny"\n[data]\nfiles = ["{DEMO}"]\nsamples = 6\nmax_words = 30\n'
        'kinds = ["change_case:english_lowercase", "startend:quotation", "startend:end_checker"]\n'
        "ratios = {train = 0.6, dev = 0.0, heldout = 0.4}\n"
        "[benchmark]\nitems = 4\nbleed = 2\nmax_tokens = 16\nbatch_size = 8\n"
        "[train]\nmax_steps = 2\nbatch_size = 2\nmax_length = 160\n[ifeval]\nlimit = 0\n"
    )
    said: list[str] = []
    with Store(str(tmp_path / "rnr.duckdb")) as store:
        result = asyncio.run(run_loop(store, load(config), say=said.append))
        out = tmp_path / "out"
        text = (out / "report.md").read_text()
        assert all(title in text for title in SECTIONS)
        assert json.loads((out / "chart.json").read_text())["data"] and (out / "chart.html").is_file()
        bench = result["benchmark"]["benchmark"]
        for label in ("base", "tuned", "control"):
            spec = result["specs"][label]
            stored = eval_report(store, bench, spec, judge=None)["pass_rate"]
            assert result["evals"][label]["pass_rate"] == stored and stored["n"] == 4
            assert f"`{spec}` | {100 * stored['rate']:.1f}%" in text
        assert {d["model_a"] for d in result["differences"]} == {"tuned", "control"}
        assert set(result["bleed"]) == {"base", "tuned", "control"}
        assert re.search(r"\| train_tuned \| \d+ \|", text)
        said.clear()
        again = asyncio.run(run_loop(store, load(config), say=said.append))
    assert again["evals"] == result["evals"]
    assert not [m for m in said if m.endswith(": running")], "a rerun skips every finished step"


def test_a_step_made_with_other_settings_runs_again(tmp_path):
    from rnr_core.experiment.steps import Steps

    said, runs = [], []

    async def work():
        runs.append(1)
        return {"made": len(runs)}

    steps = Steps(tmp_path, said.append)
    first = asyncio.run(steps.run("eval", work, {"max_tokens": 160}))
    again = asyncio.run(Steps(tmp_path, said.append).run("eval", work, {"max_tokens": 160}))
    changed = asyncio.run(Steps(tmp_path, said.append).run("eval", work, {"max_tokens": 320}))
    assert (first, again, changed) == ({"made": 1}, {"made": 1}, {"made": 2})
    assert "eval: its settings changed, running again" in said


def test_the_cli_refuses_a_bad_config_before_it_opens_the_store(tmp_path, capsys):
    from rnr_core.cli import main

    config = tmp_path / "loop.toml"
    config.write_text('[run]\nout = "o"\n[data]\nfiles = ["a"]\nsamples = 1\nkinds = ["startend:quotation"]')
    db = tmp_path / "rnr.duckdb"
    assert main(["experiment", "loop", "--config", str(config), "--db", str(db)]) == 2
    assert "[data] ratios is missing" in capsys.readouterr().err
    assert not db.exists() and not (tmp_path / "o").exists()


def test_the_cli_takes_out_from_the_working_directory(tmp_path, monkeypatch, capsys):
    from rnr_core.cli import main

    conf, cwd = tmp_path / "conf", tmp_path / "cwd"
    conf.mkdir(), cwd.mkdir()
    (conf / "one.jsonl").write_text(json.dumps({"instruction": "Hi?", "output": "Hello."}) + "\n")
    (conf / "loop.toml").write_text(
        '[run]\nout = "o"\n[data]\nfiles = ["one.jsonl"]\nsamples = 1\nkinds = ["startend:quotation"]\n'
        "ratios = {train = 0.6, dev = 0.0, heldout = 0.4}\n[train]\nmax_steps = 1\n"
    )
    monkeypatch.chdir(cwd)
    args = ["experiment", "loop", "--config", str(conf / "loop.toml"), "--out", "runs/x"]
    assert main([*args, "--db", str(tmp_path / "rnr.duckdb")]) != 0
    assert "Only 1 instructions" in capsys.readouterr().err  # it got as far as splitting, in runs/x
    assert (cwd / "runs" / "x" / "settings.json").exists() and not (conf / "runs").exists()


def _quote_rules_cfg(source: str, **changes):
    cfg = _Cfg(**{"data.source": source, "data.kinds": ["startend:quotation"], "data.samples": 2, **changes})
    cfg.data = {**cfg.data, "teacher": "scripted", "attempts": 2, "revisions": 1}
    return cfg


def test_self_distilled_rows_keep_the_first_answer_that_passes(scripted):
    records = sources.load([str(DEMO)])[:3]
    model = scripted(["No quotes here.", '"Quoted."', "Still none.", "Nope.", '"First try."'])
    rows, stats = asyncio.run(samples.SOURCES["self"](records, _quote_rules_cfg("self")))
    assert [r["messages"][2]["content"] for r in rows] == ['"Quoted."', '"First try."']
    assert stats == {"tried": 3, "kept": 2, "revised": 0}
    assert len(model.requests) == 5 and all(p.temperature == 0.8 for _, p in model.requests)


def test_revision_sends_the_failed_rules_back(scripted):
    records = sources.load([str(DEMO)])[:1]
    model = scripted(["No quotes.", "Still none.", '"Revised."'])
    rows, stats = asyncio.run(samples.SOURCES["revised"](records, _quote_rules_cfg("revised")))
    assert rows[0]["messages"][2]["content"] == '"Revised."' and rows[0]["provenance"]["revisions"] == 1
    revision = model.requests[-1][0][-1]["content"]
    assert rows[0]["rules"][0]["text"] in revision and "Still none." in revision
