"""Training the Siamese network (paper Sections 3.2 and 4.1): config and profiles,
pair data, the loop, validation, DDP, budgets of retrains and the test scores.
"""
