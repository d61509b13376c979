"""Who may do what: the role table, identities, the operator's configuration file and what it refuses,
the key-variable allowlist (checked against a real loopback server), team models and the export root."""

import asyncio
import itertools
import json
import os
import subprocess
import sys
import textwrap

import pytest

from rnr_core import access, preferences
from rnr_core.errors import Forbidden, SettingError
from rnr_core.models import openai_compat
from rnr_core.models.connection import ModelSettings, check_connection, team_model_settings, use_model
from rnr_core.secrets import MASK, scrub
from rnr_core.store import Store
from tests.conftest import GOOD_SP, ROOT, ingest_questions, one_group
from tests.stub_server import StubServer

SECRET = "s3cret-value-0123456789"
TEAM_KEY = "team-key-abcdef0123456789"

# Written out rather than derived from ACTIONS, so a change to the policy must change this table too.
ALLOWED = {
    "viewer": {"read"},
    "reviewer": {"read", "review", "edit", "label", "vote"},
    "maintainer": {
        *("read", "review", "edit", "label", "vote", "generate", "judge", "export", "train"),
        *("manage_datasets", "adjudicate", "set_task", "evaluate"),
    },
}


@pytest.fixture
def operator(tmp_path, monkeypatch):
    """Write the operator's file (TOML text) and load it; the defaults come back afterwards."""
    path = tmp_path / "config.toml"

    def write(text: str) -> access.OperatorConfig:
        path.write_text(textwrap.dedent(text))
        monkeypatch.setenv("RNR_CONFIG", str(path))
        return access.reload()

    yield write
    monkeypatch.undo()
    access.reload()


def team_file(url: str = "http://127.0.0.1:9/v1", key_env: str = "TEAM_KEY") -> str:
    return f"""
        mode = "team"
        export_root = "/srv/rnr/exports"
        [roles]
        "ana@example.com" = "maintainer"
        "@example.com" = "reviewer"
        "Vic@Other.org" = "viewer"
        [[models]]
        name = "stub"
        base_url = "{url}"
        model = "stub-model"
        key_env = "{key_env}"
        concurrency = 2
        timeout = 30
        """


# ---- the policy -----------------------------------------------------------------------------


def test_the_table_lists_every_action():
    assert set(ACTIONS_IN_TABLE) == set(access.ACTIONS)


ACTIONS_IN_TABLE = sorted(ALLOWED["maintainer"])


@pytest.mark.parametrize(("role", "action"), list(itertools.product(access.ROLES, ACTIONS_IN_TABLE)))
def test_may_follows_the_role_table(role, action):
    who = access.Identity("someone@example.com", role, "oidc")
    assert access.may(who, action) is (action in ALLOWED[role])
    if action in ALLOWED[role]:
        assert access.require(who, action) is who
    else:
        with pytest.raises(Forbidden) as refused:
            access.require(who, action)
        said = str(refused.value)
        assert "someone@example.com" in said and role in said and action.replace("_", " ") in said
        assert "maintainers" in said


def test_an_unknown_action_or_role_is_a_bug_not_a_refusal():
    with pytest.raises(ValueError, match="unknown action"):
        access.may(access.personal_identity("ada"), "delete_everything")
    with pytest.raises(ValueError, match="unknown role"):
        access.may(access.Identity("x", "admin", "oidc"), "read")


def test_personal_mode_is_one_maintainer_named_by_the_sidebar_or_the_os():
    assert access.personal_identity(" ada ") == access.Identity("ada", "maintainer", "os")
    assert access.personal_identity("").id == access.personal_identity(None).id != ""
    assert access.personal_identity("ada").owner == "os:ada"


@pytest.mark.parametrize(
    ("email", "role"),
    [
        ("ana@example.com", "maintainer"),  # her own entry beats her domain's
        ("ANA@Example.com ", "maintainer"),
        ("bob@example.com", "reviewer"),  # the domain's
        ("vic@other.org", "viewer"),  # listed in mixed case, compared in lower case
        ("eve@other.org", None),  # another at that domain: not listed
        ("mallory@example.com.evil.org", None),  # a domain that only starts like a listed one
        ("example.com", None),
        ("", None),
        (None, None),
    ],
)
def test_role_of_an_exact_address_beats_its_domain(operator, monkeypatch, email, role):
    monkeypatch.setenv("TEAM_KEY", TEAM_KEY)
    assert operator(team_file()).role_of(email) == role


def test_login_identity_records_the_email_else_nobody(operator, monkeypatch):
    monkeypatch.setenv("TEAM_KEY", TEAM_KEY)
    operator(team_file())
    ana = access.login_identity("Ana@Example.com")
    assert (
        ana == access.Identity("ana@example.com", "maintainer", "oidc")
        and ana.owner == "oidc:ana@example.com"
    )
    assert access.login_identity("eve@nowhere.org") is None
    assert access.login_identity(None) is None  # no e-mail: no role can be looked up
    for unverified in (False, "false", "False"):  # some providers send the claim as a string
        assert access.login_identity("ana@example.com", email_verified=unverified) is None
    for verified in (True, "true", None):  # None: the provider sends no such claim
        assert access.login_identity("ana@example.com", email_verified=verified) == ana


@pytest.mark.parametrize(
    ("auth", "missing"),
    [
        ({}, list(access.LOGIN_FIELDS)),
        ({name: "x" for name in access.LOGIN_FIELDS}, []),
        ({**{name: "x" for name in access.LOGIN_FIELDS}, "cookie_secret": " "}, ["cookie_secret"]),
    ],
)
def test_missing_login_names_the_auth_fields_to_fill(auth, missing):
    assert access.missing_login(auth) == missing


# ---- the operator's file --------------------------------------------------------------------


def test_no_file_means_personal_mode_with_the_default_allowlist(tmp_path, monkeypatch):
    monkeypatch.delenv("RNR_CONFIG", raising=False)
    monkeypatch.setenv("RNR_HOME", str(tmp_path))
    cfg = access.reload()
    assert (cfg.team, cfg.key_envs, cfg.export_root, cfg.path) == (
        False,
        ("OPENAI_API_KEY",),
        tmp_path / "exports",
        None,
    )
    (tmp_path / "config.toml").write_text('key_envs = ["OPENAI_API_KEY", "GROQ_API_KEY"]\n')
    assert access.reload().key_envs == ("OPENAI_API_KEY", "GROQ_API_KEY")  # RNR_HOME/config.toml
    monkeypatch.undo()
    access.reload()


def test_a_team_file_loads_every_field(operator, monkeypatch):
    monkeypatch.setenv("TEAM_KEY", TEAM_KEY)
    cfg = operator(team_file())
    assert cfg.team and str(cfg.export_root) == "/srv/rnr/exports"
    assert cfg.models == {
        "stub": access.TeamModel("stub", "http://127.0.0.1:9/v1", "stub-model", "TEAM_KEY", 2, 30.0)
    }
    assert cfg.readable_key_envs() == ("OPENAI_API_KEY", "TEAM_KEY")


MODEL = '[[models]]\nname = "m"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
TEAM = 'mode = "team"\n[roles]\n"a@b.org" = "viewer"\n'


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mode = 'team'\nmodels = []\nsurprise = 1\n", "surprise is not a setting"),
        ("mode = 'teams'\n", "mode is 'teams'; give one of 'personal', 'team'"),
        (
            '[roles]\n"a@b.org" = "admin"\n',
            "roles.'a@b.org' has unknown role 'admin'; the roles are viewer, reviewer",
        ),
        ('[roles]\n"a@b.org" = 3\n', "roles.'a@b.org' has unknown role 3"),
        ('[roles]\n"nobody" = "viewer"\n', "roles.'nobody' is neither an e-mail address"),
        ('[roles]\n"A@b.org" = "viewer"\n"a@B.org" = "reviewer"\n', "roles.'a@B.org' is listed twice"),
        ('[[models]]\nname = "m"\nmodel = "m"\n', "models[1] ('m') has no base_url"),
        ('[[models]]\nbase_url = "http://h/v1"\nmodel = "m"\n', "models[1] has no name"),
        ('[[models]]\nname = "m"\nbase_url = "http://h/v1"\n', "models[1] ('m') has no model"),
        (MODEL + MODEL, "models[2] ('m') repeats a name"),
        (
            MODEL + 'key_env = "RNR_TEST_UNSET_VAR"\n',
            "models[1] ('m') key_env names RNR_TEST_UNSET_VAR, which is not set",
        ),
        (
            MODEL + 'key_env = "not a name"\n',
            "models[1] ('m') key_env is not the name of an environment variable",
        ),
        (MODEL + "concurrency = 0\n", "models[1] ('m') concurrency must be a whole number of at least 1"),
        (MODEL + "concurrency = true\n", "models[1] ('m') concurrency must be a whole number"),
        (MODEL + "timeout = -1\n", "models[1] ('m') timeout must be a number of seconds above 0"),
        (MODEL + 'timeout = "fast"\n', "models[1] ('m') timeout must be a number of seconds above 0"),
        (MODEL + 'api_key = "sk-abc"\n', "models[1] ('m') has unknown key 'api_key'"),
        (MODEL.replace("http://127.0.0.1:9/v1", "file:///etc"), "models[1] ('m') has base_url 'file:///etc'"),
        (MODEL.replace("http://", "http://u:pw@"), "models[1] ('m') has a credential in its base_url"),
        (
            'key_envs = ["OPENAI_API_KEY", "sk-live-key"]\n',
            "key_envs[2] is not the name of an environment variable",
        ),
        ('key_envs = "OPENAI_API_KEY"\n', "key_envs must be a list"),
        ('export_root = "relative/dir"\n', "export_root must be an absolute folder path"),
        ('mode = "team"\n' + MODEL, "roles is empty: team mode needs at least a [roles] entry"),
        (TEAM, "models is empty: team mode needs at least a [[models]] entry"),
        ("mode = \n", "is not valid TOML"),
    ],
)
def test_a_bad_entry_is_refused_at_load_naming_the_file_and_the_entry(operator, monkeypatch, text, says):
    monkeypatch.delenv("RNR_TEST_UNSET_VAR", raising=False)
    with pytest.raises(SettingError) as refused:
        operator(text)
    said = str(refused.value)
    assert said.startswith(os.environ["RNR_CONFIG"]) and says in said, said
    assert "sk-live-key" not in said  # a key pasted where a name belongs is not repeated


def test_a_missing_file_named_by_rnr_config_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("RNR_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(SettingError, match="nope.toml does not exist"):
        access.reload()
    monkeypatch.undo()
    access.reload()


def rnr_config_check(tmp_path, text: str, **env):
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(text))
    env = {**os.environ, "RNR_CONFIG": str(path), "RNR_HOME": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, "-m", "rnr_core.cli", "config", "check", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def test_rnr_config_check_shows_the_team_without_key_values(tmp_path):
    done = rnr_config_check(tmp_path, team_file(), TEAM_KEY=TEAM_KEY)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["mode"] == "team" and shown["roles"]["@example.com"] == "reviewer"
    assert [m["name"] for m in shown["models"]] == ["stub"] and shown["models"][0]["key_env"] == "TEAM_KEY"
    assert TEAM_KEY not in done.stdout + done.stderr


def test_rnr_config_check_exits_2_naming_the_bad_entry(tmp_path):
    done = rnr_config_check(tmp_path, team_file().replace('"viewer"', '"boss"'), TEAM_KEY=TEAM_KEY)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "config.toml: roles.'Vic@Other.org' has unknown role 'boss'" in done.stderr


# ---- the key-variable allowlist -------------------------------------------------------------


@pytest.mark.parametrize("surface", ["preference", "model", "connection"])
def test_a_variable_off_the_allowlist_is_refused_everywhere_without_naming_it(operator, surface):
    operator('key_envs = ["OPENAI_API_KEY"]\n')
    refuse = {
        "preference": lambda: preferences.check("key_env", "DATABASE_PASSWORD"),
        "model": lambda: openai_compat.OpenAICompatModel(
            "m", "http://127.0.0.1:9/v1", key_env="DATABASE_PASSWORD"
        ),
        "connection": lambda: asyncio.run(check_connection(endpoint_settings("http://127.0.0.1:9/v1"))),
    }[surface]
    if surface == "connection":
        said = refuse()["error"]
    else:
        with pytest.raises(SettingError) as refused:
            refuse()
        said = str(refused.value)
    assert "OPENAI_API_KEY" in said and "key_envs" in said and os.environ["RNR_CONFIG"] in said
    assert "DATABASE_PASSWORD" not in said


def endpoint_settings(url: str, key_env: str = "DATABASE_PASSWORD") -> ModelSettings:
    return ModelSettings(base_url=url, model="stub", key_env=key_env, endpoint=True)


def test_the_connection_check_never_sends_a_variable_off_the_allowlist(operator, monkeypatch):
    monkeypatch.setenv("DATABASE_PASSWORD", SECRET)
    monkeypatch.setenv("ALLOWED_KEY", SECRET[::-1])
    operator('key_envs = ["ALLOWED_KEY"]\n')
    with StubServer(default=("ok", "OK")) as stub:
        refused = asyncio.run(check_connection(endpoint_settings(stub.url)))
        allowed = asyncio.run(check_connection(endpoint_settings(stub.url, "ALLOWED_KEY")))
    assert not refused["ok"] and SECRET not in json.dumps(refused)
    assert allowed["ok"] and allowed["key_set"]
    assert stub.auth == [f"Bearer {SECRET[::-1]}"]  # only the allowed variable's value ever arrived


def test_the_scrubber_masks_every_allowed_and_team_key(operator, monkeypatch):
    monkeypatch.setenv("TEAM_KEY", TEAM_KEY)
    monkeypatch.setenv("EXTRA_KEY", SECRET)
    operator(team_file().replace('mode = "team"', 'mode = "team"\nkey_envs = ["EXTRA_KEY"]'))
    assert scrub(f"echo {SECRET} and {TEAM_KEY}") == f"echo {MASK} and {MASK}"


def test_the_default_key_variable_preference_is_the_first_allowed(operator):
    operator('key_envs = ["GROQ_API_KEY", "OPENAI_API_KEY"]\n')
    assert preferences.PREFERENCES["key_env"].default() == "GROQ_API_KEY"
    assert preferences.check("key_env", "GROQ_API_KEY") == "GROQ_API_KEY"


# ---- team models ----------------------------------------------------------------------------


def test_a_team_model_name_becomes_the_operators_settings(operator, monkeypatch):
    monkeypatch.setenv("TEAM_KEY", TEAM_KEY)
    operator(team_file())
    chosen = team_model_settings("stub")
    assert chosen == ModelSettings(
        base_url="http://127.0.0.1:9/v1",
        model="stub-model",
        key_env="TEAM_KEY",
        timeout=30.0,
        concurrency=2,
        endpoint=True,
        team="stub",
    )
    assert chosen.resolved_spec() == "openai:stub-model@http://127.0.0.1:9/v1"
    assert preferences.check("team_model", "stub") == "stub"
    for refuse in (lambda: team_model_settings("gpt-5"), lambda: preferences.check("team_model", "gpt-5")):
        with pytest.raises(
            SettingError, match="no team model 'gpt-5': pick one of the operator's models \\(stub\\)"
        ):
            refuse()


@pytest.mark.parametrize(
    "typed",
    [
        ModelSettings(spec="llamacpp:/etc/passwd"),
        ModelSettings(spec="hf:/srv/private"),
        ModelSettings(base_url="http://169.254.169.254/v1", model="m", key_env="TEAM_KEY", endpoint=True),
    ],
)
def test_team_mode_runs_only_the_operators_models(operator, monkeypatch, typed):
    monkeypatch.setenv("TEAM_KEY", TEAM_KEY)
    operator(team_file())
    with pytest.raises(SettingError, match="only the operator's models"):
        typed.resolved_spec()
    result = asyncio.run(check_connection(typed))
    assert not result["ok"] and "only the operator's models" in result["error"]


def test_a_team_run_uses_the_operators_key_and_records_no_credential(operator, monkeypatch, tmp_path):
    monkeypatch.setenv("TEAM_KEY", TEAM_KEY)
    monkeypatch.setenv("VISITOR_KEY", SECRET)
    answer = lambda body: ("ok", GOOD_SP if "response_format" in body else "Fine.")  # noqa: E731
    with StubServer(default=answer) as stub:
        operator(team_file(stub.url).replace('mode = "team"', 'mode = "team"\nkey_envs = ["VISITOR_KEY"]'))
        # A visitor's fields beside the name change nothing: the operator's URL, model and key are used.
        visitor = ModelSettings(
            team="stub", base_url="http://127.0.0.1:1/v1", key_env="VISITOR_KEY", endpoint=True
        )
        model = use_model(visitor)
        assert (model.key_env, model.base_url, model.concurrency) == ("TEAM_KEY", stub.url, 2)
        db = tmp_path / "team.duckdb"
        with Store(str(db)) as store:
            ingest_questions(store, tmp_path, 3)
            from rnr_core.generate.pipeline import execute_run, start_run

            run_id = start_run(store, one_group(model=model.spec))
            assert asyncio.run(execute_run(store, run_id))["status"] == "completed"
            assert store.get_run(run_id)["model"] == f"openai:stub-model@{stub.url}"
    assert stub.auth and set(stub.auth) == {f"Bearer {TEAM_KEY}"}
    assert TEAM_KEY.encode() not in db.read_bytes() and SECRET.encode() not in db.read_bytes()
    # After a restart the recorded spec resolves to the operator's key variable and limits again.
    again = openai_compat._make(f"stub-model@{stub.url}")
    assert (again.key_env, again.concurrency, again.timeout) == ("TEAM_KEY", 2, 30.0)


# ---- the export root ------------------------------------------------------------------------


@pytest.fixture
def export_root(operator, monkeypatch, tmp_path):
    monkeypatch.setenv("TEAM_KEY", TEAM_KEY)
    root = tmp_path / "exports"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / "escape").symlink_to(tmp_path / "elsewhere")
    operator(team_file().replace("/srv/rnr/exports", str(root)))
    return root


@pytest.mark.parametrize(
    "name",
    [
        "",
        "  ",
        ".",
        "..",
        "../x",
        "a/../../x",
        "/etc",
        "/tmp/x",
        "a\\..\\x",
        "a\x00b",
        "a\nb",
        "escape",
        "escape/x",
    ],
)
def test_team_exports_stay_under_the_root(export_root, name):
    with pytest.raises(SettingError) as refused:
        access.export_dir(name)
    assert "export" in str(refused.value).lower()


@pytest.mark.parametrize("name", ["2024-05-01-train", "curated v2", "team/run-1"])
def test_a_plain_name_is_a_folder_under_the_root(export_root, name):
    assert access.export_dir(name) == export_root.resolve() / name


def test_personal_exports_go_where_typed(operator, tmp_path):
    operator("")
    assert access.export_dir(str(tmp_path / "../anywhere")) == tmp_path / "../anywhere"
