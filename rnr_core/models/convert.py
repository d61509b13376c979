"""Turn a GGUF file into a transformers checkpoint directory (float32), e.g. the embedded SmolLM2."""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from rnr_core.errors import ModelSpecError


def gguf_to_checkpoint(gguf: str | Path, out_dir: str | Path) -> Path:
    """Dequantise a GGUF with transformers and save model and tokenizer under `out_dir`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf, out = Path(gguf), Path(out_dir)
    if not gguf.is_file():
        raise ModelSpecError(f"No GGUF file at {gguf}.")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    # The weights are plain float32 now; dropping the GGUF quantizer marker lets them be saved.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out


def cached_checkpoint_dir(gguf: str | Path, cache: str | Path) -> Path:
    """Where `cached_checkpoint` keeps the GGUF's checkpoint: named by file, keyed by its path and size."""
    gguf = Path(gguf).resolve()
    key = hashlib.sha256(f"{gguf}\0{gguf.stat().st_size}".encode()).hexdigest()[:10]
    return Path(cache) / f"{gguf.stem}-f32-{key}"


def cached_checkpoint(gguf: str | Path, cache: str | Path) -> Path:
    """The GGUF dequantised once into a checkpoint under `cache`, reused after.

    Written into a temporary folder beside it and renamed into place, so an interrupted conversion
    never leaves a half-written checkpoint that a later run would take for a whole one.
    """
    final = cached_checkpoint_dir(gguf, cache)
    if (final / "config.json").is_file():
        return final
    if final.exists():  # not whole (no config.json): left by an older copy of this code, say
        shutil.rmtree(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    try:
        gguf_to_checkpoint(gguf, temp)
        os.chmod(temp, 0o755)  # mkdtemp makes it private; the cache is as readable as any folder
        try:
            temp.rename(final)
        except OSError:  # another process finished the same conversion first: keep its copy
            if not (final / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return final
