"""The Train page through AppTest: who may train, the form in team mode (exports by name, no server path),
a real tiny fine-tune of the embedded model through the job runner, the registry as the store holds it,
and a bad export folder refused with the core's reason."""

import json

import pandas
import pytest

from rnr_app import state
from rnr_core import access
from rnr_core.export import export_samples
from rnr_core.store import Store
from tests.apptest import open_page, plain, texts
from tests.conftest import home_with_cache
from tests.test_app_login import run, team  # noqa: F401  (team mode over the seeded store)

PAGE = "pages/train.py"
TINY = {"train_steps": 2, "train_batch": 2, "train_length": 128}
MIA = {"email": "mia@example.com", "sub": "mia"}


def fill(at, **values) -> None:
    """Set the form's fields by widget key."""
    for key, value in values.items():
        widget = next(w for kind in ("text_input", "number_input") for w in getattr(at, kind) if w.key == key)
        widget.set_value(value)


def start(at, **values) -> str:
    """Fill the form with a tiny run's settings and `values`, press Start training; return the job id."""
    fill(at, **{**TINY, **values})
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception, at.exception
    return at.session_state["train_job"]


def refused(at, **values) -> None:
    """Fill the form and press Start training: the page refuses at once, and no job starts."""
    fill(at, **{**TINY, **values})
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception, at.exception
    assert "train_job" not in at.session_state


def ended(at, job_id: str) -> dict:
    """Wait for the job to end, then draw the page again; return the job as it ended."""
    job = state.jobs().wait(job_id, 600)
    assert job["status"] != "running", "the training job did not end in 10 minutes"
    at.run()
    assert not at.exception, at.exception
    return job


def plotted(at) -> list[tuple]:
    """The (step, loss) points of the loss chart on show."""
    (chart,) = at.get("plotly_chart")
    (trace,) = json.loads(chart.proto.spec)["data"]
    return list(zip(trace["x"], trace["y"]))


def table(at) -> list[dict]:
    """The fine-tunes list as records."""
    (frame,) = [d for d in at.dataframe]
    return frame.value.to_dict("records")


@pytest.fixture
def exported(app_db, tmp_path, models_cache, gguf_path):
    """The seeded store's passing samples exported under the export root, and the dequantised model in
    RNR_HOME's cache (as a first `rnr train --base local` leaves it)."""
    db, _ = app_db
    home_with_cache(tmp_path / "home", models_cache, gguf_path)
    out = access.config().export_root / "tiny"
    with Store(str(db)) as store:
        export_samples(store, out)
    return out


@pytest.mark.parametrize("email", ["rex@example.com", "val@viewers.example.com"])
def test_viewers_and_reviewers_are_not_offered_training(team, email):  # noqa: F811
    at = run(user={"email": email, "sub": email})
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGE)


def test_a_maintainer_picks_an_export_by_name_and_types_no_server_path(team, tmp_path):  # noqa: F811
    for name in ("week-1", "not-an-export"):
        (tmp_path / "exports" / name).mkdir(parents=True)
    (tmp_path / "exports" / "week-1" / "manifest.json").write_text("{}")
    at = run(PAGE, user=MIA)
    assert at.selectbox(key="train_data").options == ["week-1"]
    assert at.selectbox(key="train_base").options == ["local (the embedded SmolLM2-135M)"]
    assert not [w for w in at.text_input if w.key in ("train_data", "train_hf")]
    assert "Start training" in {b.label for b in at.button}


def test_the_fine_tunes_list_shows_what_the_store_holds(app_db):
    at = open_page(PAGE)
    assert "No fine-tunes yet" in texts(at)
    store = state.store()
    settings = {"out": "/tmp/ft-a", "lora": False, "epochs": 1, "max_steps": 3, "batch_size": 2}
    store.register_fine_tune("ft-a", "hf:/tmp/ft-a", "local", "/tmp/export", settings, "completed")
    store.register_fine_tune("ft-b", "hf:/tmp/ft-b", "ft-a", "/tmp/export", settings, "cancelled")
    for step, loss in ((1, 2.5), (2, 2.0), (3, 1.5)):
        store.log_train_step("ft-a", step, step / 3, loss, 5e-5)
    at.run()
    rows = {r["Name"]: r for r in table(at)}
    assert rows.keys() == {"ft-a", "ft-b"}
    assert (rows["ft-a"]["Base"], rows["ft-a"]["Status"], rows["ft-a"]["Steps"]) == ("local", "completed", 3)
    assert rows["ft-a"]["Final loss"] == 1.5 and rows["ft-a"]["Model spec"] == "hf:/tmp/ft-a"
    assert rows["ft-b"]["Status"] == "cancelled" and pandas.isna(rows["ft-b"]["Final loss"])  # none logged
    assert at.selectbox(key="train_resume").options == ["ft-b"]  # only the unfinished one resumes
    bases = at.selectbox(key="train_base").options
    assert [b for b in bases if b.startswith("ft-")] == ["ft-a (fine-tune of local)"]  # finished only
    assert at.selectbox(key="train_curve").value == "ft-b"  # the newest first: nothing logged
    assert "No loss logged yet" in texts(at) and not at.get("plotly_chart")
    at.selectbox(key="train_curve").set_value("ft-a").run()
    assert plotted(at) == [(1, 2.5), (2, 2.0), (3, 1.5)]


def test_a_checkpoint_base_needs_its_folder_and_a_bad_one_is_the_cores_reason(app_db, tmp_path):
    at = open_page(PAGE)
    at.selectbox(key="train_base").set_value("hf")
    next(b for b in at.button if b.label == "Start training").click().run()
    assert "Type the checkpoint folder to start from" in texts(at) and "train_job" not in at.session_state
    data, empty = tmp_path / "export", tmp_path / "empty"
    empty.mkdir()
    data.mkdir()
    turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]
    (data / "train.jsonl").write_text(json.dumps({"messages": turns}) + "\n")
    refused(at, train_hf=str(empty), train_data=str(data), train_name="from-nothing")
    assert state.store().fine_tunes() == []
    assert f"{empty} is not a transformers checkpoint (no config.json there)" in texts(at)


def test_a_bad_export_folder_shows_the_cores_reason_and_registers_nothing(app_db, tmp_path):
    at = open_page(PAGE)
    refused(at, train_data=str(tmp_path / "nowhere"), train_name="never")
    assert f"Training data {tmp_path / 'nowhere'} does not exist" in texts(at)
    assert state.store().fine_tunes() == []


@pytest.mark.slow
def test_a_tiny_fine_tune_is_cancelled_resumed_and_listed(exported):
    at = open_page(PAGE)
    assert at.text_input(key="train_data").value == str(exported)  # the newest export, offered
    job_id = start(at, train_name="tiny-parrot")
    assert at.get("progress"), "no progress bar while the job runs"
    next(b for b in at.button if b.label == "Cancel training").click().run()
    assert ended(at, job_id)["status"] == "cancelled"
    assert "Cancelled: the last checkpoint of tiny-parrot is kept" in texts(at)
    assert state.store().fine_tune("tiny-parrot")["status"] == "cancelled"

    assert at.selectbox(key="train_resume").value == "tiny-parrot"
    next(b for b in at.button if b.label == "Resume training").click().run()
    job = ended(at, at.session_state["train_job"])
    assert job["status"] == "completed", job["error"]
    assert job["params"]["max_steps"] == 2 and job["params"]["max_length"] == 128  # as first asked
    losses = state.store().train_losses("tiny-parrot")
    assert [r["step"] for r in losses] == [1, 2]
    assert "Step 2 of 2" in [plain(p.proto.text) for p in at.get("progress")]
    assert plotted(at) == [(r["step"], pytest.approx(r["loss"])) for r in losses]
    (row,) = table(at)
    assert (row["Name"], row["Status"], row["Steps"]) == ("tiny-parrot", "completed", 2)
    assert row["Final loss"] == pytest.approx(losses[-1]["loss"])
    assert "Trained and registered as tiny-parrot" in texts(at)
    assert not [w for w in at.selectbox if w.key == "train_resume"]  # nothing left to resume


def test_in_team_mode_the_cores_reason_names_the_export_by_its_folder_name(team, tmp_path):  # noqa: F811
    folder = tmp_path / "exports" / "week-2"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text('{"format": "sharegpt"}')
    (folder / "train.jsonl").write_text('{"conversations": []}\n')
    at = run(PAGE, user=MIA)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert "train_job" not in at.session_state and state.store().fine_tunes() == []
    shown = texts(at)
    assert "week-2/manifest.json says this export is in the 'sharegpt' format" in shown
    assert "Export it again on the Export page with the format 'messages'." in shown  # the app's fix
    assert str(tmp_path) not in shown  # no server path
