"""The Train page's form: which export to train on, from which base, under which name and settings.

In team mode the export is picked by name from the team's export folder and the base is the embedded
model or a registered fine-tune: visitors never type a server path."""

import inspect
from datetime import datetime
from pathlib import Path

import streamlit as st

from rnr_app import state
from rnr_app.train_view import said
from rnr_core import access
from rnr_core.errors import SettingError
from rnr_core.train import train_model

CHECKPOINT = "hf"  # the base choice that reads a checkpoint folder (personal mode only)
DEFAULTS = {n: p.default for n, p in inspect.signature(train_model).parameters.items()}


def base_choices(store) -> dict[str, str]:
    """Base key -> what the picker shows: the embedded model, each finished fine-tune (an unfinished one
    has no model to start from), and in personal mode a checkpoint folder."""
    found = {"local": "local (the embedded SmolLM2-135M)"}
    done = store.fine_tunes("completed")
    found.update({ft["name"]: said(f"{ft['name']} (fine-tune of {ft['base']})") for ft in done})
    if not state.team():
        found[CHECKPOINT] = "A checkpoint folder (hf:)"
    return found


def _data_field() -> str | None:
    """The export folder: a name under the team's export folder, else a path (the newest export offered)."""
    folders = access.export_folders()
    if state.team():
        if not folders:
            st.info("No exports yet in the team's export folder: make one on the Export page.")
            return None
        return st.selectbox("Export", folders, key="train_data", help="Exports in the team's export folder.")
    root = access.config().export_root
    newest = str(root / folders[0]) if folders else ""
    help_ = "An export folder holding train.jsonl or train.parquet in the messages format."
    return st.text_input("Export folder", newest, key="train_data", help=help_)


def form(store) -> dict | None:
    """The settings as train_model's keyword arguments once Start is pressed; else None."""
    bases = base_choices(store)
    with st.form("train_start"):
        data = _data_field()
        c = st.columns(2)
        base = c[0].selectbox("Base model", list(bases), format_func=bases.get, key="train_base")
        folder = "" if state.team() else c[1].text_input("Checkpoint folder (for hf:)", key="train_hf")
        stamp = datetime.now().strftime("%Y%m%d-%H%M")
        name = st.text_input("Name for the fine-tune", f"rnr-{stamp}", key="train_name")
        c = st.columns(3)
        lora = c[0].toggle("LoRA (train adapters only)", DEFAULTS["lora"], key="train_lora")
        epochs = c[1].number_input("Epochs", 1, 100, DEFAULTS["epochs"], key="train_epochs")
        steps = c[2].number_input("Max steps (0: the epochs decide)", 0, 1_000_000, 0, key="train_steps")
        c = st.columns(3)
        batch = c[0].number_input("Batch size", 1, 256, DEFAULTS["batch_size"], key="train_batch")
        rate = c[1].number_input(
            "Learning rate", 1e-7, 0.5, DEFAULTS["learning_rate"], 1e-5, format="%.1e", key="train_lr"
        )
        length = c[2].number_input(
            "Max length (tokens)", 16, 32_768, DEFAULTS["max_length"], 16, key="train_length"
        )
        if not st.form_submit_button("Start training", type="primary") or data is None:
            return None
    if base == CHECKPOINT and not folder.strip():
        raise SettingError("Type the checkpoint folder to start from, or pick another base model.")
    return {
        "data": str(access.export_dir(data) if state.team() else Path(data).expanduser()),
        "base": f"hf:{folder.strip()}" if base == CHECKPOINT else base,
        "name": name.strip(),
        "lora": lora,
        "epochs": int(epochs),
        "max_steps": int(steps) or None,
        "batch_size": int(batch),
        "learning_rate": float(rate),
        "max_length": int(length),
    }
