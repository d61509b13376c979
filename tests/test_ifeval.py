"""IFEval scoring: reading prompts and responses, strict/loose rows, accuracies, result files,
the `rnr ifeval` command and its errors, and the published IFEval data when it is present."""

import json
import re

import pytest

from rnr_core.cli import main
from rnr_core.errors import EvalInputError
from rnr_core.ifeval import accuracies, evaluate, read_prompts, read_responses, write_results

ROW_FIELDS = {
    "instruction_id_list",
    "prompt",
    "response",
    "follow_all_instructions",
    "follow_instruction_list",
}
RESULT_FILES = ["eval_results_loose.jsonl", "eval_results_strict.jsonl"]

# Two prompts: the first follows both rules in both modes, the second only in loose mode
# (its first line has a comma, its last line comes after the end phrase).
PROMPTS = [
    {
        "key": 1,
        "prompt": "Say three words without commas.",
        "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
        "kwargs": [{}, {"relation": "at least", "num_words": 3}],
    },
    {
        "key": 2,
        "prompt": "Say goodbye, then stop.",
        "instruction_id_list": ["startend:end_checker", "punctuation:no_comma"],
        "kwargs": [{"end_phrase": "Goodbye."}, {}],
    },
]
RESPONSES = [
    {"prompt": "Say three words without commas.", "response": "one two three"},
    {"prompt": "Say goodbye, then stop.", "response": "Hi, there.\nGoodbye.\nP.S. see you"},
]


def write_jsonl(path, rows):
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def files(tmp_path):
    """(input, responses, out dir) for the two good prompts."""
    return (
        write_jsonl(tmp_path / "input_data.jsonl", PROMPTS),
        write_jsonl(tmp_path / "responses.jsonl", RESPONSES),
        tmp_path / "out",
    )


def run_cli(capsys, input_path, responses_path, out, *extra):
    code = main(
        ["ifeval", "--input", str(input_path), "--responses", str(responses_path), "--out", str(out), *extra]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ---- the pure scoring -------------------------------------------------------------------------


def test_evaluate_strict_and_loose_rows(files):
    prompts = read_prompts(files[0])
    results = evaluate(prompts, read_responses(files[1], prompts))
    assert list(results) == ["strict", "loose"]
    strict, loose = results["strict"], results["loose"]
    assert [r["follow_instruction_list"] for r in strict] == [[True, True], [False, False]]
    assert [r["follow_all_instructions"] for r in strict] == [True, False]
    assert [r["follow_instruction_list"] for r in loose] == [[True, True], [True, True]]
    assert [r["follow_all_instructions"] for r in loose] == [True, True]
    for row, prompt, response in zip(strict, PROMPTS, RESPONSES):
        assert set(row) == ROW_FIELDS
        assert row["instruction_id_list"] == prompt["instruction_id_list"]
        assert row["prompt"] == prompt["prompt"] and row["response"] == response["response"]


def test_accuracies_prompt_and_instruction_level():
    rows = [
        {"follow_all_instructions": True, "follow_instruction_list": [True, True, True]},
        {"follow_all_instructions": False, "follow_instruction_list": [True, False]},
        {"follow_all_instructions": False, "follow_instruction_list": [False]},
    ]
    assert accuracies(rows) == {
        "prompt_level": pytest.approx(1 / 3),
        "instruction_level": pytest.approx(4 / 6),
    }


def test_rows_follow_input_order_not_response_order(tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", PROMPTS)
    resp = write_jsonl(tmp_path / "resp.jsonl", RESPONSES[::-1])
    prompts = read_prompts(inp)
    rows = evaluate(prompts, read_responses(resp, prompts))["strict"]
    assert [r["prompt"] for r in rows] == [p["prompt"] for p in PROMPTS]
    assert [r["response"] for r in rows] == [r["response"] for r in RESPONSES]


def test_blank_response_follows_nothing(tmp_path):
    inp = write_jsonl(
        tmp_path / "in.jsonl",
        [{"key": 1, "prompt": "p", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]}],
    )
    resp = write_jsonl(tmp_path / "resp.jsonl", [{"prompt": "p", "response": "  \n "}])
    prompts = read_prompts(inp)
    results = evaluate(prompts, read_responses(resp, prompts))
    assert results["strict"][0]["follow_instruction_list"] == [False]
    assert results["loose"][0]["follow_instruction_list"] == [False]


def test_read_prompts_accepts_null_and_absent_kwargs(tmp_path):
    inp = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {
                "key": 7,
                "prompt": "a",
                "instruction_id_list": ["detectable_format:title", "keywords:existence"],
                "kwargs": [{"keywords": None, "num_words": None}, {"keywords": ["cat"], "relation": None}],
            },
            {"key": 8, "prompt": "b", "instruction_id_list": ["punctuation:no_comma"]},
        ],
    )
    prompts = read_prompts(inp)
    assert [p.key for p in prompts] == [7, 8]
    assert [p.line for p in prompts] == [1, 2]
    assert prompts[0].rules[1].check("a Cat") and not prompts[0].rules[1].check("a dog")


def test_write_results_leaves_only_the_two_files(tmp_path):
    rows = [
        {
            "instruction_id_list": [],
            "prompt": "p",
            "response": "r",
            "follow_all_instructions": True,
            "follow_instruction_list": [],
        }
    ]
    paths = write_results(tmp_path / "new" / "dir", {"strict": rows, "loose": rows})
    assert [p.name for p in paths] == ["eval_results_strict.jsonl", "eval_results_loose.jsonl"]
    assert sorted(p.name for p in (tmp_path / "new" / "dir").iterdir()) == RESULT_FILES
    assert read_jsonl(paths[0]) == rows


# ---- the command ------------------------------------------------------------------------------


def test_cli_writes_ifeval_result_files(files, capsys):
    inp, resp, out = files
    code, stdout, _ = run_cli(capsys, inp, resp, out)
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == RESULT_FILES
    strict = read_jsonl(out / "eval_results_strict.jsonl")
    loose = read_jsonl(out / "eval_results_loose.jsonl")
    assert [set(r) for r in strict + loose] == [ROW_FIELDS] * 4
    assert [r["follow_instruction_list"] for r in strict] == [[True, True], [False, False]]
    assert [r["follow_instruction_list"] for r in loose] == [[True, True], [True, True]]
    assert "2 prompts, 4 instructions" in stdout
    assert "strict  prompt-level 0.5000  instruction-level 0.5000" in stdout
    assert "loose   prompt-level 1.0000  instruction-level 1.0000" in stdout


def test_cli_json_summary(files, capsys):
    inp, resp, out = files
    code, stdout, _ = run_cli(capsys, inp, resp, out, "--json")
    assert code == 0
    summary = json.loads(stdout)
    assert summary["prompts"] == 2 and summary["instructions"] == 4
    assert summary["strict"] == {"prompt_level": 0.5, "instruction_level": 0.5}
    assert summary["loose"] == {"prompt_level": 1.0, "instruction_level": 1.0}
    assert sorted(summary["files"]) == sorted(str(out / f) for f in RESULT_FILES)


def test_cli_overwrites_earlier_results(files, capsys):
    inp, resp, out = files
    assert run_cli(capsys, inp, resp, out)[0] == 0
    write_jsonl(resp, [RESPONSES[0], {"prompt": RESPONSES[1]["prompt"], "response": "Bye now. Goodbye."}])
    assert run_cli(capsys, inp, resp, out)[0] == 0
    strict = read_jsonl(out / "eval_results_strict.jsonl")
    assert len(strict) == 2 and strict[1]["follow_all_instructions"] is True


GOOD_IN = [json.dumps(p) for p in PROMPTS]
GOOD_RESP = [json.dumps(r) for r in RESPONSES]


def _prompt_line(ids, kwargs, prompt="Say goodbye, then stop."):
    return json.dumps({"key": 9, "prompt": prompt, "instruction_id_list": ids, "kwargs": kwargs})


# (input lines, response lines, file at fault, line, words the message must hold)
BAD = [
    pytest.param(
        GOOD_IN[:1] + [_prompt_line(["startend:the_end"], [{}])],
        GOOD_RESP,
        "input",
        2,
        ["startend:the_end", "unknown rule kind"],
        id="unknown-rule-id",
    ),
    pytest.param(
        GOOD_IN[:1] + [_prompt_line([["punctuation:no_comma"]], [{}])],
        GOOD_RESP,
        "input",
        2,
        ["unknown rule kind"],
        id="rule-id-not-a-string",
    ),
    pytest.param(
        [
            _prompt_line(["length_constraints:number_words"], [{"num_words": 3}], PROMPTS[0]["prompt"]),
            GOOD_IN[1],
        ],
        GOOD_RESP,
        "input",
        1,
        ["length_constraints:number_words", "relation"],
        id="missing-kwarg",
    ),
    pytest.param(
        [
            _prompt_line(
                ["length_constraints:number_words"],
                [{"num_words": "3", "relation": "at least"}],
                PROMPTS[0]["prompt"],
            ),
            GOOD_IN[1],
        ],
        GOOD_RESP,
        "input",
        1,
        ["num_words"],
        id="ill-typed-kwarg",
    ),
    pytest.param(
        GOOD_IN[:1] + [_prompt_line(["punctuation:no_comma", "detectable_format:title"], [{}])],
        GOOD_RESP,
        "input",
        2,
        ["kwargs"],
        id="kwargs-length-mismatch",
    ),
    pytest.param(
        GOOD_IN[:1] + [_prompt_line("punctuation:no_comma", [{}])],
        GOOD_RESP,
        "input",
        2,
        ["instruction_id_list"],
        id="ids-not-a-list",
    ),
    pytest.param(
        GOOD_IN + ['{"key": 3, "prompt": "x", "instruction_id_list": [}'],
        GOOD_RESP,
        "input",
        3,
        ["invalid JSON"],
        id="input-invalid-json",
    ),
    pytest.param(
        GOOD_IN[:1] + ["", "[1, 2]"],
        GOOD_RESP[:1],
        "input",
        3,
        ["JSON object"],
        id="input-not-an-object-after-blank-line",
    ),
    pytest.param(
        GOOD_IN[:1] + ['{"key": 2, "instruction_id_list": [], "kwargs": []}'],
        GOOD_RESP,
        "input",
        2,
        ["prompt"],
        id="input-prompt-missing",
    ),
    pytest.param(
        GOOD_IN,
        [GOOD_RESP[0], json.dumps({"prompt": "Not asked.", "response": "x"})],
        "responses",
        2,
        ["not in the input"],
        id="prompt-not-in-input",
    ),
    pytest.param(
        GOOD_IN, GOOD_RESP[:1], "responses", None, ["1 of 2", "input line 2"], id="responses-for-some"
    ),
    pytest.param(
        GOOD_IN, GOOD_RESP + [GOOD_RESP[1]], "responses", 3, ["second response"], id="duplicate-response"
    ),
    pytest.param(
        GOOD_IN,
        [GOOD_RESP[0], '{"prompt": "Say goodbye, then stop.", "response": '],
        "responses",
        2,
        ["invalid JSON"],
        id="responses-invalid-json",
    ),
    pytest.param(
        GOOD_IN,
        [GOOD_RESP[0], json.dumps({"prompt": PROMPTS[1]["prompt"], "response": None})],
        "responses",
        2,
        ["response"],
        id="response-not-a-string",
    ),
    pytest.param(GOOD_IN, [], "responses", None, ["no response for 2 of 2"], id="responses-empty"),
    pytest.param([], GOOD_RESP, "input", None, ["no prompts"], id="input-empty"),
]


@pytest.mark.parametrize("input_lines, response_lines, culprit, line, words", BAD)
def test_cli_bad_input_is_a_clear_error_and_writes_nothing(
    tmp_path, capsys, input_lines, response_lines, culprit, line, words
):
    inp = write_jsonl(tmp_path / "input_data.jsonl", input_lines)
    resp = write_jsonl(tmp_path / "responses.jsonl", response_lines)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(capsys, inp, resp, out)
    assert code == 2
    assert stderr.startswith("Error: ") and "Traceback" not in stderr
    where = str(inp if culprit == "input" else resp)
    assert (f"{where}:{line}:" if line else f"{where}:") in stderr
    for word in words:
        assert word in stderr
    assert not out.exists() or not list(out.iterdir())
    assert stdout == ""


def test_cli_error_as_json(tmp_path, capsys):
    inp = write_jsonl(tmp_path / "in.jsonl", GOOD_IN)
    resp = write_jsonl(tmp_path / "resp.jsonl", GOOD_RESP[:1])
    code, stdout, _ = run_cli(capsys, inp, resp, tmp_path / "out", "--json")
    assert code == 2
    assert str(resp) in json.loads(stdout)["error"]


def test_cli_missing_file(tmp_path, capsys):
    resp = write_jsonl(tmp_path / "resp.jsonl", GOOD_RESP)
    code, _, stderr = run_cli(capsys, tmp_path / "nowhere.jsonl", resp, tmp_path / "out")
    assert code == 2 and "nowhere.jsonl" in stderr
    assert not (tmp_path / "out").exists()


BAD_OUTS = ["existing file", "parent is a file", "under /proc", "unwritable directory"]


@pytest.mark.parametrize("case", BAD_OUTS)
def test_cli_unwritable_out_is_a_clear_error(files, tmp_path, capsys, unwritable_outs, case):
    inp, resp, _ = files
    out = unwritable_outs[case]
    before = sorted(tmp_path.rglob("*"))
    code, stdout, stderr = run_cli(capsys, inp, resp, out)
    assert code == 2 and stdout == ""
    assert stderr.startswith("Error: ") and str(out) in stderr and "directory" in stderr
    assert sorted(tmp_path.rglob("*")) == before
    assert (tmp_path / "taken.txt").read_text() == "keep me"


def test_cli_checks_out_before_asking_the_model(files, capsys, unwritable_outs, scripted):
    model = scripted(lambda messages, params: "one two three")
    code = main(
        [
            "ifeval",
            "--input",
            str(files[0]),
            "--model",
            "scripted",
            "--out",
            str(unwritable_outs["under /proc"]),
        ]
    )
    assert code == 2 and "/proc/rnr-test-out" in capsys.readouterr().err
    assert model.requests == []  # no call is paid for before the output is known to be writable


def test_result_files_escape_line_separators(tmp_path, capsys):
    odd = [dict(RESPONSES[0], response="one\u2028two\u2029three"), RESPONSES[1]]
    inp = write_jsonl(tmp_path / "in.jsonl", PROMPTS)
    resp = write_jsonl(tmp_path / "resp.jsonl", odd)
    assert run_cli(capsys, inp, resp, tmp_path / "out")[0] == 0
    for name in RESULT_FILES:
        text = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "\u2028" not in text and "\u2029" not in text
        rows = [json.loads(line) for line in text.splitlines()]
        assert len(rows) == 2 and rows[0]["response"] == "one\u2028two\u2029three"


def test_read_responses_error_type(tmp_path):
    inp = write_jsonl(tmp_path / "in.jsonl", GOOD_IN)
    resp = write_jsonl(tmp_path / "resp.jsonl", ["not json"])
    with pytest.raises(EvalInputError, match=r"resp\.jsonl:1: invalid JSON"):
        read_responses(resp, read_prompts(inp))


# ---- the published IFEval data ----------------------------------------------------------------

# GPT-4's accuracies in the IFEval paper (Zhou et al. 2023, table 3), on its 541-prompt release.
PAPER_GPT4 = {
    "strict": {"prompt_level": 0.7689, "instruction_level": 0.8357},
    "loose": {"prompt_level": 0.7930, "instruction_level": 0.8537},
}


@pytest.fixture(scope="module")
def gpt4_results(tmp_path_factory):
    from tests.conftest import SHARED_DATA

    data = SHARED_DATA / "ifeval"
    if not (data / "input_data.jsonl").is_file() or not (data / "responses_gpt4.jsonl").is_file():
        pytest.skip(f"IFEval data not found at {data}; these tests need ../shared/data/ifeval")
    out = tmp_path_factory.mktemp("ifeval")
    code = main(
        [
            "ifeval",
            "--input",
            str(data / "input_data.jsonl"),
            "--responses",
            str(data / "responses_gpt4.jsonl"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    inputs = read_jsonl(data / "input_data.jsonl")
    return inputs, {mode: read_jsonl(out / f"eval_results_{mode}.jsonl") for mode in ("strict", "loose")}


def test_gpt4_rows_per_mode(gpt4_results, capsys):
    inputs, results = gpt4_results
    assert len(inputs) == 540
    for mode, rows in results.items():
        assert len(rows) == 540, mode
        assert [r["prompt"] for r in rows] == [i["prompt"] for i in inputs]
        assert [r["instruction_id_list"] for r in rows] == [i["instruction_id_list"] for i in inputs]
        for row in rows:
            assert set(row) == ROW_FIELDS
            assert len(row["follow_instruction_list"]) == len(row["instruction_id_list"])
            assert row["follow_all_instructions"] == all(row["follow_instruction_list"])


def test_gpt4_loose_never_below_strict(gpt4_results):
    _, results = gpt4_results
    rescued = 0
    for strict, loose in zip(results["strict"], results["loose"]):
        for s, lo in zip(strict["follow_instruction_list"], loose["follow_instruction_list"]):
            assert lo or not s, strict["prompt"][:60]
            rescued += lo and not s
    assert rescued > 0


def test_gpt4_accuracies_near_the_paper(gpt4_results):
    _, results = gpt4_results
    for mode, expected in PAPER_GPT4.items():
        got = accuracies(results[mode])
        for level, value in expected.items():
            assert got[level] == pytest.approx(value, abs=0.015), (mode, level, got[level])


def test_gpt4_accuracies_exactly(gpt4_results):
    # Our scoring of the 540-prompt release; a change in any verdict moves one of these.
    _, results = gpt4_results
    got = {mode: accuracies(rows) for mode, rows in results.items()}
    assert {m: (round(a["prompt_level"], 4), round(a["instruction_level"], 4)) for m, a in got.items()} == {
        "strict": (0.7722, 0.8377),
        "loose": (0.7981, 0.8582),
    }


# Rows checked by hand: key -> (strict verdicts, loose verdicts).
HAND_CHECKED = {
    1738: ([True], [True]),  # '26': no comma
    2314: ([True], [True]),  # three '* ' lines for 3 bullets
    1098: ([True], [True]),  # 'Jehovah ****** Allah': two different answers
    1242: ([True, False], [True, False]),  # bare JSON, but its key "Nickname" is a forbidden word
    1675: ([False], [False]),  # German answer uses the forbidden 'heute'
    1561: ([False, True], [False, True]),  # only '<<Double Edge>>': a title, the prompt not repeated
    2239: ([True], [True]),  # wrapped in double quotes
    3750: ([True], [True]),  # 'My answer is no.'
    374: ([False, False], [False, True]),  # forbidden words only in the repeated first line
    1051: ([False], [True]),  # all lower case except the closing '[Your Name]' line
    1825: ([False, True, True], [True, True, True]),  # the only comma is in the last line
}


def test_gpt4_hand_checked_rows(gpt4_results):
    inputs, results = gpt4_results
    by_key = {i["key"]: n for n, i in enumerate(inputs)}
    for key, (strict, loose) in HAND_CHECKED.items():
        n = by_key[key]
        assert results["strict"][n]["follow_instruction_list"] == strict, key
        assert results["loose"][n]["follow_instruction_list"] == loose, key


# ---- answering with a model first -------------------------------------------------------------


def test_cli_answers_with_the_embedded_model_then_scores(files, capsys):
    input_path, _, out = files
    code = main(
        [
            "ifeval",
            "--input",
            str(input_path),
            "--model",
            "local",
            "--max-tokens",
            "24",
            "--limit",
            "1",
            "--out",
            str(out),
            "--json",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["prompts"] == 1 and summary["instructions"] == 2
    answered = read_jsonl(out / "responses.jsonl")
    assert [a["prompt"] for a in answered] == [PROMPTS[0]["prompt"]] and answered[0]["response"].strip()
    rows = read_jsonl(out / "eval_results_strict.jsonl")
    assert rows[0]["response"] == answered[0]["response"]
    # the verdicts are the checkers' on what the model wrote
    text = answered[0]["response"]
    assert rows[0]["follow_instruction_list"] == ["," not in text, len(re.findall(r"\w+", text)) >= 3]


def test_cli_unknown_model_spec_writes_nothing(files, capsys):
    input_path, _, out = files
    code = main(["ifeval", "--input", str(input_path), "--model", "nosuch:thing", "--out", str(out)])
    assert code == 2 and "Unknown model spec" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
