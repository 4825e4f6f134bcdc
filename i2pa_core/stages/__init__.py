"""Thin glue, one module per DVC stage, plus the notebook runner (``notebook``), the params
it injects (``declared``) and the report.
"""
