"""Review and Judge audit through AppTest: each input, draft and message stays with its own object."""

from rnr_app import state
from rnr_core.review import QueueFilter
from tests.apptest import open_page, plain, texts


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def text_area(at, label: str):
    return next(t for t in at.text_area if t.label == label)


def test_a_note_and_reason_go_only_with_the_action_on_their_sample(app_db):
    _, ids = app_db
    at = open_page("pages/review.py", reviewer="ada")
    at.selectbox(key="reject_reason").set_value("low_quality")
    at.text_input(key="review_note").set_value("too short")
    button(at, "Reject").click().run()
    assert f"Sample {ids['plain']}" in texts(at)
    assert at.selectbox(key="reject_reason").value == "rule_broken"  # not carried over
    assert at.text_input(key="review_note").value == ""
    button(at, "Accept").click().run()
    accepted = state.store().review_sample(ids["plain"])
    assert (accepted["status"], accepted["reject_reason"], accepted["review_note"]) == (
        "accepted",
        None,
        None,
    )
    button(at, "Previous").click().run()
    button(at, "Previous").click().run()
    shown = texts(at)
    assert f"Sample {ids['disputed']}** · rejected · Low quality" in shown
    assert "Note by ada: too short" in shown  # its own note, from its review action
    assert at.selectbox(key="reject_reason").value == "low_quality"  # its own reason
    assert at.text_input(key="review_note").value == ""  # that note was used up


def test_an_unsaved_edit_is_kept_per_sample_and_saved_only_on_it(app_db):
    _, ids = app_db
    at = open_page("pages/review.py", reviewer="ada", editing=True, show_queue=True)
    assert not [t for t in at.text if "Tell me about this exhibit" in t.value]  # shown once: in the editor
    text_area(at, "Response").set_value("A draft.").run()
    button(at, "Next").click().run()
    assert text_area(at, "Response").value == "The cafe is on the first floor."
    assert "unsaved" in str(at.dataframe[0].value)  # the queue marks the sample with a draft
    button(at, "Previous").click().run()
    assert text_area(at, "Response").value == "A draft."
    assert "unsaved edit" in texts(at)
    button(at, "Save edit").click().run()
    assert any("+A draft." in c.value for c in at.code)  # the diff, under its sample
    assert state.store().review_sample(ids["disputed"])["response"] == "A draft."
    assert state.store().review_sample(ids["plain"])["response"] == "The cafe is on the first floor."
    button(at, "Next").click().run()
    assert not any("A draft." in c.value for c in at.code)  # not under the next sample
    assert "unsaved edit" not in texts(at)


def test_discarding_an_edit_brings_back_the_stored_text(app_db):
    _, ids = app_db
    at = open_page("pages/review.py", reviewer="ada", editing=True)
    text_area(at, "Response").set_value("A draft.").run()
    button(at, "Discard edit").click().run()
    assert text_area(at, "Response").value.startswith("Sure!")
    assert not any(b.label == "Discard edit" for b in at.button)


def test_revert_is_offered_only_where_it_changes_something(app_db):
    _, ids = app_db
    at = open_page("pages/review.py", reviewer="ada", editing=True, show_history=True)
    text_area(at, "Response").set_value("A calmer answer.").run()
    button(at, "Save edit").click().run()
    labels = [b.label for b in at.button if b.label.startswith("Revert")]
    assert labels == ["Revert to revision 0"]  # none on revision 1, the current one
    button(at, "Revert to revision 0").click().run()
    labels = [b.label for b in at.button if b.label.startswith("Revert")]
    assert labels == ["Revert to revision 1"]  # revision 2 is current and revision 0 is the same
    assert "same as current" in texts(at)
    assert state.store().review_sample(ids["disputed"])["response"].startswith("Sure!")


def test_counts_agree_with_their_number(app_db):
    at = open_page("pages/review.py", reviewer="ada")
    assert "3 samples match" in texts(at)
    at.text_input(key="f_search").set_value("cafe")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert "1 sample matches" in texts(at)


def test_bulk_reject_asks_for_the_reason_and_names_it(app_db):
    at = open_page("pages/review.py", reviewer="ada")
    button(at, "Reject all in filter…").click().run()
    assert button(at, "Yes, reject 3 samples").disabled  # no reason picked yet
    at.selectbox(key="bulk_reason").set_value("duplicate").run()
    assert any("Reject all 3 samples matching the filters as “Duplicate”?" in w.value for w in at.warning)
    button(at, "Yes, reject 3 samples").click().run()
    assert any("3 samples marked rejected (Duplicate)." in plain(s.value) for s in at.success)
    rejected = state.store().queue(QueueFilter(status="rejected"))
    assert [r["reject_reason"] for r in rejected] == ["duplicate"] * 3
    at.run()
    assert not at.success  # the result was shown once, at its moment


def test_audit_offers_no_answer_until_pressed_and_skips(app_db):
    _, ids = app_db
    at = open_page("pages/audit.py", reviewer="ada")
    assert not at.radio  # nothing pre-selected
    assert {"Pass", "Fail", "Skip"} <= {b.label for b in at.button}
    assert f"Sample {ids['disputed']} · rule r1" in texts(at)
    button(at, "Skip").click().run()
    shown = next(m.value for m in at.markdown if m.value.startswith("**Sample"))
    assert f"Sample {ids['disputed']} · rule r1" not in plain(shown)
    queue = at.dataframe[0].value
    assert list(queue["Skipped"]).count("yes") == 1 and "None" not in queue.to_string()
    button(at, "Pass").click().run()
    saved = [plain(s.value) for s in at.success]
    assert len(saved) == 1 and saved[0].startswith("Saved: pass on sample")
    assert f"Sample {ids['disputed']} · rule r1" in texts(at) or "yes" in list(
        at.dataframe[0].value["Skipped"]
    )


def test_agreement_tables_have_headings_rounded_numbers_and_no_none(app_db):
    _, ids = app_db
    state.store().label_verdict(ids["disputed"], "r1", "fail", "ada")
    at = open_page("pages/audit.py", reviewer="ada", audit_tab="Agreement")
    assert [h.value for h in at.subheader][:2] == ["By judge", "By judge and rule category"]
    for table in at.dataframe[:2]:
        shown = table.value.to_string()
        assert "None" not in shown and "nan" not in shown
        assert set(table.value["Trust"]) == {"too few labels to tell (1 of the 10 needed)"}
