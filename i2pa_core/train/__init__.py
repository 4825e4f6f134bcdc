"""Training the Siamese network (paper Sec. 3.2, 4.1): config and profiles, pair data, the loop, validation, DDP and budgets."""
