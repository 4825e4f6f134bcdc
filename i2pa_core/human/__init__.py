"""The psychophysical experiment of paper Sec. 4.4 (Table 4, Fig. 8-9): plan, web page, answers, simulated panel, analysis."""
