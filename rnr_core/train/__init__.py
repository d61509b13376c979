"""Supervised fine-tuning with TRL on an export's `messages` rows; the result is a registered model."""

from rnr_core.train.run import check_request, train_model

__all__ = ["check_request", "train_model"]
