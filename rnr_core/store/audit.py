"""Human spot-checks of machine verdicts: the risk-ranked queue, labels, and label/verdict pairs."""

import json

from rnr_core.errors import LabelError, NotFound
from rnr_core.review import plural
from rnr_core.store.derived import PEOPLE, open_items
from rnr_core.store.effective import deciding, rules, rules_of_few, with_rules
from rnr_core.store.tasks import TaskQueries

HUMAN = "human:"
LABELS = ("pass", "fail")
# Risk tiers of a queue item, most urgent first.
RISKS = ("disagree", "unsure", "coverage")
# The coverage tier ranks blocks of this many consecutive sample ids, lowest first, so a page reads
# the verdicts of a block or two rather than ranking every verdict in the store.
BLOCK = 4096
# With a category filter, only samples whose prompt has a rule of that category, or with edited rules.
_IN_CATEGORY = """(edited_rules IS NOT NULL OR system_prompt_id IN (
    SELECT system_prompt_id FROM prompt_tags WHERE list_contains(categories, $category)))"""
# Coverage candidates are read in chunks: the first ends with the block of the FIRST_CHUNK-th
# candidate sample, and each next one holds GROWTH times as many, so a sparse filter takes few queries.
FIRST_CHUNK, GROWTH = 256, 8

_LABELLED = """labelled AS (
    SELECT DISTINCT sample_id, hash(rule_id) AS rule_h FROM verdicts
    WHERE judge LIKE 'human:%' AND stale IS NOT TRUE)"""

# Human labels per (category, kind) of the labelled rule; only the prompts of labelled samples are read.
_LABEL_COUNTS = f"""WITH {_LABELLED}, {rules_of_few("labelled")},
{with_rules("located", "labelled", "r.category, r.kind", samples="scope")}
SELECT category, kind, count(*) AS labels FROM located GROUP BY ALL"""

# The same from the kept labels (migration 6), which every verdict write keeps current: the queue's ranking.
_KEPT_LABEL_COUNTS = """SELECT category, kind, count(*) AS labels FROM (
    SELECT DISTINCT sample_id, rule_id, category, kind FROM audit_verdicts
    WHERE risk IS NULL AND judge LIKE 'human:%') GROUP BY ALL"""

# Each rule's human labels so far in its category and kind (given as parallel lists).
_LABELS_GIVEN = """labels_given AS (
    SELECT unnest($label_categories) AS category, unnest($label_kinds) AS kind, unnest($label_counts) AS n),
category_labels AS (SELECT category, sum(n) AS n FROM labels_given GROUP BY category),
kind_labels AS (SELECT kind, sum(n) AS n FROM labels_given GROUP BY kind)"""
_ORDER = "category_labels, kind_labels, sample_id, rule_id, judge"

# The next $limit keys of tier $tier (disagree or unsure) in queue order, from the kept risky items (open
# to everyone) less the rules $me labelled.
_RISKY = f"""WITH {_LABELS_GIVEN},
mine AS (SELECT sample_id, rule_id FROM audit_verdicts WHERE risk IS NULL AND judge = $me)
SELECT sample_id, rule_id, judge FROM (
    SELECT a.*, coalesce(c.n, 0) AS category_labels, coalesce(k.n, 0) AS kind_labels FROM audit_verdicts a
    ANTI JOIN mine m ON m.sample_id = a.sample_id AND m.rule_id = a.rule_id
    LEFT JOIN category_labels c USING (category) LEFT JOIN kind_labels k USING (kind)
    WHERE risk = $tier AND ($category IS NULL OR category = $category)
      AND CASE WHEN $judge IS NULL THEN NOT covered ELSE judge = $judge END)
ORDER BY {_ORDER} LIMIT $limit OFFSET $skip"""


def _ordered(rules: str) -> str:
    return f"""SELECT r.*, coalesce(c.n, 0) AS category_labels, coalesce(k.n, 0) AS kind_labels
        FROM {rules} r LEFT JOIN category_labels c USING (category) LEFT JOIN kind_labels k USING (kind)
        WHERE $category IS NULL OR r.category = $category"""


def _items(where: str) -> str:
    """Open items of tier $tier, computed from the verdicts and rules of the samples matching `where`
    with ids $lo to $hi, with the human labels so far in their rule's category and kind."""
    in_scope = "sample_id BETWEEN $lo AND $hi AND sample_id IN (SELECT id FROM scope)"
    return f"""WITH scope AS (
    SELECT id, system_prompt_id, edited_rules FROM samples WHERE id BETWEEN $lo AND $hi AND {where}),
{rules(prompts="id IN (SELECT system_prompt_id FROM scope)", samples="scope")},
{open_items(in_scope)}, {_LABELS_GIVEN},
ordered_rules AS ({_ordered("rules")}),
{with_rules("located", "items", "x.*, r.* EXCLUDE (owner, rule_id, rule_h, text)", "scope", "ordered_rules")}
SELECT sample_id, rule_id, category, kind, judge, verdict, checker_verdict, category_labels, kind_labels,
    {list(RISKS)}[$tier + 1] AS risk
FROM located WHERE CASE WHEN disagree THEN 0 WHEN unsure THEN 1 ELSE 2 END = $tier
    AND CASE WHEN $judge IS NULL THEN NOT covered ELSE judge = $judge END"""


# Whether a judge filter can match anything, so a filter that cannot is not walked through every block.
_JUDGED = """SELECT 1 FROM verdicts WHERE judge = ? AND (judge = 'checker' OR judge LIKE 'llm:%')
    AND stale IS NOT TRUE LIMIT 1"""
# The last candidate sample of a chunk: the $nth from $lo on, or the last one if there are fewer.
_CHUNK_END = "SELECT max(id) FROM (SELECT id FROM samples WHERE id >= $lo AND {where} ORDER BY id LIMIT $nth)"


def _coverage(where: str) -> str:
    """The first $limit coverage items among the candidate samples (`where`) with ids $lo to $hi."""
    return f"{_items(where)}\nORDER BY (sample_id - 1) // {BLOCK}, {_ORDER} LIMIT $limit"


# Every rule's deciding human verdict beside every current machine verdict on that rule: among the people's
# and adjudicators' verdicts, the one the store's one ranking picks (an adjudicator's where there is one).
_PAIRS = f"""WITH human AS (
    SELECT sample_id, hash(rule_id) AS rule_h, top.verdict AS human,
        substr(top.judge, strpos(top.judge, ':') + 1) AS reviewer
    FROM (SELECT sample_id, rule_id, {deciding("struct_pack(verdict, judge)")} AS top
        FROM verdicts WHERE {PEOPLE} AND stale IS NOT TRUE AND verdict IN ('pass', 'fail')
        GROUP BY sample_id, rule_id)),
pairs AS (
    SELECT h.*, v.rule_id, v.judge, v.verdict AS machine FROM human h JOIN verdicts v
        ON v.sample_id = h.sample_id AND hash(v.rule_id) = h.rule_h
    WHERE v.stale IS NOT TRUE AND v.verdict IN ('pass', 'fail')
      AND (v.judge = 'checker' OR v.judge LIKE 'llm:%') AND ($judge IS NULL OR v.judge = $judge)),
{rules_of_few("pairs")},
{with_rules("located", "pairs", "x.* EXCLUDE (rule_h), r.category, r.kind", samples="scope")}
SELECT sample_id, rule_id, judge, category, kind, human, machine, reviewer FROM located
ORDER BY judge, category, sample_id, rule_id"""


def _reasons(item: dict) -> list[str]:
    """Why an item is in the queue, in words."""
    reasons = []
    if item["risk"] == "disagree" and item["judge"] == "checker":
        reasons.append(f"the checker says {item['verdict']} and an LLM judge says otherwise")
    elif item["risk"] == "disagree":
        reasons.append(f"the checker says {item['checker_verdict']}, {item['judge']} says {item['verdict']}")
    if item["verdict"] not in LABELS:
        reasons.append(f"{item['judge']} gave no usable verdict ({item['verdict']})")
    reasons.append(
        f"{plural(item['category_labels'], 'human label')} so far in category {item['category']!r}"
    )
    reasons.append(f"{plural(item['kind_labels'], 'human label')} so far for kind {item['kind']!r}")
    return reasons


class AuditQueries(TaskQueries):
    def audit_queue(
        self,
        judge: str | None = None,
        category: str | None = None,
        limit: int = 20,
        offset: int = 0,
        reviewer: str | None = None,
    ) -> list[dict]:
        """Machine verdicts on rules `reviewer` has not labelled that fewer people have labelled than the
        audit asks per item (one by default: rules nobody labelled), riskiest first: checker and LLM judge
        disagree, then the judge was unsure or unparsable, each ranked by the fewest human labels in the
        rule's category, then kind, then by sample id; then every other verdict, by blocks of BLOCK sample ids
        (1-4096, 4097-8192, ...) lowest first, and within a block ranked the same way."""
        if limit <= 0 or (judge is not None and not self._one(_JUDGED, [judge])):
            return []
        given = self._rows(_KEPT_LABEL_COUNTS)
        params = {
            "judge": judge,
            "category": category,
            "n": self.labels_per_item("audit"),
            "me": HUMAN + reviewer.strip() if reviewer and reviewer.strip() else None,
            "label_categories": [g["category"] for g in given],
            "label_kinds": [g["kind"] for g in given],
            "label_counts": [g["labels"] for g in given],
        }
        items: list[dict] = []
        for tier, read in ((0, self._risky), (1, self._risky), (2, self._covering)):
            if len(items) < offset + limit:
                items += read(tier, params, offset + limit - len(items))
        items = items[offset:]
        details = self._audit_details(items)
        for item in items:
            item.update(details[(item["sample_id"], item["rule_id"], item["judge"])])
            item["reasons"] = _reasons(item)
        return items

    def _risky(self, tier: int, params: dict, need: int) -> list[dict]:
        """The first `need` items of a risk tier: keys from the kept risky items, rows from the verdicts
        (a key whose verdicts changed behind the store's back is skipped)."""
        items: list[dict] = []
        skip = 0
        ranked = {k: v for k, v in params.items() if k != "n"}  # the kept items are open at the audit's n
        while len(items) < need:
            ask = need - len(items)
            keys = [
                tuple(k.values())
                for k in self._rows(_RISKY, {**ranked, "tier": tier, "limit": ask, "skip": skip})
            ]
            if not keys:
                break
            ids = sorted({k[0] for k in keys})
            rows = self._rows(
                _items("id IN (SELECT unnest($ids))"),
                {**params, "tier": tier, "lo": ids[0], "hi": ids[-1], "ids": ids},
            )
            found = {(r["sample_id"], r["rule_id"], r["judge"]): r for r in rows}
            items += [found[k] for k in keys if k in found]
            skip += len(keys)
        return items

    def _covering(self, tier: int, params: dict, need: int) -> list[dict]:
        """The first `need` coverage items, read chunk by chunk of candidate samples in queue order."""
        where, bounds = "true", {}
        if params["category"] is not None:
            where, bounds = _IN_CATEGORY, {"category": params["category"]}
        items: list[dict] = []
        lo, nth = 1, FIRST_CHUNK
        while len(items) < need:
            last = self._scalar(_CHUNK_END.format(where=where), {**bounds, "lo": lo, "nth": nth})
            if last is None:
                break
            hi = (last - 1) // BLOCK * BLOCK + BLOCK  # the whole block, as a block is ranked as one
            chunk = {**params, "tier": tier, "lo": lo, "hi": hi, "limit": need - len(items)}
            items += self._rows(_coverage(where), chunk)
            lo, nth = hi + 1, nth * GROWTH
        return items

    def _audit_details(self, items: list[dict]) -> dict:
        """Rule text and the verdict's rationale and raw output for queue items, by (sample, rule, judge)."""
        if not items:
            return {}
        ids = sorted({i["sample_id"] for i in items})
        rules = {
            (r["sample_id"], rule["id"]): rule["text"]
            for r in self._rows(
                "SELECT s.id AS sample_id, coalesce(s.edited_rules, p.rules) AS rules FROM samples s "
                "JOIN system_prompts p ON p.id = s.system_prompt_id WHERE list_contains(?, s.id)",
                [ids],
            )
            for rule in json.loads(r["rules"])
        }
        verdicts = self._rows(
            "SELECT sample_id, rule_id, judge, rationale, raw_output FROM verdicts "
            "WHERE list_contains(?, sample_id) AND stale IS NOT TRUE",
            [ids],
        )
        return {
            (v["sample_id"], v["rule_id"], v["judge"]): {
                "rule_text": rules.get((v["sample_id"], v["rule_id"])),
                "rationale": v["rationale"],
                "raw_output": v["raw_output"],
            }
            for v in verdicts
        }

    def label_verdict(
        self, sample_id: int, rule_id: str, verdict: str, reviewer: str, note: str | None = None
    ) -> None:
        """Record a person's pass/fail on one rule of one sample, and log it as a review action."""
        reviewer = (reviewer or "").strip()
        if not reviewer:
            raise LabelError("A label needs the reviewer's name; enter it in the sidebar and label again.")
        if verdict not in LABELS:
            raise LabelError(f"A label is pass or fail, not {verdict!r}; nothing was written.")
        self._check_rule(sample_id, rule_id)

        def write() -> None:
            with self.transaction():
                self._write_label(sample_id, rule_id, verdict, (HUMAN, reviewer), "label", note)

        self.short_write(write, "this rule's labels")

    def _write_label(
        self, sample_id: int, rule_id: str, verdict: str, who: tuple[str, str], action: str, note: str | None
    ) -> None:
        """A person's pass/fail on a rule as a verdict (judge `<kind:><name>`), logged as a review action."""
        kind, name = who
        label = {"rule_id": rule_id, "verdict": verdict, "rationale": note}
        self.add_verdicts(sample_id, kind + name, [label])
        self.con.execute(
            "INSERT INTO review_actions (sample_id, action, reviewer, note, rule_id, decision) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [sample_id, action, name, note, rule_id, verdict],
        )

    def _check_rule(self, sample_id: int, rule_id: str) -> None:
        """NotFound unless the sample exists and `rule_id` is one of its current rules."""
        row = self._one(
            "SELECT coalesce(s.edited_rules, p.rules) AS rules FROM samples s "
            "JOIN system_prompts p ON p.id = s.system_prompt_id WHERE s.id = ?",
            [sample_id],
        )
        if row is None:
            raise NotFound(f"No sample with id {sample_id}; nothing was labelled. Reload the audit queue.")
        ids = [r["id"] for r in json.loads(row["rules"])]
        if rule_id not in ids:
            raise NotFound(
                f"Sample {sample_id} has no rule {rule_id!r} (its rules: {', '.join(ids) or 'none'}); "
                "nothing was labelled. Reload the audit queue."
            )

    def audit_pairs(self, judge: str | None = None) -> list[dict]:
        """(human label, machine verdict) on the same rule, for every current label and checker or LLM
        verdict: sample_id, rule_id, judge, category, kind, human, machine, reviewer."""
        return self._rows(_PAIRS, {"judge": judge})

    def audit_label_counts(self) -> dict:
        """Current human labels (labelled rules) per category and per kind of the rule."""
        counts: dict = {"category": {}, "kind": {}}
        for row in self._rows(_LABEL_COUNTS):
            for by in counts:
                counts[by][row[by]] = counts[by].get(row[by], 0) + row["labels"]
        return counts
