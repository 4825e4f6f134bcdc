"""Evaluation (paper Sec. 4): batched scoring, the Fig. 4 baselines, the absolute-popularity MLP and generalisation (Sec. 4.3)."""
