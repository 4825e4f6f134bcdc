"""The PDIP sampler of paper Section 3.1: the probability of Eq. 6 and the four rules
(``prepare``, ``candidates``), one image per pair (``matching``), the split, the streaming path
for large crawls, label precision, the T x sigma sweep and Table 1 (``report``).
"""
