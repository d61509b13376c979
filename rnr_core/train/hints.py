"""The fixes training errors name, in the CLI's and the app's words (added to rnr_core.hints)."""

from rnr_core.hints import HINTS, Hint

HINTS.update(
    {
        "train_reexport": Hint(
            "Export it again in the messages format: 'rnr export --format messages --out DIR'.",
            "Export it again on the Export page with the format 'messages'.",
        ),
        "train_name": Hint(
            "Choose another --name, or give --out {out} to train that one again.",
            "Type another name for the fine-tune.",
        ),
        "train_out": Hint(
            "Give --out a new or empty folder, or the folder of an earlier 'rnr train'.",
            "Train under another name: each name has its own folder.",
        ),
        "train_restart": Hint(
            "Pass --no-resume to start over from the base, or give --out another folder.",
            "Train under another name to start over from the base.",
        ),
        "train_base": Hint(
            "Give --base local, hf:<checkpoint folder> or a fine-tune's name ('rnr train --list').",
            "Pick the embedded model, a checkpoint folder or a finished fine-tune as the base.",
        ),
    }
)
