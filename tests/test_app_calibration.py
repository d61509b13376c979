"""The LLM judge's calibration in the app: Judge audit's 'Judge vs checkers' tab and Review's warning
beside an untrusted judge's verdicts; Calibrate judge starts a judge job for maintainers only."""

import pytest

from rnr_core.stats import UNTRUSTED_JUDGE
from rnr_core.store import Store
from tests.app_data import add_sample
from tests.apptest import open_page, texts


@pytest.fixture
def untrusted(app_db):
    """Twelve more samples where the LLM judge says the opposite of the checker on the checkable rule."""
    db, ids = app_db
    with Store(str(db)) as store:
        for group in range(10, 22):
            checker = "pass" if group % 2 else "fail"
            llm = "fail" if checker == "pass" else "pass"
            add_sample(
                store,
                "run-fixture",
                group,
                f"Question {group}?",
                "An answer.",
                [("r1", "checker", checker), ("r1", "llm:scripted", llm)],
            )
    return db, ids


def test_audit_shows_the_judge_against_the_checkers_with_the_warning(untrusted):
    at = open_page("pages/audit.py", reviewer="ada", audit_tab="Judge vs checkers")
    assert not at.exception, at.exception
    shown = texts(at)
    assert "llm:scripted" in shown and "against the checkers" in shown
    assert UNTRUSTED_JUDGE in shown
    table = at.dataframe[0].value
    assert list(table["Category"]) == ["all categories", "language"]
    assert table["Cohen's kappa"].iloc[0] < 0.6 and table["Rules"].iloc[0] >= 12
    assert table["Accuracy 95% interval"].iloc[0].endswith("%")
    assert " to " in table["Kappa 95% interval"].iloc[0]
    assert "Calibrate judge" in {b.label for b in at.button}


def test_review_shows_the_judges_calibration_beside_its_verdicts(untrusted):
    at = open_page("pages/review.py", reviewer="ada")
    assert not at.exception, at.exception
    assert any("llm:scripted against the checkers: kappa" in w for w in texts(at).splitlines())
    assert UNTRUSTED_JUDGE in texts(at)


def test_calibrate_judge_starts_a_judge_job_asking_about_checkable_rules(untrusted, scripted):
    scripted(lambda m, p: '{"r1": {"verdict": "pass", "rationale": "ok"}}')
    at = open_page("pages/audit.py", reviewer="ada", audit_tab="Judge vs checkers", model_spec="scripted")
    next(b for b in at.button if b.label == "Calibrate judge").click().run()
    assert not at.exception, at.exception
    from rnr_app import state

    job = state.jobs().wait(at.session_state["calibrate_job"], 60)
    assert job["kind"] == "judge" and job["params"]["calibrate"] is True, job
    assert job["status"] == "completed", job


def test_review_says_when_a_judge_is_too_little_calibrated_to_tell(app_db):
    at = open_page("pages/review.py", reviewer="ada")
    assert not at.exception, at.exception
    lines = [line for line in texts(at).splitlines() if "llm:scripted" in line]
    # One checkable rule judged by both: a kappa, but too few rules to say whether to trust the judge.
    assert any("against the checkers" in line and "Too few to tell" in line for line in lines), lines
    assert UNTRUSTED_JUDGE not in texts(at)


def test_review_says_when_a_judge_was_never_checked_against_code(app_db):
    db, _ = app_db
    with Store(str(db)) as store:
        store.con.execute("DELETE FROM verdicts WHERE judge = 'llm:scripted' AND rule_id = 'r1'")
    at = open_page("pages/review.py", reviewer="ada")
    assert not at.exception, at.exception
    assert "llm:scripted has not been checked against code yet" in texts(at)
