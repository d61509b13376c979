"""The RNR experiment: train on rule-following rows, evaluate on held-out system prompts, report."""
