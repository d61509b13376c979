import json
import os
from pathlib import Path

import pytest

from rnr_core.errors import IngestError
from rnr_core.ingest import READERS, ingest_file, readers

ALPACA = [
    {"instruction": "Name three primes.", "input": "", "output": "2, 3, 5"},
    {"instruction": "Summarise this.", "input": "A long text.", "output": "Short."},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def messages_of(store, name):
    did = store.dataset_id(name)
    return list(store.instructions(store.instruction_ids(did)).values())


@pytest.mark.parametrize(
    "fmt_rows, expected",
    [
        (
            ALPACA,
            [
                [{"role": "user", "content": "Name three primes."}],
                [{"role": "user", "content": "Summarise this.\n\nA long text."}],
            ],
        ),
        (
            [
                {
                    "conversations": [
                        {"from": "human", "value": "Hi"},
                        {"from": "gpt", "value": "Hello"},
                        {"from": "human", "value": "Tell a joke"},
                    ]
                }
            ],
            [
                [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello"},
                    {"role": "user", "content": "Tell a joke"},
                ]
            ],
        ),
        (
            [{"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hey"}]}],
            [[{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hey"}]],
        ),
    ],
)
def test_jsonl_formats_are_detected_and_kept_whole(store, tmp_path, fmt_rows, expected):
    result = ingest_file(store, write_jsonl(tmp_path / "in.jsonl", fmt_rows), "d")
    assert result.added == len(expected) and result.duplicates == 0
    assert messages_of(store, "d") == expected


def test_alpaca_json_array_and_original_fields_kept(store, tmp_path):
    path = tmp_path / "alpaca.json"
    path.write_text(json.dumps(ALPACA, indent=2), encoding="utf-8")
    result = ingest_file(store, path, "d")
    assert (result.format, result.added) == ("alpaca", 2)
    original = store._scalar("SELECT original FROM instructions WHERE line_no = 2")
    assert json.loads(original)["output"] == "2, 3, 5"


def test_duplicates_are_counted_and_skipped_across_imports(store, tmp_path):
    rows = [*ALPACA, {"instruction": "  name THREE primes. ", "input": "", "output": "x"}]
    first = ingest_file(store, write_jsonl(tmp_path / "a.jsonl", rows), "d")
    assert (first.read, first.added, first.duplicates) == (3, 2, 1)
    second = ingest_file(store, write_jsonl(tmp_path / "b.jsonl", ALPACA), "d")
    assert (second.added, second.duplicates) == (0, 2)
    assert len(messages_of(store, "d")) == 2


def test_csv_with_named_column(store, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,question\n1,"Why is the sky blue, really?"\n2,"Say ""hi"""\n', encoding="utf-8")
    result = ingest_file(store, path, "d", column="question")
    assert result.added == 2
    assert [m[0]["content"] for m in messages_of(store, "d")] == ["Why is the sky blue, really?", 'Say "hi"']


def test_csv_without_column_names_the_columns(store, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,question\n1,Why?\n", encoding="utf-8")
    with pytest.raises(IngestError, match="--column.*question"):
        ingest_file(store, path, "d")


def test_parquet_with_named_column(store, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"prompt": ["One?", "Two?"], "n": [1, 2]}), path)
    assert ingest_file(store, path, "d").added == 2
    pq.write_table(pa.table({"prompt": ["Fine", ""]}), path)
    with pytest.raises(IngestError, match=r"t\.parquet:2: missing or empty field 'prompt'"):
        ingest_file(store, path, "e")


BAD_INPUTS = [
    ('{"instruction": "ok"}\n{"instruction": "broken"\n', r"bad\.jsonl:2: invalid JSON"),
    (
        '{"instruction": "ok"}\n\n{"input": "no instruction"}\n',
        r"bad\.jsonl:3: missing or empty field 'instruction'",
    ),
    ('{"instruction": "ok"}\n{"instruction": 42}\n', r"bad\.jsonl:2: field 'instruction' must be text"),
    ('{"instruction": "ok"}\n[1, 2]\n', r"bad\.jsonl:2: expected a JSON object"),
    (
        '{"messages": [{"role": "user", "content": "a"}]}\n{"messages": [{"role": "bot", "content": "b"}]}\n',
        r"bad\.jsonl:2: field 'messages': message 0 has role 'bot'",
    ),
    (
        '{"conversations": [{"from": "human", "value": "a"}]}\n{"conversations": []}\n',
        r"bad\.jsonl:2: missing or empty list 'conversations'",
    ),
    ("   \n\n", r"bad\.jsonl: the file is empty"),
    ('{"text": "what format?"}\n', r"bad\.jsonl: cannot tell the format.*keys: text"),
]


BAD_FILES = [
    (
        "arr.json",
        b'[\n  {"instruction": "a"},\n  {"instruction": "b"},\n  {"input": "c"}\n]\n',
        r"arr\.json:4: missing or empty field 'instruction'",
    ),
    (
        "latin.jsonl",
        b'{"instruction": "fine"}\n{"instruction": "caf\xe9"}\n',
        r"latin\.jsonl:2: not valid UTF-8",
    ),
    (
        "arr.json",
        b'[\n {"instruction": "a"}\n {"instruction": "b"}\n]',
        r"arr\.json:3: invalid JSON",
    ),  # no comma
    ("arr.json", b'[\n {"instruction": "a"},\n ,\n {"instruction": "b"}\n]', r"arr\.json:3: invalid JSON"),
    ("arr.json", b'[\n {"instruction": "a"}\n]\ntrailing', r"arr\.json:4: invalid JSON"),
    ("arr.json", b'[\n {"instruction": "a"},\n', r"arr\.json:3: invalid JSON"),  # never closed
    (
        "wide.csv",
        b'instruction,id\nfine,1\n"too, many",2,3\n',
        r"wide\.csv:3: 3 fields, but the header names 2",
    ),
    ("open.csv", b'instruction\nfine\n"never closed\nfine\nfine\n', r"open\.csv:3: a quoted field .* closed"),
    (
        "open2.csv",
        b'instruction,note\nfine,x\n"two\nlines","open\nrest\n',
        r"open2\.csv:4: a quoted field .* never closed",
    ),  # the row starts on line 3, the open quote on line 4
    ("junk.csv", b'instruction\nfine\n"a"b\n', r"junk\.csv:3: unreadable CSV"),
    (
        "deep.json",
        b'[\n {"instruction": "a"},\n ' + b"[" * 1000 + b"]" * 1000 + b"\n]",
        r"deep\.json:3: a value nested too deeply",
    ),
    ("head.csv", b"id,question\n", "columns: id, question"),
    ("bad.parquet", b"PAR1 this is not really parquet", r"bad\.parquet: not a readable Parquet file"),
]


@pytest.mark.parametrize("name, content, message", BAD_FILES)
def test_bad_files_name_file_and_line_and_write_nothing(store, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(IngestError, match=message):
        ingest_file(store, path, "d")
    assert store.list_datasets() == []
    assert store._scalar("SELECT count(*) FROM instructions") == 0


@pytest.mark.parametrize("content, message", BAD_INPUTS)
def test_bad_input_names_file_and_line_and_writes_nothing(store, tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError, match=message):
        ingest_file(store, path, "d")
    assert store.list_datasets() == []
    assert store._scalar("SELECT count(*) FROM instructions") == 0


def test_utf8_bom_is_accepted(store, tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(ALPACA[0]).encode() + b"\n")
    assert ingest_file(store, path, "d").added == 1


def test_half_done_import_rolls_back_when_the_store_fails(store, tmp_path, monkeypatch):
    def explode(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(store), "_bulk_insert_instructions", explode)
    with pytest.raises(RuntimeError):
        ingest_file(store, write_jsonl(tmp_path / "a.jsonl", ALPACA), "d")
    assert store.list_datasets() == []
    assert store._scalar("SELECT count(*) FROM imports") == 0


def test_missing_file(store, tmp_path):
    with pytest.raises(IngestError, match="no such file"):
        ingest_file(store, tmp_path / "nope.jsonl", "d")


def test_shared_alpaca_eval_imports_completely(store, shared_data):
    result = ingest_file(store, shared_data / "alpaca_eval" / "alpaca_eval.jsonl", "alpaca_eval")
    assert result.format == "alpaca" and result.read == 805
    assert result.added + result.duplicates == 805 and result.added > 790


def test_shared_ifeval_prompts_import_with_a_column(store, shared_data):
    result = ingest_file(store, shared_data / "ifeval" / "input_data.jsonl", "ifeval", column="prompt")
    assert result.read == 540 and result.added == 540


def test_line_separator_characters_inside_strings_are_not_line_breaks(store, tmp_path):
    path = tmp_path / "u2028.jsonl"
    rows = [{"instruction": "First\u2028still first"}, {"instruction": "Second\x85one"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    assert ingest_file(store, path, "d").added == 2
    assert messages_of(store, "d")[0][0]["content"] == "First\u2028still first"


def test_csv_field_over_128_kb_is_accepted(store, tmp_path):
    path = tmp_path / "long.csv"
    document = "word " * 60_000  # 300 KB, past the csv module's default field limit
    path.write_text(f'instruction\nfine\n"{document}"\n', encoding="utf-8")
    assert ingest_file(store, path, "d").added == 2
    assert messages_of(store, "d")[1][0]["content"] == document


def test_csv_row_with_fewer_fields_than_the_header_is_fine(store, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("id,instruction,note\n1,Why?\n", encoding="utf-8")
    assert ingest_file(store, path, "d").added == 1


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_dataset_name_is_rejected(store, tmp_path, name):
    with pytest.raises(IngestError, match="dataset name is empty.*--name"):
        ingest_file(store, write_jsonl(tmp_path / "a.jsonl", ALPACA), name)
    assert store.list_datasets() == []


def test_a_directory_is_not_a_file(store, tmp_path):
    with pytest.raises(IngestError, match=f"{tmp_path} is a directory"):
        ingest_file(store, tmp_path, "d")


def _unreadable_for_us(tmp_path):
    path = write_jsonl(tmp_path / "secret.jsonl", ALPACA)
    path.chmod(0)
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    return path


def _write_only_for_everyone(tmp_path):
    path = Path("/proc/sys/vm/compact_memory")  # mode 0200, refused to root as well
    try:
        path.open("rb").close()
    except PermissionError:
        return path
    pytest.skip(f"{path} is missing or readable here")


@pytest.mark.parametrize("make", [_unreadable_for_us, _write_only_for_everyone])
@pytest.mark.parametrize("fmt", [None, "parquet"])
def test_unreadable_file_is_a_clear_error(store, tmp_path, make, fmt):
    path = make(tmp_path)
    with pytest.raises(IngestError, match=r"cannot read the file \(Permission denied\).*permissions"):
        ingest_file(store, path, "d", fmt)
    assert store.list_datasets() == []


def test_a_new_format_is_one_reader_in_the_registry(store, tmp_path, monkeypatch):
    def read_lines(path, column):
        lines = path.read_text().splitlines()
        return "lines", [
            readers.to_record(i, {"text": t}, readers.column_messages("text"), str(path))
            for i, t in enumerate(lines, 1)
        ]

    monkeypatch.setitem(READERS, "lines", read_lines)
    path = tmp_path / "a.txt"
    path.write_text("One?\nTwo?\n")
    result = ingest_file(store, path, "d", "lines")
    assert (result.format, result.added) == ("lines", 2)
