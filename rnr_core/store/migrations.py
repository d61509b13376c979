"""Numbered schema migrations; each runs once, in one transaction with its record."""

from rnr_core.review import UNRECORDED
from rnr_core.store.derived import LABELLED_ONCE, refresh_audit_sql, refresh_outcomes_sql, reindex_sql

MIGRATIONS: list[tuple[int, str, list[str]]] = []


def migration(version: int, name: str):
    """Register a migration function returning its SQL statements."""

    def register(fn):
        MIGRATIONS.append((version, name, fn()))
        MIGRATIONS.sort(key=lambda m: m[0])
        return fn

    return register


@migration(1, "initial schema")
def _initial() -> list[str]:
    return [
        "CREATE SEQUENCE dataset_ids START 1",
        """CREATE TABLE datasets (
            id BIGINT PRIMARY KEY DEFAULT nextval('dataset_ids'),
            name VARCHAR NOT NULL UNIQUE,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        "CREATE SEQUENCE import_ids START 1",
        """CREATE TABLE imports (
            id BIGINT PRIMARY KEY DEFAULT nextval('import_ids'),
            dataset_id BIGINT NOT NULL,
            source VARCHAR NOT NULL,
            format VARCHAR NOT NULL,
            n_read INTEGER NOT NULL,
            n_added INTEGER NOT NULL,
            n_duplicates INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        "CREATE SEQUENCE instruction_ids START 1",
        """CREATE TABLE instructions (
            id BIGINT PRIMARY KEY DEFAULT nextval('instruction_ids'),
            dataset_id BIGINT NOT NULL,
            import_id BIGINT NOT NULL,
            line_no INTEGER NOT NULL,
            hash VARCHAR NOT NULL,
            messages VARCHAR NOT NULL,
            original VARCHAR NOT NULL)""",
        # No unique index on (dataset_id, hash): imports dedup in one transaction under DuckDB's
        # single-writer lock, and the index would double the cost of a large import.
        """CREATE TABLE runs (
            id VARCHAR PRIMARY KEY,
            dataset_id BIGINT NOT NULL,
            model VARCHAR NOT NULL,
            config VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            error VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        """CREATE TABLE run_items (
            run_id VARCHAR NOT NULL,
            item_key VARCHAR NOT NULL,
            stage VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            attempts INTEGER NOT NULL,
            error VARCHAR,
            raw_output VARCHAR,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (run_id, item_key))""",
        "CREATE SEQUENCE system_prompt_ids START 1",
        """CREATE TABLE system_prompts (
            id BIGINT PRIMARY KEY DEFAULT nextval('system_prompt_ids'),
            run_id VARCHAR NOT NULL,
            group_idx INTEGER NOT NULL,
            role VARCHAR NOT NULL,
            rules VARCHAR NOT NULL,
            text VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            template VARCHAR NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            UNIQUE (run_id, group_idx))""",
        "CREATE SEQUENCE sample_ids START 1",
        """CREATE TABLE samples (
            id BIGINT PRIMARY KEY DEFAULT nextval('sample_ids'),
            run_id VARCHAR NOT NULL,
            item_key VARCHAR NOT NULL,
            system_prompt_id BIGINT NOT NULL,
            instruction_id BIGINT,
            kind VARCHAR NOT NULL,
            target_rule VARCHAR,
            messages VARCHAR NOT NULL,
            response VARCHAR NOT NULL,
            status VARCHAR NOT NULL DEFAULT 'pending',
            model VARCHAR NOT NULL,
            template VARCHAR NOT NULL,
            params VARCHAR NOT NULL,
            seed BIGINT NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            UNIQUE (run_id, item_key))""",
        "CREATE SEQUENCE call_ids START 1",
        """CREATE TABLE llm_calls (
            id BIGINT PRIMARY KEY DEFAULT nextval('call_ids'),
            cache_key VARCHAR NOT NULL,
            run_id VARCHAR,
            model VARCHAR NOT NULL,
            request VARCHAR NOT NULL,
            response VARCHAR,
            status VARCHAR NOT NULL,
            error VARCHAR,
            prompt_tokens INTEGER,
            completion_tokens INTEGER,
            latency_ms DOUBLE,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        "CREATE INDEX llm_calls_key ON llm_calls (cache_key)",
    ]


@migration(2, "verdicts and generation attempts")
def _verdicts() -> list[str]:
    return [
        # One row per (sample, rule, judge): the checker, 'llm:<spec>' and 'human:<name>' side by side.
        """CREATE TABLE verdicts (
            sample_id BIGINT NOT NULL,
            rule_id VARCHAR NOT NULL,
            judge VARCHAR NOT NULL,
            verdict VARCHAR NOT NULL,
            rationale VARCHAR,
            raw_output VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (sample_id, rule_id, judge))""",
        # Every response tried for a sample during rejection sampling, with its checker verdicts.
        """CREATE TABLE attempts (
            sample_id BIGINT NOT NULL,
            attempt INTEGER NOT NULL,
            response VARCHAR NOT NULL,
            verdicts VARCHAR NOT NULL,
            passed BOOLEAN NOT NULL,
            kept BOOLEAN NOT NULL,
            seed BIGINT NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (sample_id, attempt))""",
    ]


@migration(3, "attempt log and judge template versions")
def _attempt_log() -> list[str]:
    return [
        "CREATE SEQUENCE attempt_ids START 1",
        # Every try of every LLM stage, failed ones with their reason and raw output.
        """CREATE TABLE llm_attempts (
            id BIGINT PRIMARY KEY DEFAULT nextval('attempt_ids'),
            scope VARCHAR NOT NULL,
            item_key VARCHAR NOT NULL,
            stage VARCHAR NOT NULL,
            attempt INTEGER NOT NULL,
            seed BIGINT,
            outcome VARCHAR NOT NULL,
            reason VARCHAR,
            error VARCHAR,
            raw_output VARCHAR,
            template VARCHAR,
            cached BOOLEAN,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        "CREATE INDEX llm_attempts_scope ON llm_attempts (scope, item_key)",
        # A verdict is reused only when it came from the same judge prompt template.
        "ALTER TABLE verdicts ADD COLUMN template VARCHAR",
    ]


@migration(4, "review: versions, edits, revisions, reasons and stale verdicts")
def _review() -> list[str]:
    return [
        # `version` grows with every edit, so two reviewers saving the same sample cannot both win.
        "ALTER TABLE samples ADD COLUMN version INTEGER DEFAULT 1",
        # A reviewer's edit of the role, rules or prompt applies to this sample only (NULL: as generated).
        "ALTER TABLE samples ADD COLUMN edited_role VARCHAR",
        "ALTER TABLE samples ADD COLUMN edited_rules VARCHAR",
        "ALTER TABLE samples ADD COLUMN edited_prompt VARCHAR",
        "ALTER TABLE samples ADD COLUMN reviewer VARCHAR",
        "ALTER TABLE samples ADD COLUMN reject_reason VARCHAR",
        "ALTER TABLE samples ADD COLUMN review_note VARCHAR",
        "ALTER TABLE samples ADD COLUMN reviewed_at TIMESTAMP",
        # Every saved state of a sample; revision 0 is the generated one, written at the first edit.
        """CREATE TABLE sample_revisions (
            sample_id BIGINT NOT NULL,
            revision INTEGER NOT NULL,
            author VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            role VARCHAR NOT NULL,
            rules VARCHAR NOT NULL,
            system_prompt VARCHAR NOT NULL,
            messages VARCHAR NOT NULL,
            response VARCHAR NOT NULL,
            applied BOOLEAN NOT NULL DEFAULT true,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (sample_id, revision))""",
        "CREATE SEQUENCE review_action_ids START 1",
        # Who did what to which sample, and why: accept, reject, edit, revert, label.
        """CREATE TABLE review_actions (
            id BIGINT PRIMARY KEY DEFAULT nextval('review_action_ids'),
            sample_id BIGINT NOT NULL,
            action VARCHAR NOT NULL,
            reviewer VARCHAR NOT NULL,
            reason VARCHAR,
            note VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        # An edit leaves earlier verdicts in place for reference but no longer deciding.
        "ALTER TABLE verdicts ADD COLUMN stale BOOLEAN DEFAULT false",
    ]


@migration(5, "review queue: rule kinds and categories, verdict flags")
def _review_queue() -> list[str]:
    return [
        # The kinds and categories of each prompt's rules, so queue filters need not parse JSON.
        """CREATE TABLE prompt_tags (
            system_prompt_id BIGINT PRIMARY KEY,
            kinds VARCHAR[] NOT NULL,
            categories VARCHAR[] NOT NULL)""",
        # The same for a sample whose rules a reviewer edited (NULL: the prompt's).
        "ALTER TABLE samples ADD COLUMN edited_kinds VARCHAR[]",
        "ALTER TABLE samples ADD COLUMN edited_categories VARCHAR[]",
        # Verdict flags of a sample, from its current (not stale) verdicts; kept by every verdict write.
        "ALTER TABLE samples ADD COLUMN verdict_failed BOOLEAN DEFAULT false",
        "ALTER TABLE samples ADD COLUMN verdict_unsure BOOLEAN DEFAULT false",
        "ALTER TABLE samples ADD COLUMN verdict_disagree BOOLEAN DEFAULT false",
        *reindex_sql(),
    ]


@migration(6, "judge audit: kept verdicts")
def _audit_queue() -> list[str]:
    return [
        # The verdicts the audit queue ranks by, kept by every verdict write so a page never reads them
        # all: open machine verdicts whose checker and LLM judge disagree (risk 0) or whose judge was
        # unsure (1), and current human labels (NULL), each with its rule's category and kind, and
        # whether it is a checker verdict an LLM verdict also covers (the queue then shows the LLM's).
        """CREATE TABLE audit_verdicts (
            sample_id BIGINT NOT NULL,
            rule_id VARCHAR NOT NULL,
            judge VARCHAR NOT NULL,
            risk TINYINT,
            covered BOOLEAN NOT NULL,
            category VARCHAR,
            kind VARCHAR NOT NULL)""",
        *refresh_audit_sql("true", LABELLED_ONCE),
    ]


@migration(7, "preferences")
def _preferences() -> list[str]:
    return [
        # What a person last chose in the app (reviewer name, model settings), restored on their next
        # visit. `owner` is who chose it: the OS user in personal mode, the login identity in team mode.
        # Values are JSON; credentials are refused before they get here.
        """CREATE TABLE preferences (
            owner VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            value VARCHAR NOT NULL,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (owner, name))""",
    ]


@migration(8, "home: kept rule outcomes")
def _home_outcomes() -> list[str]:
    return [
        # Per sample and (category, kind) of its current rules: rules with a deciding verdict (n) and how
        # many pass. Kept by every verdict write and edit, so Home sums these rows instead of deciding
        # every verdict of the store (seconds at a million samples) on each visit.
        """CREATE TABLE rule_outcomes (
            sample_id BIGINT NOT NULL,
            category VARCHAR,
            kind VARCHAR NOT NULL,
            passes INTEGER NOT NULL,
            n INTEGER NOT NULL)""",
        *refresh_outcomes_sql("true"),
    ]


@migration(9, "runs: the hint that goes with a run's error")
def _run_error_hint() -> list[str]:
    # A run's error is stored as what happened; the hint (rnr_core.hints) lets the CLI and the app
    # each say what to change in their own words.
    return ["ALTER TABLE runs ADD COLUMN error_hint VARCHAR"]


@migration(10, "several reviewers per item: labels per item, decisions, disputes")
def _several_reviewers() -> list[str]:
    return [
        # How many people must label each item of a task ('review' or 'audit'); no row: one.
        """CREATE TABLE tasks (
            kind VARCHAR PRIMARY KEY,
            labels_per_item INTEGER NOT NULL,
            set_by VARCHAR NOT NULL,
            set_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        # Each person's standing accept/reject of a sample (one per person), and an adjudicator's
        # decision on a disputed one. review_actions logs every action; this table answers "who has
        # decided what" with an index lookup instead of replaying the log.
        """CREATE TABLE review_decisions (
            sample_id BIGINT NOT NULL,
            reviewer VARCHAR NOT NULL,
            adjudicates BOOLEAN NOT NULL,
            decision VARCHAR NOT NULL,
            reason VARCHAR,
            note VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (sample_id, reviewer, adjudicates))""",
        # Kept by every decision: how many people decided the sample, and whether the people who
        # decided it disagree with no adjudication yet (the adjudicator's queue).
        "ALTER TABLE samples ADD COLUMN decisions INTEGER DEFAULT 0",
        "ALTER TABLE samples ADD COLUMN disputed BOOLEAN DEFAULT false",
        # Samples reviewed before this migration count as decided by the one reviewer who reviewed them,
        # UNRECORDED where none was recorded (the CLI set a status alone): decided all the same, so a
        # later decision at N > 1 meets theirs rather than starting the sample over.
        f"""INSERT INTO review_decisions
                (sample_id, reviewer, adjudicates, decision, reason, note, created_at)
            SELECT id, coalesce(reviewer, '{UNRECORDED}'), false,
                CASE status WHEN 'accepted' THEN 'accept' ELSE 'reject' END,
                reject_reason, review_note, coalesce(reviewed_at, updated_at)
            FROM samples WHERE status IN ('accepted', 'rejected')""",
        "UPDATE samples SET decisions = 1 WHERE status IN ('accepted', 'rejected')",
        # What an adjudication decided, and on which rule for an audit one (also kept for labels).
        "ALTER TABLE review_actions ADD COLUMN rule_id VARCHAR",
        "ALTER TABLE review_actions ADD COLUMN decision VARCHAR",
    ]


@migration(11, "runs: who started each")
def _run_starter() -> list[str]:
    # The login (team mode) or OS user who started a run, as every review action records its reviewer.
    return ["ALTER TABLE runs ADD COLUMN started_by VARCHAR"]


@migration(12, "benchmarks, evaluations and pairwise votes")
def _evaluation() -> list[str]:
    return [
        # A frozen benchmark: its items are copies, so editing a source sample never moves a number.
        "CREATE SEQUENCE benchmark_ids START 1",
        """CREATE TABLE benchmarks (
            id BIGINT PRIMARY KEY DEFAULT nextval('benchmark_ids'),
            name VARCHAR NOT NULL UNIQUE,
            source VARCHAR NOT NULL,
            content_hash VARCHAR NOT NULL,
            n_items INTEGER NOT NULL,
            created_by VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        # messages: the user-side turns (JSON list); rules: JSON list of {id, text, kind, kwargs, category}.
        """CREATE TABLE benchmark_items (
            benchmark_id BIGINT NOT NULL,
            item_key VARCHAR NOT NULL,
            idx INTEGER NOT NULL,
            system_prompt VARCHAR NOT NULL,
            messages VARCHAR NOT NULL,
            rules VARCHAR NOT NULL,
            PRIMARY KEY (benchmark_id, item_key))""",
        # One model on one benchmark with one judge and one set of sampling settings; the id is a hash
        # of those, so running the same evaluation again resumes it.
        """CREATE TABLE evals (
            id VARCHAR PRIMARY KEY,
            benchmark_id BIGINT NOT NULL,
            model VARCHAR NOT NULL,
            judge VARCHAR,
            params VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            error VARCHAR,
            started_by VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        # status: done, or failed (no usable reply: error and raw_output say why; retried on a rerun).
        """CREATE TABLE eval_responses (
            eval_id VARCHAR NOT NULL,
            item_key VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            response VARCHAR,
            error VARCHAR,
            raw_output VARCHAR,
            attempts INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (eval_id, item_key))""",
        # judge: 'checker' or 'llm:<spec>'; mode: 'strict' or 'loose' for checkers, '' for the LLM judge,
        # which also judges verifiable rules so that its agreement with code can be measured.
        """CREATE TABLE eval_verdicts (
            eval_id VARCHAR NOT NULL,
            item_key VARCHAR NOT NULL,
            rule_id VARCHAR NOT NULL,
            judge VARCHAR NOT NULL,
            mode VARCHAR NOT NULL,
            verdict VARCHAR NOT NULL,
            rationale VARCHAR,
            template VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (eval_id, item_key, rule_id, judge, mode))""",
        # Human and LLM pairwise votes in one table. winner: a, b, tie or both_bad (people only);
        # status: ok, or failed (an LLM reply that never parsed: kept with its raw output, never a tie).
        # A vote on an ad-hoc prompt has no benchmark; `item` then holds its system prompt and turns.
        "CREATE SEQUENCE vote_ids START 1",
        """CREATE TABLE votes (
            id BIGINT PRIMARY KEY DEFAULT nextval('vote_ids'),
            benchmark_id BIGINT,
            item_key VARCHAR NOT NULL,
            item VARCHAR,
            model_a VARCHAR NOT NULL,
            model_b VARCHAR NOT NULL,
            response_a VARCHAR,
            response_b VARCHAR,
            winner VARCHAR,
            voter VARCHAR NOT NULL,
            voter_kind VARCHAR NOT NULL,
            blind BOOLEAN NOT NULL,
            reason VARCHAR,
            detail VARCHAR,
            status VARCHAR NOT NULL,
            error VARCHAR,
            raw_output VARCHAR,
            template VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        "CREATE INDEX votes_benchmark ON votes (benchmark_id)",
    ]


@migration(13, "the eval judge's raw output")
def _eval_judge_raw() -> list[str]:
    # An eval judge reply that never parsed is stored as an 'unknown' verdict (its error in rationale);
    # its raw text is kept too, so judge failures can be read and counted, not only the answers'.
    return ["ALTER TABLE eval_verdicts ADD COLUMN raw_output VARCHAR"]


@migration(14, "instruction embeddings")
def _embeddings() -> list[str]:
    # One vector per instruction text and embedding model, computed once: the leakage check of every
    # later export reads them instead of running the model again.
    return [
        """CREATE TABLE embeddings (
            text_hash VARCHAR NOT NULL,
            model VARCHAR NOT NULL,
            vector FLOAT[384] NOT NULL,
            created_at TIMESTAMP DEFAULT current_timestamp,
            PRIMARY KEY (text_hash, model))"""
    ]


@migration(15, "repairs: where a sample's response came from and what was done to it")
def _provenance() -> list[str]:
    return [
        # JSON {source, revisions, failed_kinds, revised_kinds, fixes}; NULL: generated, untouched.
        "ALTER TABLE samples ADD COLUMN provenance VARCHAR",
        # The revision round that asked for a try; NULL for a sampled one.
        "ALTER TABLE attempts ADD COLUMN revision INTEGER",
    ]


@migration(16, "fine-tunes and their training loss")
def _fine_tunes() -> list[str]:
    # A fine-tune is registered by name when training starts (status training), so the app can list
    # it and its loss while it runs; spec is `hf:<absolute output dir>`, settings its training flags.
    return [
        """CREATE TABLE fine_tunes (
            name VARCHAR PRIMARY KEY,
            spec VARCHAR NOT NULL,
            base VARCHAR NOT NULL,
            data VARCHAR NOT NULL,
            settings VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            error VARCHAR,
            job VARCHAR,
            created_by VARCHAR,
            created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            updated_at TIMESTAMP NOT NULL DEFAULT current_timestamp)""",
        """CREATE TABLE train_log (
            name VARCHAR NOT NULL,
            step INTEGER NOT NULL,
            epoch DOUBLE,
            loss DOUBLE,
            learning_rate DOUBLE,
            logged_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (name, step))""",
    ]
