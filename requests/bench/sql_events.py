"""The city builder's service days and activities (issue 12), apart from
``sql.py`` for length. Every branch runs two venues of four stalls on every
monthly service day of the five years (and the coming one), two shifts of
six places each; nine in ten places of a past day are taken and attended
(hours credited, as ``signup_check_out`` does), the coming day half full
(a branch with fewer volunteers than places, in a small data set, fills fewer).
Each branch holds two other activities a month with 10-20 participants."""

SERVICE_DAYS = """
INSERT INTO events_serviceday (date, month, theme, is_extra, created_at)
SELECT l.last - ((extract(dow FROM l.last)::int + 1) %% 7), m::date, %(theme)s, false, %(now)s
FROM generate_series(date_trunc('month', %(today)s::date) - interval '59 months',
                     date_trunc('month', %(today)s::date) + interval '1 month',
                     interval '1 month') m
CROSS JOIN LATERAL (SELECT (m + interval '1 month' - interval '1 day')::date AS last) l
ORDER BY 2
"""

VENUES = """
INSERT INTO events_venue (day_id, station_id, kind, name, address, latitude, longitude)
SELECT d.id, s.id, (ARRAY['square', 'market', 'community', 'station'])[1 + (s.id + v) %% 4],
       s.name || (ARRAY['文化广场', '农贸市场'])[v], s.address,
       s.latitude + ({u:d.id * 100000 + s.id * 10 + v,201} - 0.5) * 0.01,
       s.longitude + ({u:d.id * 100000 + s.id * 10 + v,202} - 0.5) * 0.01
FROM events_serviceday d CROSS JOIN center_station s CROSS JOIN generate_series(1, 2) v
WHERE s.kind = 'branch'
ORDER BY d.id, s.id, v
"""

STALLS = """
INSERT INTO events_stall (venue_id, service, people_served, notes)
SELECT v.id, (%(services)s::text[])[1 + (v.id * 4 + k) %% cardinality(%(services)s::text[])],
       CASE WHEN d.date < %(today)s THEN 10 + floor({u:v.id * 4 + k,203} * 40)::int ELSE 0 END, ''
FROM events_venue v JOIN events_serviceday d ON d.id = v.day_id
CROSS JOIN generate_series(0, 3) k
ORDER BY v.id, k
"""

SHIFTS = """
INSERT INTO events_shift (stall_id, starts_at, ends_at, capacity, taken)
SELECT st.id, (d.date + t.starts)::timestamp AT TIME ZONE %(tz)s,
       (d.date + t.starts + interval '2 hours')::timestamp AT TIME ZONE %(tz)s, 6, 0
FROM events_stall st JOIN events_venue v ON v.id = st.venue_id
JOIN events_serviceday d ON d.id = v.day_id
CROSS JOIN (VALUES (time '08:30'), (time '10:30')) t(starts)
ORDER BY st.id, t.starts
"""

# The volunteers of each branch (its service points' too), numbered.
BRANCH_VOLUNTEERS = """
CREATE UNLOGGED TABLE bench_tmp_branchvol AS
SELECT coalesce(CASE WHEN s.kind = 'branch' THEN s.id END, s.parent_id) AS branch_id,
       row_number() OVER (PARTITION BY coalesce(CASE WHEN s.kind = 'branch' THEN s.id END,
                                                 s.parent_id) ORDER BY vol.id)::int AS rn,
       vol.id
FROM volunteers_volunteer vol JOIN center_station s ON s.id = vol.station_id
WHERE s.kind <> 'center' AND vol.status = 'active'
"""

# Past days: 5 or 6 places taken, attended in nine cases out of ten (in at
# the start, out two hours later); the coming day: 0-6 places, no one in yet.
SIGNUPS = """
INSERT INTO events_signup (shift_id, volunteer_id, status, created_at, checked_in_at,
    checked_out_at)
SELECT sh.id, bv.id, 'confirmed', sh.starts_at - interval '5 days',
       CASE WHEN sh.starts_at < %(now)s AND {u:sh.id * 8 + k,205} < 0.9 THEN sh.starts_at END,
       CASE WHEN sh.starts_at < %(now)s AND {u:sh.id * 8 + k,205} < 0.9 THEN sh.ends_at END
FROM events_shift sh JOIN events_stall st ON st.id = sh.stall_id
JOIN events_venue v ON v.id = st.venue_id
JOIN (SELECT branch_id, max(rn) AS n FROM bench_tmp_branchvol GROUP BY branch_id) bn
  ON bn.branch_id = v.station_id
CROSS JOIN LATERAL generate_series(0, least(bn.n - 1,
    CASE WHEN sh.starts_at < %(now)s THEN 4 + floor({u:sh.id,204} * 2)::int
         ELSE floor({u:sh.id,204} * 7)::int - 1 END)) k
JOIN bench_tmp_branchvol bv ON bv.branch_id = v.station_id
 AND bv.rn = 1 + (floor({u:sh.id,206} * bn.n)::int + k) %% bn.n
ORDER BY sh.id, k
"""

TAKEN = """
UPDATE events_shift sh SET taken = c.n
FROM (SELECT shift_id, count(*) AS n FROM events_signup WHERE status = 'confirmed'
      GROUP BY shift_id) c
WHERE c.shift_id = sh.id
"""

SIGNUP_HOURS = """
INSERT INTO volunteers_hoursentry (volunteer_id, date, hours, source, source_ref, description,
    reason, station_id, verified_at, created_at)
SELECT su.volunteer_id, d.date, 2.0, 'service_day', 'shift:' || su.shift_id || ':volunteer:' || su.volunteer_id, st.service, '',
       v.station_id, su.checked_out_at, su.checked_out_at
FROM events_signup su JOIN events_shift sh ON sh.id = su.shift_id
JOIN events_stall st ON st.id = sh.stall_id JOIN events_venue v ON v.id = st.venue_id
JOIN events_serviceday d ON d.id = v.day_id
WHERE su.checked_out_at IS NOT NULL
ORDER BY su.id
"""

ACTIVITIES = """
INSERT INTO events_activity (title, kind, status, date, station_id, organizer, place,
    people_served, notes, created_at)
SELECT (%(titles)s::text[])[1 + (s.id + m.i * 2 + k) %% cardinality(%(titles)s::text[])],
       (ARRAY['wish_drive', 'holiday_visit', 'call_up', 'other'])[1 + (s.id + m.i * 2 + k) %% 4],
       CASE WHEN a.date < %(today)s THEN 'held' ELSE 'planned' END,
       a.date, s.id, s.name, s.address,
       CASE WHEN a.date < %(today)s THEN 10 + floor({u:s.id * 1000 + m.i * 2 + k,207} * 50)::int
            ELSE 0 END, '', a.date::timestamp AT TIME ZONE %(tz)s - interval '10 days'
FROM center_station s
CROSS JOIN generate_series(0, 60) m(i)
CROSS JOIN generate_series(0, 1) k
CROSS JOIN LATERAL (SELECT (date_trunc('month', %(today)s::date) - interval '59 months'
                            + m.i * interval '1 month')::date
                           + 3 + k * 11 + floor({u:s.id * 1000 + m.i * 2 + k,208} * 10)::int
                           AS date) a
WHERE s.kind = 'branch'
ORDER BY a.date, s.id
"""

PARTICIPATIONS = """
INSERT INTO events_participation (activity_id, volunteer_id, status, hours, created_at)
SELECT a.id, bv.id,
       CASE WHEN a.status = 'planned' THEN 'joined'
            WHEN {u:a.id * 32 + k,209} < 0.92 THEN 'attended' ELSE 'absent' END,
       CASE WHEN a.status = 'held' AND {u:a.id * 32 + k,209} < 0.92 THEN 3.0 END,
       a.created_at
FROM events_activity a
JOIN (SELECT branch_id, max(rn) AS n FROM bench_tmp_branchvol GROUP BY branch_id) bn
  ON bn.branch_id = a.station_id
CROSS JOIN LATERAL generate_series(0, least(bn.n - 1, 9 + floor({u:a.id,210} * 11)::int)) k
JOIN bench_tmp_branchvol bv ON bv.branch_id = a.station_id
 AND bv.rn = 1 + (floor({u:a.id,211} * bn.n)::int + k) %% bn.n
ORDER BY a.id, k
"""

PARTICIPATION_HOURS = """
INSERT INTO volunteers_hoursentry (volunteer_id, date, hours, source, source_ref, description,
    reason, station_id, verified_at, created_at)
SELECT p.volunteer_id, a.date, p.hours, 'activity', 'participation:' || p.id, a.title, '',
       a.station_id, a.date::timestamp AT TIME ZONE %(tz)s + interval '18 hours',
       a.date::timestamp AT TIME ZONE %(tz)s + interval '18 hours'
FROM events_participation p JOIN events_activity a ON a.id = p.activity_id
WHERE p.status = 'attended'
ORDER BY p.id
"""

# The volunteer login the pages are timed as: a place on two shifts of the
# coming day at its branch (if free), and in two planned activities.
BENCH_VOLUNTEER_EVENTS = """
WITH v AS (
    SELECT vol.id, coalesce(CASE WHEN s.kind = 'branch' THEN s.id END, s.parent_id) AS branch_id
    FROM volunteers_volunteer vol JOIN center_user u ON u.id = vol.user_id
    JOIN center_station s ON s.id = vol.station_id
    WHERE u.role = 'volunteer' AND u.password = %(password)s ORDER BY u.id LIMIT 1
), signed AS (
    INSERT INTO events_signup (shift_id, volunteer_id, status, created_at)
    SELECT sh.id, v.id, 'confirmed', %(now)s
    FROM v JOIN events_venue ve ON ve.station_id = v.branch_id
    JOIN events_serviceday d ON d.id = ve.day_id AND d.date >= %(today)s
    JOIN events_stall st ON st.venue_id = ve.id
    JOIN events_shift sh ON sh.stall_id = st.id AND sh.taken < sh.capacity
    WHERE NOT EXISTS (SELECT 1 FROM events_signup x WHERE x.shift_id = sh.id
                      AND x.volunteer_id = v.id)
    ORDER BY sh.starts_at, sh.id LIMIT 2
    RETURNING shift_id
), taken AS (
    UPDATE events_shift sh SET taken = taken + 1 FROM signed WHERE signed.shift_id = sh.id
)
INSERT INTO events_participation (activity_id, volunteer_id, status, created_at)
SELECT a.id, v.id, 'invited', %(now)s
FROM v JOIN events_activity a ON a.station_id = v.branch_id AND a.status = 'planned'
WHERE NOT EXISTS (SELECT 1 FROM events_participation x WHERE x.activity_id = a.id
                  AND x.volunteer_id = v.id)
ORDER BY a.date, a.id LIMIT 2
"""
