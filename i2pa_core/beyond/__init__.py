"""Beyond the paper: retrains over the T x sigma grid, split policies and losses, with repeats."""
