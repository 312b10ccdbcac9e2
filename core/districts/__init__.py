"""District benchmarks: each district against its state and the nation, from public district-level
data (CCD / CRDC / EDFacts / F-33 shaped).

Public face: `benchmarks.district_benchmarks`, `benchmarks.district_history`,
`flags.FlagFilter` (pick districts by quartile flags), `words` (a superintendent's sentences),
`demo_data` (synthetic district data), `timing` (the bench child).
"""
