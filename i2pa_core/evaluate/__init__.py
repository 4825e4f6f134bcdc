"""Evaluation (paper Section 4): batched scoring of files, the baselines and the comparison
of Fig. 4, the absolute-popularity MLP and generalisation to other platforms (Section 4.3).
"""
