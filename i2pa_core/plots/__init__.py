"""Figures: one style for every figure (``style``), the paper's Fig. 1-3 (``paper``) and
Fig. 4-7 (``results``), and the overview of the synthetic platform (``platform``).
"""
