"""Name pools for the synthetic demo district.

Common US first and last names (no real student is described), with accented and apostrophised
spellings on purpose ("José", "Zoë", "O'Connor", "Nguyễn") so every page, export and PDF is
exercised with Unicode. Last names are drawn from the pool that fits a student's recorded
race/ethnicity more often than not, the way a real roster looks.
"""

from __future__ import annotations

FEMALE_FIRST = (
    "Olivia", "Emma", "Charlotte", "Amelia", "Sophia", "Mia", "Isabella", "Ava", "Evelyn",
    "Harper", "Luna", "Camila", "Sofía", "Gianna", "Elizabeth", "Eleanor", "Ella", "Abigail",
    "Emily", "Zoë", "Chloé", "Renée", "Aaliyah", "Maya", "Nevaeh", "Layla", "Valentina",
    "Ximena", "María", "Lucía", "Ana", "Daniela", "Jasmine", "Imani", "Aisha", "Keisha", "Priya",
    "Mei", "Hannah", "Grace", "Noémie", "Léa", "Madison", "Brooklyn", "Naomi", "Ruby", "Hazel",
    "Aurora", "Paisley", "Violet", "Savannah", "Kinsley", "Genesis", "Aria", "Nora", "Riley",
)  # fmt: skip
MALE_FIRST = (
    "Liam", "Noah", "Oliver", "James", "Elijah", "William", "Henry", "Lucas", "Benjamin",
    "Theodore", "Mateo", "Levi", "Sebastian", "Daniel", "Jack", "Michael", "Alexander", "Owen",
    "Asher", "Samuel", "Ethan", "Leo", "Jackson", "José", "Nicolás", "Andrés", "Iñaki", "Jesús",
    "Santiago", "Diego", "Ángel", "Miguel", "Jamal", "Malik", "DeShawn", "Marcus", "Darnell",
    "Arjun", "Minh", "Kenji", "Wei", "André", "Björn", "Josiah", "Isaiah", "Caleb", "Julian",
    "Ezra", "Hudson", "Carter", "Wyatt", "Logan", "Aiden", "Grayson", "Luca", "Kai",
)  # fmt: skip
NEUTRAL_FIRST = ("Alex", "Jordan", "Taylor", "Rowan", "Sage", "River", "Quinn", "Avery", "Emerson")

GENERAL_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill",
    "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips",
    "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook",
    "Rogers", "O'Connor", "O'Brien", "Müller", "Schäfer", "Kowalski", "Novák", "Smith-Jones",
    "Washington", "Jefferson", "Banks", "Freeman", "Okafor", "Mensah", "Diallo", "Kamau",
)  # fmt: skip
HISPANIC_LAST = (
    "García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez",
    "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Reyes", "Cruz", "Morales",
    "Ortiz", "Gutiérrez", "Chávez", "Ramos", "Ruiz", "Jiménez", "Vásquez", "Castillo", "Muñoz",
    "Núñez", "Peña", "Ibáñez", "Castañeda",
)  # fmt: skip
ASIAN_LAST = (
    "Nguyễn", "Nguyen", "Tran", "Le", "Pham", "Kim", "Park", "Chen", "Wang", "Li", "Zhang",
    "Liu", "Patel", "Shah", "Singh", "Kumar", "Tanaka", "Sato", "Yamamoto", "Choi", "Huang",
    "Lin", "Wu", "Das", "Reddy",
)  # fmt: skip
