"""Thin glue, one module per DVC stage, plus the notebook runner and the report."""
