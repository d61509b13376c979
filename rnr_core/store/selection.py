"""The samples an export selects, each with its pass/fail/unjudged outcome decided in SQL, and the
aggregates its split plan and leakage check read: groups per system prompt, instruction texts, vectors."""

import json
from contextlib import contextmanager

import pyarrow as pa

from rnr_core.stats import FREE_FORM
from rnr_core.store.effective import judge_rank

BATCH = 5000
_LAST_ID = 2**63 - 1

# arg_min picks the deciding verdict: the highest-ranked judge first, then the latest.
_RANK = f"-({judge_rank('v.judge')})"
_PROMPT = "coalesce(s.edited_prompt, p.text)"
_TURNS = """'[{"role": "VARCHAR", "content": "VARCHAR"}]'"""
# The user turns, one per line: the instruction that the leakage check embeds (rnr_core.embeddings
# words the same text in Python).
_USER_TEXT = (
    f"array_to_string(list_transform(list_filter(from_json(s.messages, {_TURNS}), "
    "lambda m: m.role = 'user'), lambda m: m.content), chr(10))"
)
# Every query below reads these columns of each selected sample.
_BASE = f"md5({_PROMPT}) AS group_key, {_USER_TEXT} AS text"
_KEPT = "($include_failing OR outcome = 'pass')"
FREE = f"'{FREE_FORM}'"


# A reviewer's edit of the rules, when there is one, replaces the prompt's rules for that sample.
def _effective(field: str) -> str:
    """SQL for the list of this field over a sample's effective rules."""
    edited = f"json_extract_string(s.edited_rules, '$[*].{field}')"
    return f"CASE WHEN s.edited_rules IS NULL THEN p.rule_{field}s ELSE {edited} END"


def _outcomes_sql(columns: str) -> str:
    """Samples in an id range that pass the filters, with `columns` and their outcome.

    Mirrors rnr_core.stats: a rule's deciding verdict is the pass/fail of the highest-precedence judge,
    latest first (ties by judge name); a sample passes when every rule does, fails when any rule fails,
    and is unjudged otherwise. Stale verdicts (from before an edit) decide nothing.
    """
    return f"""
    WITH prompts AS (
        SELECT id, text, model, template, json_extract_string(rules, '$[*].id') AS rule_ids,
               json_extract_string(rules, '$[*].category') AS rule_categorys,
               json_extract_string(rules, '$[*].kind') AS rule_kinds
        FROM system_prompts),
    picked AS (
        SELECT s.id, {_BASE}, {_effective("category")} AS categories, {columns},
               {_effective("id")} AS rule_ids
        FROM samples s JOIN prompts p ON p.id = s.system_prompt_id
        JOIN runs r ON r.id = s.run_id JOIN datasets d ON d.id = r.dataset_id
        WHERE s.id BETWEEN $lo AND $hi AND list_contains($statuses, s.status)
          AND ($run_id IS NULL OR s.run_id = $run_id) AND ($dataset IS NULL OR d.name = $dataset)
          AND ($categories IS NULL OR list_has_any({_effective("category")}, $categories))),
    deciding AS (
        SELECT v.sample_id, v.rule_id,
               arg_min(v.verdict,
                   struct_pack(rank := {_RANK}, age := -epoch_us(v.created_at), judge := v.judge)) AS verdict
        FROM verdicts v
        WHERE v.sample_id BETWEEN $lo AND $hi AND v.sample_id IN (SELECT id FROM picked)
          AND v.verdict IN ('pass', 'fail')
          AND NOT coalesce(v.stale, false)
        GROUP BY v.sample_id, v.rule_id),
    judged AS (
        SELECT sample_id AS id, list(rule_id) FILTER (WHERE verdict = 'pass') AS passed,
               list(rule_id) FILTER (WHERE verdict = 'fail') AS failed
        FROM deciding GROUP BY sample_id)
    SELECT picked.*, list_intersect(coalesce(j.failed, []), rule_ids) AS failed_rules,
           CASE WHEN list_has_any(j.failed, rule_ids) THEN 'fail'
                WHEN len(rule_ids) > 0 AND list_has_all(j.passed, rule_ids) THEN 'pass'
                ELSE 'unjudged' END AS outcome
    FROM picked LEFT JOIN judged j USING (id)
    """


# A list as one string (fetching Python lists costs more than the rest of a row): items joined by US.
SEP = "\x1f"


def _joined(items: str) -> str:
    return f"array_to_string({items}, chr(31))"


_KINDS = f"list_sort(list_distinct(list_transform(rule_kinds, lambda k: coalesce(k, {FREE}))))"


def _batch_sql(review: bool, text: bool) -> str:
    """Each selected sample: its turns, response and prompt, group key, outcome, rule categories and kinds
    (joined by SEP), models and templates, provenance; with `review`, why it was rejected and its failed
    rules; with `text`, the hash of its instruction."""
    columns = (
        f"s.messages, s.response, {_PROMPT} AS system_prompt, {_effective('kind')} AS rule_kinds, s.model, "
        "s.template, p.model AS prompt_model, p.template AS prompt_template, s.reject_reason, "
        "s.review_note, s.provenance"
    )
    wanted = [
        "id, messages, response, system_prompt, group_key, outcome",
        f"{_joined('list_sort(list_distinct(categories))')} AS categories",
        f"{_joined(_KINDS)} AS kinds",
        "model, template, prompt_model, prompt_template, provenance",
    ]
    wanted += ["reject_reason, review_note, failed_rules"] if review else []
    wanted += ["md5(text) AS text_hash"] if text else []
    return f"SELECT {', '.join(wanted)} FROM ({_outcomes_sql(columns)}) ORDER BY id"


_ALL = _outcomes_sql("NULL AS unused")
_TALLY_SQL = (
    "SELECT group_key, list_sort(list_distinct(categories)) AS cats, outcome, count(*) AS n "
    f"FROM ({_ALL}) GROUP BY ALL"
)
_MISSING_SQL = f"""
    SELECT text_hash, any_value(text) AS text FROM (SELECT md5(text) AS text_hash, text FROM ({_ALL})
        WHERE {_KEPT})
    WHERE text_hash NOT IN (SELECT text_hash FROM embeddings WHERE model = $model)
    GROUP BY text_hash"""
_PLACED = f"SELECT t.*, g.split FROM ({_ALL}) t JOIN _export_groups g USING (group_key) WHERE {_KEPT}"
_HELD_OUT_SQL = f"""
    SELECT split, group_key, md5(text) AS text_hash, list_sort(list_distinct(categories)) AS cats,
           count(*) AS n, any_value(text) AS text
    FROM ({_PLACED}) WHERE split <> 'train' GROUP BY ALL"""
_SPLIT_VECTORS_SQL = f"""
    SELECT text_hash, vector FROM embeddings
    WHERE model = $model AND text_hash IN (SELECT md5(text) FROM ({_PLACED}) WHERE split = $split)"""
_TEXTS_SQL = f"""
    SELECT md5(text) AS text_hash, any_value(text) AS text FROM ({_ALL})
    WHERE list_contains($hashes, md5(text)) GROUP BY 1"""


def _params(statuses, run_id, dataset, categories) -> dict:
    return {
        "statuses": list(statuses),
        "run_id": run_id,
        "dataset": dataset,
        "categories": list(categories) if categories else None,
    }


def _everywhere(selection: dict) -> dict:
    """Query parameters for a selection over every id."""
    return {**_params(**selection), "lo": 0, "hi": _LAST_ID}


class SelectionQueries:
    def selected_batches(
        self,
        statuses,
        run_id=None,
        dataset=None,
        categories=None,
        batch: int | None = None,
        progress=None,
        review: bool = False,
        text: bool = False,
    ):
        """Yield the selected samples in id order, one list per `batch` ids, so memory stays bounded.

        Every batch is read in one transaction, so all of them show the store as it was at the start:
        reviews and verdicts written meanwhile by others change none of them. Each sample has id,
        messages, response, the effective system_prompt, its group_key (md5 of that prompt), its outcome,
        its rules' categories and kinds (each one string, joined by SEP), model and templates and
        provenance; with `review` also reject_reason, review_note and failed_rules, with `text` the
        text_hash (md5 of its user turns). After the caller is done with each batch,
        `progress(scanned, total)` counts the store's samples looked at.
        """
        batch = batch or BATCH
        sql = _batch_sql(review, text)
        with self.transaction():
            # Samples per id range, counted once: empty ranges are skipped, and progress has a total.
            ranges = self.con.execute(
                "SELECT id // $batch AS b, count(*) FROM samples GROUP BY b ORDER BY b", {"batch": batch}
            ).fetchall()
            params, total, scanned = (
                _params(statuses, run_id, dataset, categories),
                sum(n for _, n in ranges),
                0,
            )
            if progress is not None:
                progress(0, total)
            for b, n in ranges:
                rows = self._rows(sql, {**params, "lo": b * batch, "hi": (b + 1) * batch - 1})
                for row in rows:
                    row["messages"] = json.loads(row["messages"])
                yield rows
                scanned += n
                if progress is not None:
                    progress(scanned, total)

    def selected_tally(self, statuses, run_id=None, dataset=None, categories=None) -> list[tuple]:
        """(group_key, sorted distinct categories, outcome, count) over the selected samples, in SQL."""
        params = _everywhere(_selection(statuses, run_id, dataset, categories))
        return self.con.execute(_TALLY_SQL, params).fetchall()

    def texts_to_embed(self, selection: dict, include_failing: bool, model: str, batch: int = 256):
        """(total, batches): how many distinct instructions of the kept samples have no vector for
        `model`, and a generator of lists of their (text_hash, text).

        The batches are read through a cursor of their own, so the caller may store vectors meanwhile.
        """
        params = {**_everywhere(selection), "include_failing": include_failing, "model": model}
        self.con.complete()
        missing = f"CREATE TEMP TABLE _to_embed AS {_MISSING_SQL}"
        view = self.for_thread()
        view.con.execute(missing, params)
        total = view.con.execute("SELECT count(*) FROM _to_embed").fetchall()[0][0]
        if not total:
            view.close()
            return 0, iter(())

        def batches():
            try:
                reader = view.con.sql("SELECT text_hash, text FROM _to_embed").to_arrow_reader(batch)
                for chunk in reader:
                    yield list(zip(chunk.column(0).to_pylist(), chunk.column(1).to_pylist()))
            finally:
                view.close()

        return total, batches()

    @contextmanager
    def placed_groups(self, assignment: dict[str, str]):
        """Within the block, the queries below see which split each group (by group_key) is placed in."""
        groups = pa.table(
            {
                "group_key": pa.array(list(assignment), pa.string()),
                "split": pa.array(list(assignment.values())),
            }
        )
        self.con.complete()  # a result left unread (a one-row fetch) blocks registering a table
        self.con.register("_export_groups", groups)
        try:
            yield
        finally:
            self.con.complete()
            self.con.unregister("_export_groups")

    def held_out_texts(self, selection: dict, include_failing: bool) -> list[dict]:
        """Inside `placed_groups`: the kept samples outside train, per (split, group, text): text_hash,
        cats, n and the text."""
        params = {**_everywhere(selection), "include_failing": include_failing}
        return self._rows(_HELD_OUT_SQL, params)

    def split_vectors(
        self, selection: dict, include_failing: bool, model: str, split: str, batch: int = 8192
    ):
        """Inside `placed_groups`: Arrow batches of (text_hash, vector) of the distinct instructions of
        one split's kept samples that have a stored vector. Drain it before the next query."""
        params = {
            **_everywhere(selection),
            "include_failing": include_failing,
            "model": model,
            "split": split,
        }
        self.con.complete()
        yield from self.con.sql(_SPLIT_VECTORS_SQL, params=params).to_arrow_reader(batch)

    def texts_of(self, selection: dict, hashes: list[str]) -> dict[str, str]:
        """The instruction text of each of a few text hashes among the selected samples."""
        params = {**_everywhere(selection), "hashes": list(hashes)}
        return dict(self.con.execute(_TEXTS_SQL, params).fetchall())


def _selection(statuses, run_id, dataset, categories) -> dict:
    return {"statuses": statuses, "run_id": run_id, "dataset": dataset, "categories": categories}
