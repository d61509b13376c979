"""The Generate page's run settings: widgets in, a RunConfig out."""

import streamlit as st

from rnr_app import widgets
from rnr_app.widgets import esc
from rnr_core.errors import RnrError
from rnr_core.generate import RunConfig
from rnr_core.generate.plan import GATE_CHOICES, MODES, resolve_gate
from rnr_core.models.connection import use_model

GATE_HELP = (
    "Retries system prompts unfit to train on: placeholders, '...', a vague role, repeated or "
    "contradicting rules. Auto is on for every model except the small embedded one ('local'), "
    "whose system prompts almost never pass; On and Off apply to any model."
)
MODE_LABELS = {"generate": "Model answers", "recycle": "Recycle reference answers"}
MODE_HELP = (
    "Model answers: the model writes system prompts and responses. Recycle: each instruction's "
    "reference answer from the dataset (Alpaca 'output', a chat's assistant reply) is edited to follow "
    "drawn checkable rules, under a role and those rules; no model is called, and instructions "
    "without a reference answer are skipped and counted."
)
REVISION_HELP = (
    "A response that still breaks a checkable rule after its retries goes back to the model with "
    "the rules it broke, asking for a revision that keeps every rule; each round is one more try."
)
FIXER_HELP = (
    "After revision, rules that still fail and have an exact mechanical fix (lowercase, capitals, "
    "quotes, end phrase, title, postscript, keywords, bullets, no commas) are fixed in the text; "
    "each sample records what was fixed."
)


def settings_form(datasets: list[str], model_settings) -> RunConfig | None:
    """The run settings form; a RunConfig once Start is pressed, else None."""
    try:
        spec, problem = use_model(model_settings).spec, None
    except RnrError as exc:  # shown here and raised again on Start; the form stays usable
        spec, problem = None, exc
    with st.form("run"):
        dataset = st.selectbox("Dataset", datasets, key="gen_dataset")
        c1, c2, c3 = st.columns(3)
        n = c1.number_input("Instructions (count)", 1, 100_000, 6, key="gen_n")
        k = c2.number_input("K (instructions per system prompt)", 1, 50, 3, key="gen_k")
        rules = c3.number_input("Rules per system prompt", 1, 12, 3, key="gen_rules")
        share = st.slider("Verifiable share of rules", 0.0, 1.0, 0.5, 0.1, key="gen_share")
        c1, c2, c3 = st.columns(3)
        tempting = c1.checkbox("Tempting turns", True, key="gen_tempting")
        out_of_scope = c2.checkbox("Out-of-scope turns", True, key="gen_oos")
        gate = c3.selectbox(
            "Quality gate", GATE_CHOICES, format_func=str.title, help=GATE_HELP, key="gen_gate"
        )
        c1, c2 = st.columns(2)
        retries = c1.number_input("Retries", 0, 10, 3, key="gen_retries")
        seed = c2.number_input("Seed (0 draws a fresh one)", 0, 2**31 - 1, 0, key="gen_seed")
        c1, c2, c3 = st.columns(3)
        mode = c1.selectbox("Responses", MODES, format_func=MODE_LABELS.get, help=MODE_HELP, key="gen_mode")
        revisions = c2.number_input(
            "Revision rounds", 0, 5, RunConfig.revisions, help=REVISION_HELP, key="gen_revisions"
        )
        fixers = c3.checkbox("Mechanical fixers", False, help=FIXER_HELP, key="gen_fixers")
        if spec:
            auto = "on" if resolve_gate("auto", spec) else "off: the embedded model is too small to pass it"
            st.caption(esc(f"Quality gate Auto for {spec}: {auto}."))
        else:
            widgets.error(problem)
        if not st.form_submit_button("Start generation", type="primary", key="gen_start"):
            return None
    if problem and mode != "recycle":  # recycling calls no model: the sidebar's may be unset
        raise problem
    return RunConfig(
        dataset=dataset,
        model=spec or RunConfig.model,
        n=n,
        k=k,
        rules=rules,
        verifiable_share=share,
        tempting=tempting,
        out_of_scope=out_of_scope,
        quality_gate=gate,
        max_retries=retries,
        seed=seed or None,
        mode=mode,
        revisions=revisions,
        fixers=fixers,
    )
