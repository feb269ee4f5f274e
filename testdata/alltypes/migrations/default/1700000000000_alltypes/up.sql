-- One column of each type Hasura's PostgreSQL backend maps to a scalar, and
-- rows of edge values: the differential test's table (differential_test.go).
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE colors (value text PRIMARY KEY, comment text);
INSERT INTO colors VALUES ('red', 'Red'), ('green', 'Green'), ('blue', NULL);
CREATE TABLE alltypes (
    id integer PRIMARY KEY,
    i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision, n numeric, m money,
    b boolean, t text, vc varchar(40), ch char(4), ci citext, u uuid,
    d date, tm time, ttz timetz, ts timestamp, tstz timestamptz, iv interval,
    j json, jb jsonb, by bytea, ip inet, md mood, color text REFERENCES colors (value),
    ai integer[], at text[], an numeric[], aid information_schema.sql_identifier[]
);
INSERT INTO alltypes VALUES
    (1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (2, 1, 42, 9007199254740993, 1.5, 3.141592653589793, 123456789012345678901234567890.123456789, 12.34,
        true, 'hello', 'Hello World', 'ab', 'MiXeD', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        '2024-02-29', '13:45:00', '13:45:00+02', '2024-02-29 13:45:00.123456', '2024-02-29 13:45:00+05:30', '1 day 02:00:00',
        '{"a": 1, "b": [1, 2]}', '{"a": 1, "nested": {"k": [1, "x", null]}, "big": 12345678901234567890123}', '\xdeadbeef', '192.168.0.1',
        'happy', 'red', '{1,2,3}', '{a,"b c"}', '{1.5,2}', '{x,y}'),
    (3, -32768, -2147483648, -9223372036854775808, -0.25, -1e300, -0.000000000000000000000001, -5,
        false, E'It''s "quoted" \\ ✓ 😀\n', '', '', 'mixed', '00000000-0000-0000-0000-000000000000',
        '0001-01-01', '00:00', '00:00-08', '1999-12-31 23:59:59', '1999-12-31 23:59:59-08', '-3 mons',
        '[]', '[1, "two", {"three": 3}]', '\x', '::1',
        'sad', 'green', '{}', '{}', '{}', '{}'),
    (4, 32767, 2147483647, 9223372036854775807, 3.4e38, 1.7976931348623157e308, 1e-20, 92233720368547758.07,
        true, '日本語', 'hello', 'xyz', 'ÄÖÜ', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
        '9999-12-31', '23:59:59.999999', '23:59:59.999999+14', '2024-01-01 00:00:00', '2024-01-01 00:00:00+00', '1 year 2 mons 3 days',
        '"x"', '"string"', '\x00ff', '10.0.0.0/8',
        'ok', 'blue', '{-1,NULL,1}', '{NULL,""}', '{1e-20}', '{"Mixed Case"}'),
    (5, 0, 0, 0, 0, 0, 0, 0,
        false, 'Hello', 'hello world', 'a', 'mixed', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
        '2024-02-29', '13:45:00', '11:45:00+00', '2024-02-29 13:45:00.123456', '2024-02-29 08:15:00+00', '26:00:00',
        '{"b": [1, 2], "a": 1}', '{"nested": {"k": [1, "x", null]}, "a": 1.0}', '\xDEADBEEF', '192.168.0.1/32',
        'happy', 'red', '{1,2,3}', '{"b c",a}', '{2,1.5}', '{y,x}'),
    (6, 7, 7, 7, 7, 7, 7.000, 7,
        true, '%_\', 'under_score', '_%', 'Under_Score', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
        '2000-01-01', '12:00', '12:00+00', '2000-01-01 12:00', '2000-01-01 12:00+00', '7 days',
        'null', 'null', '\x07', '2001:db8::1',
        'ok', NULL, '{7}', '{"%_"}', '{7.000}', '{seven}');
