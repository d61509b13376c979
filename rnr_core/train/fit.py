"""The blocking part of training: TRL's SFTTrainer on `messages` rows, loss on the assistant's tokens.

Runs in a worker thread. It talks back only through the callbacks it is given, and stops when its
`stop` event is set, after saving a checkpoint that a later run resumes from.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rnr_core.train import outdir
from rnr_core.train.template import training_template

# LoRA on every projection of a Llama-style block: attention and MLP. Rank 16 with alpha 32 is a common
# starting point that trains a few million parameters of a 135M model.
LORA = {
    "r": 16,
    "lora_alpha": 32,
    "lora_dropout": 0.05,
    "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
}
ADAPTER = "adapter"  # the LoRA adapter, kept beside the merged model


@dataclass
class Plan:
    """What to train: the rows, the base checkpoint, the folder and the settings."""

    rows: list[dict]
    base: Path
    out: Path
    lora: bool
    epochs: int
    max_steps: int | None
    batch_size: int
    learning_rate: float
    max_length: int
    seed: int
    save_steps: int
    resume_from: Path | None


def _watcher(stop: threading.Event, on_step: Callable, on_log: Callable):
    """A TrainerCallback: reports each step and logged loss, and stops (saving first) once asked."""
    from transformers import TrainerCallback

    class Watch(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            on_step(state.global_step, state.max_steps)

        def on_step_end(self, args, state, control, **kwargs):
            on_step(state.global_step, state.max_steps)
            if stop.is_set():
                control.should_save = control.should_training_stop = True
            elif state.global_step >= state.max_steps:
                control.should_save = False  # the finished model is saved whole instead, without optimizer

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                on_log(state.global_step, logs.get("epoch"), logs["loss"], logs.get("learning_rate"))

    return Watch()


def _config(plan: Plan):
    import torch
    from trl import SFTConfig

    cuda = torch.cuda.is_available()
    return SFTConfig(
        output_dir=str(plan.out),
        num_train_epochs=plan.epochs,
        max_steps=plan.max_steps or -1,
        per_device_train_batch_size=plan.batch_size,
        learning_rate=plan.learning_rate,
        max_length=plan.max_length,
        assistant_only_loss=True,
        logging_steps=1,
        save_strategy="steps",
        save_steps=plan.save_steps,
        save_total_limit=1,  # the next checkpoint is whole before the last one goes
        seed=plan.seed,
        # Checkpointing activations trades time for memory that a small model does not need.
        activation_checkpointing=False,
        bf16=cuda and torch.cuda.is_bf16_supported(),
        use_cpu=not cuda,
        report_to="none",
        disable_tqdm=True,
    )


def _trainer(plan: Plan, stop: threading.Event, on_step: Callable, on_log: Callable):
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback
    from trl import SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(str(plan.base))
    # Set before training so the saved model carries it: inference then renders prompts as trained.
    tokenizer.chat_template = training_template(tokenizer)
    model = AutoModelForCausalLM.from_pretrained(str(plan.base), dtype=torch.float32)
    peft_config = None
    if plan.lora:
        from peft import LoraConfig

        peft_config = LoraConfig(task_type="CAUSAL_LM", **LORA)
    trainer = SFTTrainer(
        model=model,
        args=_config(plan),
        train_dataset=Dataset.from_list(plan.rows),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[_watcher(stop, on_step, on_log)],
    )
    trainer.remove_callback(PrinterCallback)  # it prints each log to stdout: the caller's output, not ours
    return trainer


def _save(trainer, plan: Plan) -> None:
    """The trained model as a plain checkpoint in `out` (LoRA merged into the base, its adapter kept)."""
    staging = plan.out / outdir.STAGING
    model = trainer.model
    if plan.lora:
        model.save_pretrained(str(staging / ADAPTER))
        model = model.merge_and_unload()
    model.save_pretrained(str(staging))
    trainer.processing_class.save_pretrained(str(staging))
    outdir.publish(plan.out)


def quiet() -> None:
    """No per-example progress bars from datasets or per-tensor ones from transformers: the caller's
    progress says how training goes."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def fit(plan: Plan, stop: threading.Event, on_step: Callable, on_log: Callable) -> dict:
    """Train; return the step reached, the mean loss and whether it stopped before the end."""
    quiet()
    trainer = _trainer(plan, stop, on_step, on_log)
    if stop.is_set():
        return {"step": 0, "stopped": True, "train_loss": None}
    resume = str(plan.resume_from) if plan.resume_from else None
    output = trainer.train(resume_from_checkpoint=resume)
    stopped = stop.is_set() and trainer.state.global_step < trainer.state.max_steps
    if not stopped:
        _save(trainer, plan)
    return {"step": trainer.state.global_step, "stopped": stopped, "train_loss": output.training_loss}
