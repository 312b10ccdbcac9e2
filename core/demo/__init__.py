"""The synthetic demo district: seeded, reproducible assessment, roster and attendance data with
planted truths (a declining grade, a widening gap) that the pages and tests find again.

Public face: `district.load_demo`, `district.generate`; `samples.write_samples` (files for the
Upload page); `files` and `vendors` write the data as each vendor exports it.
"""
