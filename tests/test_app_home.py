"""Home's charts as the page draws them (AppTest): readable labels, rates as percentages, big counts."""

import json

from rnr_app import state
from tests.apptest import open_page


def charts(at) -> dict:
    """Each plotly chart's spec by its title."""
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return {s["layout"]["title"]["text"]: s for s in specs}


def test_pass_rates_are_horizontal_percentages_and_a_zero_rate_shows(app_db):
    _, ids = app_db
    for sample_id in ids.values():  # a person fails every sample's style rule: its pass rate is 0
        state.store().label_verdict(sample_id, "r2", "fail", "ada")
    at = open_page()
    assert not at.exception, at.exception
    rates = charts(at)["Pass rate by rule category"]
    bars, markers = rates["data"]
    assert bars["orientation"] == "h" and list(bars["y"]) == ["style", "language"]
    assert list(bars["x"]) == [0.0, 2 / 3]
    # the zero rate has a marker at 0 and a label; the interval is in the hover
    assert list(markers["x"]) == [0.0, 2 / 3] and markers["mode"] == "markers"
    assert [(a["y"], a["text"]) for a in rates["layout"]["annotations"]] == [
        ("style", "0%"),
        ("language", "67%"),
    ]
    assert "95% CI 0%–" in bars["hovertext"][0] and "0 of 3 rules judged passed" in bars["hovertext"][0]
    assert rates["layout"]["xaxis"]["tickformat"] == ".0%" and rates["layout"]["yaxis"]["automargin"]
    kinds = charts(at)["Pass rate by rule kind"]
    assert kinds["data"][0]["orientation"] == "h" and kinds["layout"]["yaxis"]["automargin"]


def test_counts_have_thousands_separators_and_time_is_bucketed(app_db):
    store = state.store()
    # 1,200 more samples of the fixture's first prompt, made over one hour (SQL: fast, and no verdicts)
    store.con.execute(
        "INSERT INTO samples (run_id, item_key, system_prompt_id, kind, messages, response, model, template, "
        "params, seed, created_at) SELECT 'run-fixture', 'bulk' || i, 1, 'instruction', '[]', 'r', 'm', 't', "
        "'{}', i, TIMESTAMP '2026-03-01 10:00' + to_seconds(i * 3) FROM range(1200) t(i)"
    )
    at = open_page()
    assert not at.exception, at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Samples"] == "1,203" and shown["Pending"] == "1,203"
    over_time = next(s for title, s in charts(at).items() if title.startswith("Samples generated per"))
    # the fixture's own samples were made now, so the span is long: not one bar for the hour of bulk
    assert over_time["layout"]["xaxis"]["title"]["text"].startswith("time (per ")
    assert all(t["xperiod"] for t in over_time["data"])
    assert "%{y:,}" in over_time["data"][0]["hovertemplate"]
    by_status = charts(at)["Samples by status"]
    assert by_status["layout"]["yaxis"]["tickformat"] == ","


def test_small_counts_get_whole_number_ticks():
    from rnr_app.home_charts import status_chart

    assert status_chart({"pending": 2, "accepted": 0, "rejected": 1}).layout.yaxis.dtick == 1
    assert status_chart({"pending": 2_000, "accepted": 0, "rejected": 1}).layout.yaxis.dtick is None
