"""Turn a GGUF file into a transformers checkpoint directory (float32), e.g. the embedded SmolLM2."""

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
