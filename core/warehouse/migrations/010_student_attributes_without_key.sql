-- 010: student_attributes rebuilt without its primary key (same columns, same grain: one row
-- per student × attribute). The import keeps that grain itself (an update of the pairs it
-- brings, then an insert of the pairs not stored yet, anti-joined; one writer at a time) and
-- tests/ingest check it with a zero-row query. An export with many extra columns brings
-- columns × students pairs per import; the two-column VARCHAR key made each of them cost index
-- upkeep on insert and again at commit.
create table student_attributes_010 (
    student_id varchar not null,
    attribute varchar not null,         -- normalized header: lower case, other runs -> "_"
    value varchar not null
);
insert into student_attributes_010 select * from student_attributes;
drop table student_attributes;
alter table student_attributes_010 rename to student_attributes;
