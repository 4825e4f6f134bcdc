"""The psychophysical experiment (paper Section 4.4, Table 4, Fig. 8-9): the plan, the web
page, the answers, a simulated observer panel and the analysis.
"""
