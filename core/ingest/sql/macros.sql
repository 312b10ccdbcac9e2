-- Cell parsers for validation, created as temp macros on the staging connection.
-- Every macro takes the trimmed text of one cell (NULL when blank) and returns the typed value,
-- or NULL when the text does not parse (validate.py reports those with the row number).

-- Text with the spaces, tabs, line breaks and no-break spaces around it removed; '' -> NULL.
create or replace temp macro yd_clean(v) as
    nullif(trim(v, ' ' || chr(9) || chr(10) || chr(13) || chr(160)), '');

-- The key alias tables are matched on: lower case, runs of other characters -> one space.
create or replace temp macro yd_key(v) as
    trim(regexp_replace(lower(trim(v)), '[^0-9a-z]+', ' ', 'g'));

create or replace temp macro yd_finite(x) as case when isfinite(x) then x end;

-- Numbers as US/UK files write them: "1,234.5" (thousands commas), "12,5" (a lone decimal
-- comma), "45 %", "215.0".
create or replace temp macro yd_number_us(v) as yd_finite(coalesce(
    try_cast(v as double),
    try_cast(
        case
            when regexp_full_match(replace(replace(replace(v, ' ', ''), '%', ''), chr(160), ''),
                                   '[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?')
                then replace(replace(replace(replace(v, ' ', ''), '%', ''), chr(160), ''), ',', '')
            when regexp_full_match(replace(replace(replace(v, ' ', ''), '%', ''), chr(160), ''),
                                   '[-+]?[0-9]*,[0-9]+')
                then replace(replace(replace(replace(v, ' ', ''), '%', ''), chr(160), ''), ',', '.')
            else replace(replace(replace(v, ' ', ''), '%', ''), chr(160), '')
        end as double)));

-- Numbers as semicolon-delimited (continental) files write them: "1.234,5", "12,5".
create or replace temp macro yd_number_eu(v) as yd_finite(try_cast(
    case
        when regexp_full_match(replace(replace(replace(v, ' ', ''), '%', ''), chr(160), ''),
                               '[-+]?[0-9]{1,3}(\.[0-9]{3})+(,[0-9]+)?')
            then replace(replace(replace(replace(replace(v, ' ', ''), '%', ''), chr(160), ''),
                                 '.', ''), ',', '.')
        else replace(replace(replace(replace(v, ' ', ''), '%', ''), chr(160), ''), ',', '.')
    end as double));

-- "2024-2025", "2024-25", "2024/2025", "Fall 2024-2025", "2021-2022 School Year" -> 2024-2025.
create or replace temp macro yd_school_year(v) as (
    with parts as (
        select regexp_extract(v, '([0-9]{4})\s*[-/–]\s*([0-9]{2,4})', ['a', 'b']) as p
    ), years as (
        select try_cast(p.a as integer) as y1,
               case when length(p.b) = 4 then try_cast(p.b as integer)
                    else (try_cast(p.a as integer) // 100) * 100 + try_cast(p.b as integer)
               end as y2
        from parts
    )
    select case when y2 = y1 + 1 then y1::varchar || '-' || y2::varchar end from years
);

-- Dates in the formats vendors export: ISO, US (with 1- or 2-digit parts, 2- or 4-digit
-- years, optional time), d.m.Y, Y/m/d, "Sep 15, 2024"; day-first d/m/Y only when it cannot be
-- month-first. Years outside 1990..2100 are treated as unreadable.
create or replace temp macro yd_date(v) as (
    with parsed as (
        select coalesce(
            try_strptime(v, ['%Y-%m-%d', '%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S',
                             '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%d %H:%M']),
            try_strptime(v, ['%m/%d/%y', '%m/%d/%y %H:%M', '%m/%d/%y %H:%M:%S']),
            try_strptime(v, ['%m/%d/%Y', '%m/%d/%Y %H:%M', '%m/%d/%Y %H:%M:%S',
                             '%m/%d/%Y %I:%M %p', '%m/%d/%Y %I:%M:%S %p', '%m-%d-%Y']),
            try_strptime(v, ['%d.%m.%Y', '%Y/%m/%d', '%b %d, %Y', '%B %d, %Y', '%d %b %Y',
                             '%d/%m/%Y'])
        )::date as d
    )
    select case when year(d) between 1990 and 2100 then d end from parsed
);

create or replace temp macro yd_bool(v) as
    case
        when lower(v) in ('y', 'yes', 'true', 't', '1', 'x') then true
        when lower(v) in ('n', 'no', 'false', 'f', '0') then false
    end;

-- The season a test date falls in: Aug-Nov fall, Dec-Feb winter, Mar-Jul spring.
create or replace temp macro yd_date_season(d) as
    case
        when month(d) between 8 and 11 then 'fall'
        when month(d) in (12, 1, 2) then 'winter'
        when d is not null then 'spring'
    end;

-- The school year a test date falls in (July starts a new one).
create or replace temp macro yd_date_year(d) as
    case when d is not null then
        (year(d) - case when month(d) >= 7 then 0 else 1 end)::varchar || '-'
        || (year(d) + case when month(d) >= 7 then 1 else 0 end)::varchar
    end;

-- The words before the first digit of a term name: "Fall 2024-2025" -> "Fall".
create or replace temp macro yd_term_words(v) as regexp_extract(v, '^[^0-9]*');
