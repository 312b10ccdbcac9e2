"""Plain English shared by every area: numbers as sentences show them (`numbers.fixed`,
`numbers.signed`) and one sentence per comparison row (`comparisons.prior_sentence`,
`comparisons.growth_sentence`, `comparisons.gap_sentence` …), and any text from the data made
literal for Markdown (`markup.literal`: a name never becomes a link). Area-specific wording lives
with its area (`core.alerts.words`, `core.districts.words`, `core.narrate.text`).
"""
