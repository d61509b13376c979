"""Evaluate models: frozen benchmarks, answers judged rule by rule, and pass-rate reports."""
