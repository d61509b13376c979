"""Supervised fine-tuning with TRL on an export's `messages` rows; the result is a registered model."""

from rnr_core.train.run import train_model

__all__ = ["train_model"]
