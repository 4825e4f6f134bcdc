"""Beyond the paper: retrains over the T x sigma grid of Eq. 6, the split policy and the
loss, each setting repeated over training seeds.
"""
