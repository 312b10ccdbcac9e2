"""Verdicts that hold wherever they are asked: which comparisons are adjusted together for false
discoveries (Benjamini–Hochberg), so a quick cohort reads the same on every page, in every
report and CLI answer, for every role.

Public face: `families` (quick_spec, district_rows, cached, by_year, family_table, settle,
family_caption and the words of each family); the rules are written in docs/comparisons.md,
"Verdict families".
"""
