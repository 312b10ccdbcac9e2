"""What needs attention now: alerts and the watch list (the insight feed that lists alerts beside
stored narratives is `core.narrate.insights`).

- `detect`: what changed for the worse in the latest school year (`current_alerts`).
- `words`: alerts in an educator's words.
- `watch_list`: the students in a teacher's, principal's or district's view who need help.

Public face: `detect.current_alerts`, `watch_list.watch_list`.
"""
