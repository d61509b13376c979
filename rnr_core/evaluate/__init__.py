"""Evaluate and compare models: frozen benchmarks, eval runs, pairwise votes and the live demo."""
