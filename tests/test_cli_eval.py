"""The evaluation commands end to end in process: benchmark, eval, compare, judge --calibrate."""

import asyncio
import json
import re

import pytest

from rnr_core.cli import main
from rnr_core.generate import execute_run, start_run
from rnr_core.ingest import ingest_file
from rnr_core.store import Store
from tests.test_ifeval import PROMPTS, RESPONSES, write_jsonl
from tests.test_judging import FIXED, config, judge_reply, scripted_attempts

CLEAN, COMMAS = "A fine answer with no commas at all.", "One, two, three."


def bench_file(path, items: int = 3):
    """A benchmark file: each item has a free-form rule and a checkable one (no commas)."""
    lines = [
        {
            "messages": [
                {"role": "system", "content": "You are a terse helper."},
                {"role": "user", "content": f"Question {i}?"},
            ],
            "rules": [
                {"id": "tone", "text": "Stay polite.", "category": "persona"},
                {"id": "commas", "text": "Use no commas.", "kind": "punctuation:no_comma"},
            ],
        }
        for i in range(items)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def reply(name: str, text: str) -> str:
    """The text of reply A or B in a pairwise judge request."""
    return re.search(rf"Reply {name}:\n<<<\n(.*?)\n>>>", text, re.S).group(1)


def judge(verdict: str = "pass"):
    """A judge for both kinds of request: per-rule verdicts, or the pairwise winner (no commas wins)."""

    def answer(messages, params):
        required = params.json_schema["required"]
        if required == ["winner", "reason"]:
            a, b = (reply(n, messages[-1]["content"]) for n in "AB")
            winner = "tie" if ("," in a) == ("," in b) else ("B" if "," in a else "A")
            return json.dumps({"winner": winner, "reason": "fewer commas"})
        return json.dumps({r: {"verdict": verdict, "rationale": "looked at it"} for r in required})

    return answer


def rnr(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path, capsys):
    """A store with the benchmark 'b1' frozen from a file."""
    path = str(tmp_path / "eval.duckdb")
    code, out, _ = rnr(
        capsys, "benchmark", "freeze", "b1", "--file", str(bench_file(tmp_path / "b.jsonl")), "--db", path
    )
    assert code == 0 and "froze b1: 3 items" in out
    return path


@pytest.mark.parametrize("name", ["benchmark", "eval", "compare"])
def test_new_commands_have_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: rnr {name}") and "--json" in out and "--db" in out


def test_freeze_and_list_round_trip(db, tmp_path, capsys):
    code, out, _ = rnr(capsys, "benchmark", "list", "--db", db)
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:3] == ["name", "items", "source"] and row.split()[:2] == ["b1", "3"]
    code, out, _ = rnr(capsys, "benchmark", "list", "--db", db, "--json")
    (listed,) = json.loads(out)
    assert listed["name"] == "b1" and listed["items"] == 3 and len(listed["content_hash"]) > 12
    # a frozen name is never reused: the core's message, exit 2
    code, _, err = rnr(capsys, "benchmark", "freeze", "b1", "--file", str(tmp_path / "b.jsonl"), "--db", db)
    assert code == 2 and "'b1' already exists" in err


def test_freeze_needs_a_name_and_names_a_bad_line(tmp_path, capsys):
    db = str(tmp_path / "x.duckdb")
    code, _, err = rnr(capsys, "benchmark", "freeze", "--file", "x.jsonl", "--db", db)
    assert code == 2 and "Name the new benchmark" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}], "rules": []}) + "\n")
    code, _, err = rnr(capsys, "benchmark", "freeze", "b", "--file", str(bad), "--db", db)
    assert code == 2 and f"{bad}:1" in err and "'rules'" in err
    code, out, _ = rnr(capsys, "benchmark", "list", "--db", db)
    assert code == 0 and "No benchmarks yet" in out


def test_eval_prints_a_table_and_json(db, scripted, capsys):
    scripted(lambda m, p: CLEAN, spec="clean")
    scripted(lambda m, p: COMMAS, spec="commas")
    scripted(judge("pass"), spec="judge")
    args = ["eval", "--benchmark", "b1", "--model", "clean", "--model", "commas", "--judge", "judge"]
    code, out, _ = rnr(capsys, *args, "--db", db)
    assert code == 0, out
    assert "benchmark b1: 3 items, LLM judge llm:judge" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith(("clean ", "commas "))}
    assert "1.00 [1.00, 1.00] (n=3)" in rows["clean"] and "0.00 [0.00, 0.00] (n=3)" in rows["commas"]
    assert "McNemar p" in out and "+1.00" in out and "0.250" in out  # 3 discordant items: p = 2 / 8
    assert "rules followed per category:" in out and "rules followed per rule kind:" in out
    # three checkable verdicts cannot measure the judge: the pass rate is marked as resting on it
    assert (
        "(n=3) ?" in rows["clean"] and "? pass rate rests on the free-form verdicts of a judge not yet" in out
    )
    assert "note: too few verifiable rules judged by both" in out
    code, out, _ = rnr(capsys, *args, "--db", db, "--json")  # answers and verdicts are stored: reused
    result = json.loads(out)
    assert code == 0 and set(result["reports"]) == {"clean", "commas"}
    assert result["reports"]["clean"]["pass_rate"]["rate"] == 1.0
    (diff,) = result["differences"]
    assert diff["a_only"] == 3 and diff["mcnemar_p"] == pytest.approx(0.25)


def test_eval_marks_an_untrusted_judge_and_counts_failed_items(db, tmp_path, scripted, capsys):
    path = bench_file(tmp_path / "b10.jsonl", items=10)
    assert rnr(capsys, "benchmark", "freeze", "b10", "--file", str(path), "--db", db)[0] == 0
    scripted(lambda m, p: CLEAN if int(m[-1]["content"][9:-1]) % 2 else COMMAS, spec="mixed")
    scripted(lambda m, p: "", spec="silent")  # an empty answer fails, twice, on every item
    scripted(judge("fail"), spec="contrarian")  # fails every comma rule: kappa 0 against the checker
    code, out, _ = rnr(capsys, "eval", "--benchmark", "b10", "--model", "mixed", "--model", "silent",
                       "--judge", "contrarian", "--db", db)  # fmt: skip
    assert code == 3, out  # as `rnr generate`: items are left that a rerun retries
    mixed = next(line for line in out.splitlines() if line.startswith("mixed "))
    assert "0.00 [0.00, 0.00] (n=10) *" in mixed and "0.50 [" in mixed  # verifiable only: half the items
    assert "* pass rate rests on an untrusted judge" in out
    assert "warning: This judge disagrees with code on checkable rules" in out
    assert re.search(r"warning: kappa below 0.6 in \w+: don't trust this judge", out)
    silent = next(line for line in out.splitlines() if line.startswith("silent "))
    assert silent.split()[1:3] == ["-", "-"] and "silent: 10 failed items, excluded from the rates" in out
    assert "the model gave an empty answer" in out and "… and 0 more" not in out


def test_unknown_benchmark_or_spec_fails_before_any_call(db, scripted, capsys):
    model = scripted(lambda m, p: CLEAN, spec="clean")
    code, out, err = rnr(capsys, "eval", "--benchmark", "nope", "--model", "clean", "--db", db)
    assert code == 2 and "'nope'" in err and "b1" in err and not out
    code, _, err = rnr(
        capsys, "eval", "--benchmark", "b1", "--model", "clean", "--model", "bogus:x", "--db", db
    )
    assert code == 2 and "bogus:x" in err
    code, _, err = rnr(capsys, "compare", "--benchmark", "nope", "--model", "clean", "--model", "clean2",
                       "--judge", "clean", "--db", db)  # fmt: skip
    assert code == 2 and "'nope'" in err
    assert model.requests == []


def test_compare_prints_win_rates_and_the_leaderboard(db, scripted, capsys):
    scripted(lambda m, p: CLEAN, spec="clean")
    scripted(lambda m, p: COMMAS, spec="commas")
    scripted(judge(), spec="judge")
    args = ["compare", "--benchmark", "b1", "--model", "clean", "--model", "commas", "--judge", "judge"]
    code, out, _ = rnr(capsys, *args, "--db", db)
    assert code == 0, out
    assert "benchmark b1: 3 votes (3 by LLM judges, 0 by people); 0 failed judge votes" in out
    board = out[out.index("Bradley-Terry leaderboard") :]
    first, second = (line.split() for line in board.splitlines()[2:4])
    assert first[:2] == ["1", "clean"] and second[1] == "commas"
    assert "win rates" in out and re.search(r"clean\s+3\s+0\s+0\s+3\s+1\.00 \[1\.00, 1\.00\]", out)
    code, out, _ = rnr(capsys, *args, "--db", db, "--json")
    board = json.loads(out)
    assert board["bradley_terry"][0]["model"] == "clean" and board["run"]["already_done"] == 3
    code, _, err = rnr(
        capsys, "compare", "--benchmark", "b1", "--model", "clean", "--judge", "judge", "--db", db
    )
    assert code == 2 and "at least two" in err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--max-tokens", "0"], "--max-tokens: 0 is too small; give 1 or more"),
        (["--limit", "0"], "--limit: 0 is too small"),
        (["--max-retries", "-1"], "--max-retries: -1 is negative; give 0 or more"),
    ],
)
def test_compare_refuses_bad_counts(db, capsys, flags, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", "--benchmark", "b1", "--model", "a", "--model", "b", "--judge", "j", *flags])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_compare_limit_judges_only_the_first_items(db, scripted, capsys):
    scripted(lambda m, p: CLEAN, spec="clean")
    scripted(lambda m, p: COMMAS, spec="commas")
    scripted(judge(), spec="judge")
    args = ["compare", "--benchmark", "b1", "--model", "clean", "--model", "commas", "--judge", "judge"]
    code, out, _ = rnr(capsys, *args, "--limit", "2", "--db", db, "--json")
    assert code == 0 and json.loads(out)["votes"]["total"] == 2


@pytest.mark.parametrize("flags", [["--seed", "3"], ["--ifeval-input", "x.jsonl"]])
def test_eval_of_a_benchmark_refuses_ifeval_flags(db, scripted, capsys, flags):
    model = scripted(lambda m, p: CLEAN, spec="clean")
    code, out, err = rnr(capsys, "eval", "--benchmark", "b1", "--model", "clean", *flags, "--db", db)
    assert code == 2 and not out and model.requests == []
    assert f"{flags[0]}: only for --ifeval" in err and "'b1'" in err


def test_judge_calibrate_needs_a_judge(tmp_path, capsys):
    code, _, err = rnr(capsys, "judge", "--run", "r", "--calibrate", "--db", str(tmp_path / "c.duckdb"))
    assert code == 2 and "--judge SPEC" in err


def test_judge_calibrate_prints_agreement_per_category_and_the_warning(
    tmp_path, scripted, monkeypatch, capsys
):
    """Six samples answered "one, two": the checker fails no-commas (style) and passes fewer than four
    words (length); a judge that says pass to everything agrees on length only: kappa 0, untrusted."""
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"Explain topic {i}."}) + "\n" for i in range(8)))
    monkeypatch.setattr("rnr_core.generate.pipeline.draw_rules", lambda rng, n, first: FIXED)
    scripted(scripted_attempts(["one, two"]))
    db = str(tmp_path / "c.duckdb")
    with Store(db) as store:
        ingest_file(store, path, "d")
        run_id = asyncio.run(execute_run(store, start_run(store, config(n=6, k=2, rejections=0))))["id"]
    scripted(judge_reply("pass"), spec="judge-model")
    code, out, _ = rnr(capsys, "judge", "--run", run_id, "--judge", "judge-model", "--calibrate", "--db", db)
    assert code == 0, out
    assert "calibration of llm:judge-model against the checkers" in out
    # category, n, accuracy, its 95% interval ("[low, high]"), kappa, its interval
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("  ")}
    assert rows["all"][:2] == ["12", "0.50"] and rows["all"][4] == "0.00"
    assert rows["style"][:5] == ["6", "0.00", "[0.00,", "0.00]", "0.00"]
    assert rows["length"] == ["6", "1.00", "[1.00,", "1.00]", "-", "-"]  # one label throughout: no kappa
    assert "warning: This judge disagrees with code on checkable rules" in out
    code, out, _ = rnr(
        capsys, "judge", "--run", run_id, "--judge", "judge-model", "--calibrate", "--db", db, "--json"
    )
    calibration = json.loads(out)["calibration"]
    assert calibration["judge"] == "llm:judge-model" and calibration["trusted"] is False


def test_eval_ifeval_freezes_once_and_needs_no_judge(tmp_path, scripted, capsys):
    answers = {p["prompt"]: r["response"] for p, r in zip(PROMPTS, RESPONSES)}
    model = scripted(lambda m, p: answers[m[-1]["content"]], spec="ifeval-model")
    db, path = str(tmp_path / "i.duckdb"), write_jsonl(tmp_path / "input_data.jsonl", PROMPTS)
    args = ["eval", "--ifeval", "--ifeval-input", str(path), "--model", "ifeval-model", "--db", db]
    code, out, err = rnr(capsys, *args)
    assert code == 0, err
    assert "Froze ifeval: 2 IFEval prompts" in err and "LLM judge none (checkers only)" in out
    strict, loose = (line.split() for line in out.splitlines() if line.startswith("  ifeval-model"))
    assert strict[1:3] == ["strict", "0.50"] and loose[1:3] == ["loose", "1.00"]  # prompt-level
    assert len(model.requests) == 2  # the answers alone: no judge was asked
    code, out, err = rnr(capsys, *args, "--limit", "1")
    assert code == 0 and "Froze ifeval-1-s0: 1 IFEval prompts" in err
    code, out, err = rnr(capsys, *args)
    assert code == 0 and "Using the frozen benchmark ifeval" in err and len(model.requests) == 2
    bogus = ["eval", "--ifeval", "--ifeval-input", str(path), "--model", "bogus:x", "--limit", "2"]
    code, _, err = rnr(capsys, *bogus, "--db", db)
    assert code == 2 and "bogus:x" in err
    code, out, _ = rnr(capsys, "benchmark", "list", "--db", db)
    assert "ifeval-2-s0" not in out  # refused before anything was frozen
    code, _, err = rnr(capsys, "eval", "--ifeval", "--ifeval-input", str(tmp_path / "no.jsonl"), "--model",
                       "ifeval-model", "--limit", "2", "--db", db)  # fmt: skip
    assert code == 2 and "--ifeval-input PATH" in err
