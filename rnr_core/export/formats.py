"""Export formats: how one sample becomes one record, and how records are written, streamed, to a file."""

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from rnr_core import jsonl

SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


def conversation(sample: dict) -> list[dict]:
    """System prompt, the user turns, and the response, as one message list."""
    return [
        {"role": "system", "content": sample["system_prompt"]},
        *sample["messages"],
        {"role": "assistant", "content": sample["response"]},
    ]


def as_messages(sample: dict) -> dict:
    """TRL's conversational format, which SFTTrainer reads as is."""
    return {"messages": conversation(sample)}


def as_sharegpt(sample: dict) -> dict:
    return {
        "conversations": [
            {"from": SHAREGPT_FROM[m["role"]], "value": m["content"]} for m in conversation(sample)
        ]
    }


def as_openai(sample: dict) -> dict:
    """OpenAI chat fine-tuning: earlier assistant turns are context (weight 0); the response is learnt."""
    messages = conversation(sample)
    if not any(m["role"] == "assistant" for m in messages[:-1]):
        return {"messages": messages}
    last = len(messages) - 1
    return {
        "messages": [
            {**m, "weight": int(i == last)} if m["role"] == "assistant" else m for i, m in enumerate(messages)
        ]
    }


def as_alpaca(sample: dict) -> dict:
    """Alpaca with a system field; earlier exchanges of a multi-turn sample go in `history`."""
    turns = sample["messages"]
    row = {"instruction": turns[-1]["content"], "input": "", "output": sample["response"]}
    row["system"] = sample["system_prompt"]
    pairs = [
        [turns[i]["content"], turns[i + 1]["content"]]
        for i in range(len(turns) - 2)
        if turns[i]["role"] == "user" and turns[i + 1]["role"] == "assistant"
    ]
    return {**row, "history": pairs} if pairs else row


class JsonlSink:
    """One JSON object per line."""

    def __init__(self, file):
        self.file = file

    def write(self, rows: list[dict]) -> None:
        self.file.writelines(jsonl.dumps(r) for r in rows)

    def close(self) -> None:
        """The staged file is closed by whoever opened it."""


MESSAGES_SCHEMA = pa.schema(
    [pa.field("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))]
)


class ParquetSink:
    """The messages column, one row group per batch of samples: never the whole split in memory."""

    def __init__(self, file):
        self.writer = pq.ParquetWriter(file, MESSAGES_SCHEMA, compression="zstd")

    def write(self, rows: list[dict]) -> None:
        if rows:
            self.writer.write_table(pa.Table.from_pylist(rows, schema=MESSAGES_SCHEMA))

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True)
class Format:
    """A way to write samples: its record, its file suffix and its writer."""

    row: Callable[[dict], dict]
    suffix: str
    sink: type
    about: str


FORMATS: dict[str, Format] = {
    "messages": Format(as_messages, "jsonl", JsonlSink, "TRL conversational JSONL: {messages: [...]}"),
    "parquet": Format(as_messages, "parquet", ParquetSink, "Parquet with a messages column"),
    "sharegpt": Format(as_sharegpt, "jsonl", JsonlSink, "ShareGPT JSONL: {conversations: [{from, value}]}"),
    "openai": Format(as_openai, "jsonl", JsonlSink, "OpenAI chat fine-tuning JSONL: {messages: [...]}"),
    "alpaca": Format(as_alpaca, "jsonl", JsonlSink, "Alpaca JSONL: instruction, input, output, system"),
}
