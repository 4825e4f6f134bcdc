"""The PDIP sampler of paper Sec. 3.1: Eq. 6 and the four rules, matching, split, streaming, label precision, the T x sigma sweep and Table 1."""
