"""Fine-tunes on the Compare page through AppTest: offered next to their base in the live demo and the
Benchmark tab, evaluated from there like any model and shown by their registered name; in team mode never
by their folder, and no unregistered checkpoint folder is offered."""

import json

import pytest

from rnr_app import state
from rnr_core.models.registry import register_model
from rnr_core.store import Store
from tests.apptest import open_page
from tests.conftest import ScriptedModel
from tests.test_app_compare import PAGE, evaluated, scripted_models  # noqa: F401  (a benchmark, evaluated)
from tests.test_app_compare_team import everything_shown, page, team  # noqa: F401  (team mode)

FOLDER = "/srv/rnr/fine-tunes/parrot"  # a server path: never shown in team mode
SPEC = f"hf:{FOLDER}"
SETTINGS = {"out": FOLDER, "lora": False, "epochs": 1, "max_steps": 2}


def register(db, name: str, spec: str, base: str, status: str = "completed") -> None:
    with Store(str(db)) as store:
        store.register_fine_tune(name, spec, base, "/srv/rnr/exports/tiny", SETTINGS, status)


@pytest.fixture
def parrot():
    """The fine-tune's folder served by a scripted model (what `hf:` would load), for the evaluation."""
    undo = register_model(SPEC, ScriptedModel(lambda m, p: "Squawk, a fine old place", SPEC))
    yield
    undo()


def options(at, key: str) -> list[str]:
    """The labels a picker offers."""
    return list(next(w for w in [*at.selectbox, *at.multiselect] if w.key == key).options)


def test_a_fine_tune_is_offered_after_its_base_and_evaluated_by_its_name(evaluated, parrot):  # noqa: F811
    register(evaluated, "parrot", SPEC, "local")
    register(evaluated, "half-done", "hf:/srv/rnr/fine-tunes/half", "local", status="cancelled")
    at = open_page(PAGE, reviewer="mia", model_spec="terse")  # the sidebar's model judges
    assert options(at, "live_model_1") == ["local", "parrot", "terse"]  # unfinished ones have no model yet
    at.session_state["compare_tab"] = "Benchmark"
    at.run()
    assert options(at, "bench_models") == ["local", "parrot", "terse"]
    at.multiselect(key="bench_models").set_value([SPEC])
    next(b for b in at.button if b.label == "Evaluate").click().run()
    assert not at.exception, at.exception
    job = state.jobs().wait(at.session_state["bench_job"], 60)
    assert (job["status"], job["params"]["models"]) == ("completed", [SPEC]), job
    at.run()
    charts = "".join(c.proto.spec for c in at.get("plotly_chart"))
    assert '"parrot"' in charts and FOLDER not in charts  # the pass-rate chart names it


def test_the_live_demo_opens_on_the_newest_fine_tune_against_its_base(evaluated):  # noqa: F811
    register(evaluated, "older", "hf:/srv/rnr/fine-tunes/older", "local")
    register(evaluated, "parrot", SPEC, "local")
    at = open_page(PAGE, reviewer="mia")
    assert not at.exception, at.exception
    models = [at.selectbox(key=f"live_model_{i}").value for i in range(2)]
    assert models == ["local", SPEC]  # the embedded model's float32 checkpoint is not cached here
    assert [at.number_input(key=f"live_temp_{i}").value for i in range(2)] == [0.0, 0.0]


def test_in_team_mode_a_fine_tune_shows_by_name_and_no_folder_is_offered(team):  # noqa: F811
    db, _ = team
    register(db, "parrot", SPEC, "hf:/srv/rnr/bases/smol")  # its base: a folder, not a fine-tune
    at = page("mia@example.com", compare_tab="Benchmark")
    assert not at.exception, at.exception
    assert options(at, "bench_models") == ["local", "parrot", "small"]
    shown = everything_shown(at)
    assert "/srv/" not in shown and "hf:" not in shown
    at = page("mia@example.com")
    assert options(at, "live_model_1") == ["local", "parrot", "small"]
    assert "/srv/" not in json.dumps(everything_shown(at))
