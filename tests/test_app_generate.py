"""The Generate page through AppTest: uploads with a column picker, a readable preview, errors in
the app's own words, and a failed run's banner that says why."""

import re

from rnr_app import state
from tests.apptest import open_page, plain, texts
from tests.test_run_state import ELLIPSIS_SP

CLI_FLAG = re.compile(r"(^|\s)--?[a-z]")  # '--column', '-n 5000': a command line's words


def upload(at, name: str, data: bytes) -> None:
    at.file_uploader[0].set_value((name, data, "application/octet-stream"))
    at.run()


def errors(at) -> list[str]:
    return [plain(e.value) for e in at.error]


def test_a_headerless_csv_is_imported_with_the_column_picker(app_db):
    at = open_page("pages/generate.py")
    upload(at, "nohead.csv", b"What is 2+2?,four\nName a colour.,red\n")
    shown = errors(at)
    assert shown and "'Column'" in shown[0] and not CLI_FLAG.search(shown[0]), shown
    assert at.selectbox(key="upload_column").options == ["auto", "What is 2+2?", "four"]
    at.selectbox(key="upload_fmt").set_value("csv-no-header").run()
    at.selectbox(key="upload_column").set_value("column 1").run()
    assert not errors(at) and "csv-no-header · 2 records" in texts(at)
    at.button(key="upload_import").click().run()
    assert "Imported 2 instructions into nohead" in texts(at)


def test_the_preview_shows_conversations_not_python_reprs(app_db):
    at = open_page("pages/generate.py")
    chat = (
        b'{"messages": [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello"}, '
    )
    upload(at, "chat.jsonl", chat + b'{"role": "user", "content": "Explain tides."}]}\n')
    assert [m.name for m in at.chat_message] == ["user", "assistant", "user"]
    shown = texts(at)
    assert "Explain tides." in shown and "Line 1" in shown and "{'role'" not in shown


def test_too_large_a_run_names_the_page_control(app_db):
    at = open_page("pages/generate.py")
    at.selectbox(key="gen_dataset").set_value("demo")
    at.number_input(key="gen_n").set_value(100_000)
    at.button(key="gen_start").click().run()
    shown = errors(at)
    assert any("Lower 'Instructions (count)'" in e for e in shown), shown
    assert not any(CLI_FLAG.search(e) for e in shown), shown


def test_a_run_the_gate_refuses_says_why_at_the_top(app_db, scripted):
    scripted(lambda m, p: ELLIPSIS_SP if p.json_schema else "ok")
    at = open_page("pages/generate.py", model_spec="scripted")
    at.selectbox(key="gen_dataset").set_value("demo")
    at.number_input(key="gen_retries").set_value(0)
    at.number_input(key="gen_rules").set_value(4)  # two written by the model, as ELLIPSIS_SP has
    at.button(key="gen_start").click().run()
    state.jobs().wait(at.session_state["gen_job"], 60)
    at.run()
    banner = errors(at)[0]
    assert banner.startswith("Failed: ended with items not done."), banner
    assert "2 system prompts refused by the quality gate: '...' standing for content" in banner
    assert "'Quality gate'" in banner and "would likely fail the same way" in banner
    assert "Press 'Resume run'" not in banner and not CLI_FLAG.search(banner)
    picked = at.selectbox(key="gen_pick")
    assert picked.value == at.session_state["gen_run"] and "failed" not in picked.format_func(picked.value)
    summary = "0 samples · 0 of 12 items done, 2 failed, 10 not tried"
    assert summary in [plain(p.proto.text) for p in at.get("progress")]
