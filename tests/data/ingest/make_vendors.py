"""Write small vendor exports with the vendors' real header rows (as cited in each preset under
core/presets/) and synthetic students. tests/ingest/test_presets.py imports each one with
auto-detection and checks the loaded values against pandas.

Run from the repository root: .venv/bin/python tests/data/ingest/make_vendors.py
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).parent / "vendors"


def header_row(text: str) -> list[str]:
    return text.split(",")


NWEA = header_row(
    "TermName,DistrictName,SchoolName,StudentLastName,StudentFirstName,StudentMI,StudentID,"
    "StudentDateOfBirth,StudentEthnicGroup,StudentGender,Grade,MeasurementScale,Discipline,"
    "GrowthMeasureYN,TestType,TestName,TestID,TestStartDate,TestDurationMinutes,TestRITScore,"
    "TestStandardError,TestPercentile,FallToSpringProjectedGrowth,"
    "FallToSpringConditionalGrowthPercentile,RITtoReadingMin,RITtoReadingMax,Goal1Name,"
    "Goal1RitScore,Goal1StdErr,Goal1Range,Goal1Adjective,TestStartTime,PercentCorrect,"
    "ProjectedProficiencyStudy1,ProjectedProficiencyLevel1"
)
STAR_SPACED = header_row(
    "Renaissance Client ID,School Year,School Year Start Date,School Year End Date,"
    "District State Id,District Name,District Id,School State Id,School Name,School Id,"
    "Teacher State ID,Teacher Identifier,Teacher User Name,Teacher Email,Teacher First Name,"
    "Teacher Middle Name,Teacher Last Name,Student State ID,Student Identifier,"
    "Student User Name,Student Email,Student First Name,Student Middle Name,Student Last Name,"
    "Birthdate,Current Grade,Class Name,Renaissance Activity ID,Activity Type,"
    "Activity Completed Date,Used Extended Time,Used Audio,Scaled Score,Unified Scale,"
    "Lexile Score,Lexile Range,Quantile Measure,Quantile Range,Percentile Rank,"
    "Normal Curve Equivalent,Grade Equivalent,Screening Window Name,Screening Window Start,"
    "Screening Window End,School Benchmark Category,State Benchmark Category,"
    "District Benchmark Category,Current SGP"
)
STAR_CAMEL = header_row(
    "RenaissanceClientID,SchoolYear,SchoolYearStartDate,SchoolYearEndDate,StudentRenaissanceID,"
    "StudentSourcedID,StudentIdentifier,StudentUserID,StudentStateID,StudentEmail,"
    "StudentFirstName,StudentMiddleName,StudentLastName,Gender,BirthDate,CurrentGrade,"
    "EnrollmentStatus,SchoolName,GroupOrClassName,TeacherFirstName,TeacherLastName,"
    "AssessmentID,LaunchDate,CompletedDate,CompletedDateLocal,AssessmentNumber,AssessmentType,"
    "AssessmentStatus,GradePlacement,Grade,ScaledScore,StandardErrorOfMeasurement,UnifiedScore,"
    "GradeEquivalent,PercentileRank,NormalCurveEquivalent,ScreeningPeriodWindowName,"
    "RenaissanceBenchmarkCategoryName,CurrentSGP,Quantile"
)
IREADY = header_row(
    "Last Name,First Name,Student ID,Student Grade,Academic Year,School,Enrolled,User Name,"
    "Start Date,Completion Date,Baseline Diagnostic (Y/N),Most Recent Diagnostic (Y/N),"
    "Duration (min),Rush Flag,Overall Scale Score,Overall Placement,Overall Relative Placement,"
    "Percentile,Grouping,Quantile Measure,Quantile Range,Number and Operations Scale Score,"
    "Diagnostic Gain,Annual Typical Growth Measure,Annual Stretch Growth Measure,"
    "Mid On Grade Level Scale Score"
)
DIBELS = header_row(
    "School Year,State,Account Name,Municipality Name,Municipality Primary ID,District Name,"
    "District Primary ID,Internal Program,External Program,School Name,Primary School ID,"
    "Secondary School ID,Student Last Name,Student First Name,Student Middle Name,"
    "Enrollment Date,Enrollment Grade,Date of Birth,Gender,Race,Special Education,Disability,"
    "Specific Disability,Section 504,Economically Disadvantaged,Meal Status,Title 1,Migrant,"
    "English Proficiency,ELL Status,Home Language,Alternate Assessment,Approved Accommodations,"
    "Classed,Reporting Class Name,Reporting Class ID,Official Teacher Name,"
    "Official Teacher Staff ID,Assessing Teacher Name,Assessing Teacher Staff ID,Assessment,"
    "Assessment Edition,Assessment Grade,Benchmark Period,Composite Level,Composite Score,"
    "Composite - National Norm Percentile,Composite - Semester Growth,Composite - Year Growth,"
    "Letter Names (LNF) - Level,Letter Names (LNF) - Score,Client Date,Sync Date,"
    "Student Primary ID,Primary ID - Student ID (District ID),Administration Type,"
    "DIBELS Composite Score - Lexile"
)
SCHOOLS = ("Lincoln Elementary", "Roosevelt Elementary")
FIRST = ("Ana", "Ben", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal")


def write(name: str, header: list[str], rows: list[dict]) -> None:
    with (HERE / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, restval="")
        writer.writeheader()
        writer.writerows(rows)


def nwea(rng: random.Random) -> list[dict]:
    rows = []
    for i in range(8):
        for term, date in (("Fall 2024-2025", "9/12/2024"), ("Spring 2024-2025", "5/6/2025")):
            for scale, discipline in (("Mathematics", "Mathematics"),
                                      ("Reading", "Reading"),
                                      ("Language Usage", "Language Usage")):
                rows.append({
                    "TermName": term, "DistrictName": "Lincoln USD",
                    "SchoolName": SCHOOLS[i % 2], "StudentLastName": f"Last{i}",
                    "StudentFirstName": FIRST[i], "StudentID": f"N{100 + i}",
                    "StudentEthnicGroup": rng.choice(["Hispanic or Latino", "White", "Asian"]),
                    "StudentGender": "F" if i % 2 else "M", "Grade": str(3 + i % 3),
                    "MeasurementScale": scale, "Discipline": discipline,
                    "GrowthMeasureYN": "TRUE", "TestType": "Survey With Goals",
                    "TestStartDate": date, "TestRITScore": str(rng.randint(170, 240)),
                    "TestPercentile": str(rng.randint(1, 99)),
                    "FallToSpringConditionalGrowthPercentile": str(rng.randint(1, 99)),
                    "Goal1Name": "Operations and Algebraic Thinking", "Goal1RitScore": "201"
                })
    return rows


def star_spaced(rng: random.Random) -> list[dict]:
    rows = []
    for i in range(6):
        for activity in ("Star Math Enterprise Tests", "Star Reading Enterprise Tests"):
            rows.append({
                "Renaissance Client ID": "3406028", "School Year": "2024-2025 School Year",
                "School Name": SCHOOLS[i % 2], "Teacher Last Name": "Krier",
                "Student Identifier": f"S{200 + i}", "Student First Name": FIRST[i],
                "Student Last Name": f"Last{i}", "Current Grade": str(4 + i % 2),
                "Class Name": f"Krier - {i % 2 + 1}", "Activity Type": activity,
                "Activity Completed Date": "01/15/2025", "Scaled Score": str(rng.randint(300, 900)),
                "Unified Scale": "800", "Percentile Rank": str(rng.randint(1, 99)),
                "Screening Window Name": "Winter", "District Benchmark Category": "At/Above",
                "Current SGP": str(rng.randint(1, 99)), "Lexile Score": "650L"
            })
    return rows


def star_camel(rng: random.Random) -> list[dict]:
    return [
        {
            "RenaissanceClientID": "296768",
            "SchoolYear": "2024-2025",
            "StudentIdentifier": f"C{300 + i}",
            "StudentFirstName": FIRST[i],
            "StudentLastName": f"Last{i}",
            "Gender": "F",
            "CurrentGrade": "6",
            "SchoolName": SCHOOLS[0],
            "GroupOrClassName": "Math 6 - 2",
            "TeacherLastName": "Holubowsky",
            "CompletedDate": "10/4/24 18:22",
            "AssessmentType": "Enterprise",
            "Grade": "5",
            "ScaledScore": str(rng.randint(500, 900)),
            "PercentileRank": str(rng.randint(1, 99)),
            "ScreeningPeriodWindowName": "Fall",
            "RenaissanceBenchmarkCategoryName": "On Watch",
            "CurrentSGP": "",
            "Quantile": "1060Q",
        }
        for i in range(5)
    ]


def iready(rng: random.Random) -> list[dict]:
    rows = []
    for i in range(6):
        for start, done in (("09/03/2024", "09/04/2024"), ("01/14/2025", "01/15/2025"),
                            ("01/21/2025", "01/22/2025")):
            rows.append({
                "Last Name": f"Last{i}", "First Name": FIRST[i], "Student ID": f"I{400 + i}",
                "Student Grade": str(2 + i % 4), "Academic Year": "2024-2025",
                "School": SCHOOLS[i % 2], "Enrolled": "Enrolled", "Start Date": start,
                "Completion Date": done, "Overall Scale Score": str(rng.randint(350, 600)),
                "Overall Placement": "Level 3",
                "Overall Relative Placement": rng.choice(["Early On Grade Level",
                                                          "1 Grade Level Below"]),
                "Percentile": str(rng.randint(1, 99)), "Quantile Measure": "445Q"
            })
    return rows


def dibels(rng: random.Random) -> list[dict]:
    rows = []
    for i in range(6):
        for period, date in (("BOY", "2024-09-10"), ("MOY", "2025-01-14"), ("EOY", "2025-05-20")):
            rows.append({
                "School Year": "2024-25", "School Name": SCHOOLS[i % 2],
                "Student Last Name": f"Last{i}", "Student First Name": FIRST[i],
                "Enrollment Grade": "K" if i % 3 == 0 else "1", "Gender": "Female",
                "Race": "Asian", "Special Education": "N", "Economically Disadvantaged": "Y",
                "ELL Status": "N", "Reporting Class Name": "Room 4",
                "Official Teacher Name": "Ms. Ortiz", "Assessment": "DIBELS 8th Edition",
                "Assessment Edition": "DIBELS 8th Edition",
                "Assessment Grade": "K" if i % 3 == 0 else "1", "Benchmark Period": period,
                "Composite Level": "At Benchmark", "Composite Score": str(rng.randint(250, 480)),
                "Composite - National Norm Percentile": str(rng.randint(1, 99)),
                "Client Date": date, "Student Primary ID": f"D{500 + i}",
                "Section 504": "N", "Home Language": "Spanish" if i % 2 else "English"
            })
    return rows


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    write("nwea_map_cdf.csv", NWEA, nwea(rng))
    write("star_export.csv", STAR_SPACED, star_spaced(rng))
    write("star_math_winter.csv", STAR_CAMEL, star_camel(rng))
    write("diagnostic_results_math.csv", IREADY, iready(rng))
    write("dibels8_benchmark.csv", DIBELS, dibels(rng))
    print(f"wrote vendor samples to {HERE}")


if __name__ == "__main__":
    main()
