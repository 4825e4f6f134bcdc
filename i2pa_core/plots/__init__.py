"""The figure style and the paper's figures (Fig. 1-7) drawn from arrays and tables."""
