"""The quality gate on generated system prompts: a table of good and bad prompts, and its retry."""

import asyncio
import json
import random

import pytest

from rnr_core.errors import InvalidOutput, QualityGateFailed
from rnr_core.generate import execute_run, start_run
from rnr_core.generate.quality import problems
from rnr_core.generate.system_prompt import parse_reply
from rnr_core.rules import rule_record
from rnr_core.rules.base import build
from rnr_core.rules.sampling import draw_rules
from tests.conftest import ingest_questions, one_group

ROLE = "You are a patient cooking tutor who helps home cooks plan weeknight meals."


def rules(*texts) -> list[dict]:
    """Free-form rule records from texts; a (kind, kwargs) pair makes a registry rule."""
    out = []
    for i, t in enumerate(texts, 1):
        if isinstance(t, tuple):
            kind, kwargs = t
            out.append(rule_record(i, build(kind, kwargs).render(), "format", kind, kwargs))
        else:
            out.append(rule_record(i, t, "style"))
    return out


FRENCH = ("language:response_language", {"language": "fr"})
NO_COMMA = ("punctuation:no_comma", {})

GOOD = {
    "cooking tutor": (ROLE, rules("Answer in at most three sentences.", "Never give medical advice.")),
    "travel helper": (
        "You are a concise travel helper for budget backpackers in Europe.",
        rules("Use at most two sentences.", "Do not recommend airlines.", "Always quote prices in euros."),
    ),
    "named persona": ("You are Chef Marco.", rules("Keep a friendly, encouraging tone.")),
    "html tags and links are not placeholders": (
        "You are a front-end code reviewer for small web teams.",
        rules(
            "Never suggest inline <script> tags; point to a separate file instead.",
            "Cite the relevant page as a markdown link, like [MDN](https://developer.mozilla.org).",
            "Number references as [1], [2] and so on.",
        ),
    ),
    "quoted ellipses are content": (
        "You are a calm support agent for a home-internet provider.",
        rules("Never open a reply with filler such as 'Well...' or 'So...'.", "Use plain words."),
    ),
    "a conditional language rule is no contradiction": (
        "You are a French tutor for English-speaking beginners.",
        rules(
            "Respond in English, quoting French phrases in italics.",
            "If the learner writes in French, correct their mistakes gently.",
        ),
    ),
    "similar but different rules": (
        ROLE,
        rules("Always cite your sources.", "Always cite your sources in APA style.", "Use metric units."),
    ),
    "free rules with registry rules": (
        "You are a Parisian museum guide for curious tourists.",
        rules("Keep a friendly, encouraging tone.", FRENCH, NO_COMMA),
    ),
    "registry placeholders and titles are our own wording": (
        "You are a letter-writing assistant for small landlords.",
        rules(
            "Be brief.",
            ("detectable_content:number_placeholders", {"num_placeholders": 2}),
            ("detectable_format:title", {}),
        ),
    ),
}

BAD = {
    "role is an ellipsis": ("You are ...", rules("Be kind to everyone."), "ellipsis"),
    "role trails off": ("You are a travel agent who helps with...", rules("Be kind."), "ellipsis"),
    "rule is an ellipsis": (ROLE, rules("Be kind.", "........"), "ellipsis"),
    "rule trails off": (ROLE, rules("Always mention…"), "ellipsis"),
    "ellipsis mid-rule": (ROLE, rules("Cover topics like soups, ... and stews."), "ellipsis"),
    "role placeholder": ("You are [Your Role].", rules("Be kind."), "placeholder"),
    "angle placeholder": ("You are a support agent for <company>.", rules("Be kind."), "placeholder"),
    "curly placeholder": (ROLE, rules("Only discuss {topic}."), "placeholder"),
    "mustache placeholder": (ROLE, rules("Greet the user as {{user_name}}."), "placeholder"),
    "insert placeholder": (ROLE, rules("[insert a rule about tone here]"), "placeholder"),
    "bare word role": ("assistant", rules("Be kind."), "role_too_short"),
    "you are": ("You are", rules("Be kind."), "role_too_short"),
    "two-word role": ("Travel agent.", rules("Be kind."), "role_too_short"),
    "generic role": ("You are a helpful AI assistant.", rules("Be kind."), "role_too_short"),
    "one-word job": ("You are a tutor.", rules("Be kind."), "role_too_short"),
    "same rule twice": (
        ROLE,
        rules("Never give medical advice.", "never give MEDICAL advice!"),
        "duplicate_rule",
    ),
    "near duplicate": (
        ROLE,
        rules("Keep every answer under 100 words.", "Keep every answer under 120 words."),
        "duplicate_rule",
    ),
    "free rule repeats a registry rule": (
        ROLE,
        rules("Do not use any commas in the response.", NO_COMMA),
        "duplicate_rule",
    ),
    "registry rule twice": (ROLE, rules(NO_COMMA, NO_COMMA), "duplicate_rule"),
    "always and never": (ROLE, rules("Always use emojis.", "Never use emojis."), "contradictory_rules"),
    "do and do not": (ROLE, rules("Use bullet points.", "Don't use bullet points."), "contradictory_rules"),
    "two languages": (ROLE, rules("Respond in English.", "Reply only in French."), "contradictory_rules"),
    "free language against registry language": (
        ROLE,
        rules("Always respond in English.", FRENCH),
        "contradictory_rules",
    ),
    "same kind, other kwargs": (
        ROLE,
        rules(
            ("length_constraints:number_words", {"relation": "less than", "num_words": 50}),
            ("length_constraints:number_words", {"relation": "at least", "num_words": 300}),
        ),
        "contradictory_rules",
    ),
    "kinds that clash": (
        ROLE,
        rules(
            ("detectable_format:json_format", {}),
            ("length_constraints:number_paragraphs", {"num_paragraphs": 3}),
        ),
        "contradictory_rules",
    ),
}


@pytest.mark.parametrize("role, rule_list", GOOD.values(), ids=GOOD.keys())
def test_good_prompts_pass(role, rule_list):
    assert problems(role, rule_list) == []


@pytest.mark.parametrize("role, rule_list, code", BAD.values(), ids=BAD.keys())
def test_bad_prompts_are_caught_with_their_reason(role, rule_list, code):
    found = problems(role, rule_list)
    assert code in [p.code for p in found]
    assert all(p.detail for p in found)


def test_problems_name_the_rule():
    found = problems(ROLE, rules("Be kind.", "Only discuss {topic}."))
    assert [p.code for p in found] == ["placeholder"]
    assert "rule r2" in found[0].detail and "{topic}" in found[0].detail


@pytest.mark.parametrize("seed", range(200))
def test_registry_rules_alone_pass_the_gate(seed):
    rng = random.Random(seed)
    drawn = draw_rules(rng, rng.randint(1, 6), 3)
    free = rules("Keep a friendly, encouraging tone.", "Never give medical advice.")
    assert problems(ROLE, drawn) == []
    assert problems(ROLE, free + drawn) == []


def reply(role, texts):
    return json.dumps({"role": role, "rules": [{"text": t, "category": "style"} for t in texts]})


def test_parse_reply_raises_a_retryable_error_with_reasons():
    raw = reply("You are [Your Role], a helper for home cooks.", ["Never give medical advice."] * 2)
    with pytest.raises(QualityGateFailed) as info:
        parse_reply(raw, 2)
    exc = info.value
    assert isinstance(exc, InvalidOutput) and exc.raw == raw
    assert exc.reason == "placeholder" and exc.reasons == ("placeholder", "duplicate_rule")
    assert "quality gate" in str(exc) and "[Your Role]" in str(exc) and "rule r2 repeats rule r1" in str(exc)


def test_parse_reply_checks_model_rules_against_the_fixed_ones():
    fixed = [rule_record(2, build(*FRENCH).render(), "language", *FRENCH)]
    with pytest.raises(QualityGateFailed, match="contradict") as info:
        parse_reply(reply(ROLE, ["Always respond in English."]), 1, fixed)
    assert info.value.reason == "contradictory_rules"
    role, parsed, _ = parse_reply(reply(ROLE, ["Keep a friendly tone."]), 1, fixed)
    assert role == ROLE and [r["id"] for r in parsed] == ["r1", "r2"]


def test_a_prompt_that_fails_the_gate_is_retried(store, tmp_path, scripted):
    ingest_questions(store, tmp_path, 3)
    answers = iter([reply("You are ...", ["Be kind.", "Be brief."]), reply(ROLE, ["Be kind.", "Be brief."])])
    model = scripted(lambda m, p: next(answers) if p.json_schema else "fine")
    run = asyncio.run(execute_run(store, start_run(store, one_group())))
    assert run["status"] == "completed"
    sp_calls = [p for _, p in model.requests if p.json_schema]
    assert len(sp_calls) == 2 and sp_calls[0].seed != sp_calls[1].seed
    system_item = next(i for i in store.run_items(run["id"]) if i["item_key"].endswith("system"))
    assert system_item["attempts"] == 2
    assert store.system_prompt(run["id"], 0)["role"] == ROLE


def test_the_gate_can_be_turned_off_for_a_run(store, tmp_path, scripted):
    ingest_questions(store, tmp_path, 3)
    vague = json.dumps(
        {
            "role": "You are [Your Role].",
            "rules": [
                {"text": "Answer in at most three sentences.", "category": "length"},
                {"text": "Never give medical advice.", "category": "safety"},
            ],
        }
    )
    scripted(lambda m, p: vague if p.json_schema else "Short answer.")
    gated = asyncio.run(execute_run(store, start_run(store, one_group(max_retries=1))))
    assert gated["status"] == "failed" and gated["counts"]["samples"] == 0
    assert {r["reason"] for r in store.failure_reasons("system_prompt")} == {"placeholder"}
    open_run = asyncio.run(execute_run(store, start_run(store, one_group(max_retries=1, quality_gate=False))))
    assert open_run["status"] == "completed" and open_run["counts"]["samples"] == 3
