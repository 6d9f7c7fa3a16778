"""The long statements of the city builder (``build.py``), kept apart so the
builder reads as its steps.

Every number a row needs comes from ``u(key, k)``: a hash of the row's key
(``hashint8extended``), uniform in [0, 1). Unlike ``random()`` it does not
depend on the order in which the server evaluates rows, so a chunk gives the
same rows whichever connection loads it, in whatever plan. ``{u:...}`` marks
are filled by :func:`with_u`; parameters are psycopg's ``%(name)s``.
"""

import re

_U = re.compile(r"\{u:([^,{}]+),(\d+)\}")


def with_u(query: str, seed: int) -> str:
    """Replace each ``{u:expr,k}`` with the hash of ``expr`` under ``seed`` and ``k``."""

    def one(m: re.Match) -> str:
        key, k = m.group(1).strip(), int(m.group(2))
        return (
            f"((hashint8extended(({key})::bigint, {seed * 1000 + k}) & 2147483647)::float8"
            f" / 2147483648.0)"
        )

    return _U.sub(one, query)


# Residents: a name, a community (uniform over the city's communities), a
# place within ~700 m of the community's service point, one in twenty served
# free; registered over the five years.
RESIDENTS = """
INSERT INTO requests_resident (id, name, address, community_id, latitude, longitude, is_free,
    notes, created_at)
SELECT g,
       (%(surnames)s::text[])[1 + floor({u:g,1} * cardinality(%(surnames)s::text[]))::int]
       || (%(given)s::text[])[1 + floor({u:g,2} * cardinality(%(given)s::text[]))::int]
       || CASE WHEN {u:g,3} < 0.7
               THEN (%(given)s::text[])[1 + floor({u:g,4} * cardinality(%(given)s::text[]))::int]
               ELSE '' END,
       c.street || c.name || (1 + floor({u:g,5} * 300))::int || '号',
       c.id,
       round((c.lat + ({u:g,6} * 2 - 1) * 0.006)::numeric, 6),
       round((c.lng + ({u:g,7} * 2 - 1) * 0.007)::numeric, 6),
       {u:g,8} < 0.05, '',
       %(now)s - {u:g,9} * %(days)s * interval '1 day'
FROM generate_series(1, %(n)s) g
JOIN bench_tmp_comm c ON c.rn = 1 + floor({u:g,10} * %(ncomm)s)::int
"""

# One to three numbers each, stored as the validators store them (digits
# only). The first is a landline (0573 + eight digits) for three residents in
# ten, else a mobile; the others are mobiles. The digits after the prefix are
# (key * c) mod 10^k with c prime to 10, a bijection: no number repeats.
PHONES = """
INSERT INTO requests_residentphone (resident_id, number, label)
SELECT r.id,
       CASE WHEN k = 1 AND {u:r.id,11} < 0.3
            THEN '0573' || (2 + floor({u:r.id,12} * 8))::int
                 || lpad(((r.id::bigint * 4782969) %% 10000000)::text, 7, '0')
            ELSE '1' || (3 + floor({u:r.id * 3 + k,13} * 7))::int
                 || lpad((((r.id::bigint * 3 + k) * 387420489) %% 1000000000)::text, 9, '0')
       END,
       CASE WHEN k = 1 THEN '' WHEN k = 2 THEN '子女' ELSE '家属' END
FROM requests_resident r
CROSS JOIN LATERAL generate_series(1, 1 + floor({u:r.id,14} * 3)::int) k
ORDER BY r.id, k
"""

# A family contact for three residents in ten.
CONTACTS = """
INSERT INTO requests_residentcontact (resident_id, name, relation, phone)
SELECT r.id, left(r.name, 1) || (%(given)s::text[])[1 + floor({u:r.id,15} * cardinality(%(given)s::text[]))::int],
       (%(relations)s::text[])[1 + floor({u:r.id,16} * cardinality(%(relations)s::text[]))::int],
       '1' || (3 + floor({u:r.id,17} * 7))::int
       || lpad(((r.id::bigint * 1162261467) %% 1000000000)::text, 9, '0')
FROM requests_resident r
WHERE {u:r.id,18} < 0.3
ORDER BY r.id
"""

# One chunk of orders, ids ``lo``..``hi`` of ``n``. The order's time grows
# with its id (rows are stored in the order they were received) along a
# curve on which the city's calls grow by ~2.3x over the years (density
# 0.6 -> 1.4). The caller is a resident; the order takes their community,
# place and address (as services.order_create does) and goes to the branch
# serving it (85%, what suggest_station picks) or to the community's own
# service point (15%, chosen by the operator). The provider is a volunteer
# of that branch (88%), a merchant serving it (10%) or one of its teams (2%).
# Older than three days: archived (95%) or cancelled; one to three days: some
# still await the follow-up call; the last day: every open status. Step
# times never pass ``now``.
ORDERS = """
INSERT INTO requests_servicerequest (id, number, kind, channel, urgency, status, caller_phone,
    description, address, latitude, longitude, quoted_price, fee_waived, mode, offer_ring,
    received_at, dispatched_at, taken_at, on_the_way_at, arrived_at, completed_at,
    followed_up_at, archived_at, cancelled_at, response_seconds, arrival_seconds, urge_count,
    repeat_calls, reopen_count, work_notes, fee_charged, fee_reason, community_id, item_id,
    resident_id, station_id, arrival_unreported, dispatch_round, provider_id, created_by_id)
SELECT o.g,
       'GD' || to_char(o.at AT TIME ZONE %(tz)s, 'YYYYMMDD')
           || lpad(o.g::text, greatest(7, length(o.g::text)), '0'),
       'help',
       CASE WHEN o.a < 0.8 THEN 'hotline' WHEN o.a < 0.9 THEN 'device' ELSE 'walk_in' END,
       CASE WHEN o.b < 0.02 THEN 'emergency' WHEN o.b < 0.1 THEN 'urgent' ELSE 'normal' END,
       o.status,
       CASE WHEN o.c < 0.85 THEN o.phone
            ELSE '1' || (3 + floor(o.b * 7))::int
                 || lpad(((o.g::bigint * 205891132) %% 1000000000)::text, 9, '0') END,
       '', o.address, o.lat, o.lng, o.price, o.is_free,
       CASE WHEN o.step >= 1 THEN 'assign' ELSE '' END, 0,
       o.at,
       CASE WHEN o.step >= 1 THEN least(o.at + interval '1 minute', %(now)s) END,
       CASE WHEN o.step >= 2 THEN o.taken END,
       CASE WHEN o.step >= 3 THEN least(o.taken + interval '2 minutes', o.arrived) END,
       CASE WHEN o.step >= 4 THEN o.arrived END,
       CASE WHEN o.step >= 5 THEN o.completed END,
       CASE WHEN o.step >= 6 THEN o.followed END,
       CASE WHEN o.step >= 6 THEN o.followed END,
       CASE WHEN o.step = -1 THEN least(o.at + interval '20 minutes', %(now)s) END,
       CASE WHEN o.step >= 2 THEN extract(epoch FROM o.taken - o.at)::int END,
       CASE WHEN o.step >= 4 THEN extract(epoch FROM o.arrived - o.taken)::int END,
       0, 0, 0, '',
       CASE WHEN o.step >= 5 THEN CASE WHEN o.is_free THEN 0 ELSE o.price END END, '',
       o.community_id, o.item_id, o.resident_id, o.station_id, false, 0,
       CASE WHEN o.step < 1 THEN NULL
            WHEN o.who < 0.88 THEN o.vp_id
            WHEN o.who < 0.98 THEN coalesce(o.mp_id, o.vp_id)
            ELSE coalesce(o.tp_id, o.vp_id) END,
       %(operator)s
FROM (
    SELECT q.*,
           CASE q.status WHEN 'cancelled' THEN -1 WHEN 'received' THEN 0
               WHEN 'dispatched' THEN 1 WHEN 'taken' THEN 2 WHEN 'on_the_way' THEN 3
               WHEN 'arrived' THEN 4 WHEN 'completed' THEN 5 ELSE 6 END AS step,
           least(q.at + (60 + q.b * 540) * interval '1 second', %(now)s) AS taken,
           least(q.at + (360 + q.b * 540 + q.a * 1200) * interval '1 second', %(now)s)
               AS arrived,
           least(q.at + (360 + q.b * 540 + q.a * 1200 + q.minutes * 60) * interval '1 second',
                 %(now)s) AS completed,
           least(q.at + interval '1 day' + (q.a * 7200) * interval '1 second', %(now)s)
               AS followed
    FROM (
        SELECT x.*, r.id AS resident_id, r.community_id, r.lat, r.lng, r.address, r.is_free,
               r.phone, i.id AS item_id, i.price, i.minutes,
               CASE WHEN x.v < 0.85 OR r.sp_id IS NULL THEN r.branch_id ELSE r.sp_id END
                   AS station_id,
               bv.id AS vp_id, bm.id AS mp_id, bt.id AS tp_id,
               CASE WHEN x.age > 3 THEN CASE WHEN x.s < 0.95 THEN 'archived' ELSE 'cancelled' END
                    WHEN x.age > 1 THEN CASE WHEN x.s < 0.6 THEN 'archived'
                                             WHEN x.s < 0.95 THEN 'completed'
                                             ELSE 'cancelled' END
                    ELSE CASE WHEN x.s < 0.15 THEN 'received' WHEN x.s < 0.25 THEN 'dispatched'
                              WHEN x.s < 0.4 THEN 'taken' WHEN x.s < 0.5 THEN 'on_the_way'
                              WHEN x.s < 0.6 THEN 'arrived' WHEN x.s < 0.95 THEN 'completed'
                              ELSE 'cancelled' END
               END AS status
        FROM (
            SELECT y.*, extract(epoch FROM %(now)s - y.at)::float8 / 86400 AS age
            FROM (
                SELECT g,
                       %(now)s - (1 - (sqrt(0.36 + 1.6 * ((g - 0.5)::float8 / %(n)s)) - 0.6) / 0.8)
                           * %(days)s * interval '1 day' AS at,
                       1 + floor({u:g,21} * %(residents)s)::int AS rk,
                       1 + floor({u:g,22} * %(items)s)::int AS ik,
                       {u:g,23} AS s, {u:g,24} AS a, {u:g,25} AS b, {u:g,26} AS c,
                       {u:g,27} AS who, {u:g,28} AS v, {u:g,29} AS pv, {u:g,30} AS pm,
                       {u:g,31} AS pt
                FROM generate_series(%(lo)s, %(hi)s) g
                OFFSET 0
            ) y
            OFFSET 0
        ) x
        JOIN bench_tmp_res r ON r.id = x.rk
        JOIN bench_tmp_items i ON i.rn = x.ik
        JOIN bench_tmp_bn bn ON bn.branch_id = r.branch_id
        JOIN bench_tmp_bv bv ON bv.branch_id = r.branch_id
                            AND bv.brn = 1 + floor(x.pv * bn.nv)::int
        LEFT JOIN bench_tmp_bm bm ON bm.branch_id = r.branch_id
                                 AND bm.brn = 1 + floor(x.pm * bn.nm)::int
        LEFT JOIN bench_tmp_bt bt ON bt.branch_id = r.branch_id
                                 AND bt.brn = 1 + floor(x.pt * bn.nt)::int
        OFFSET 0
    ) q
    OFFSET 0
) o
"""

# The complaints: about one order in a hundred (archived orders of a
# volunteer or a merchant: the follow-up call raised them). Recorded at the
# follow-up; the last 30 days still pending; ruled two days later, invalid
# if ruled within the last 120 days (so no sanction is still in force), else
# valid one time in three.
COMPLAINT_ORDERS = """
CREATE UNLOGGED TABLE bench_tmp_cmp AS
SELECT row_number() OVER (ORDER BY o.id)::int AS cid, o.id AS order_id, o.provider_id,
       o.followed_up_at AS at,
       CASE WHEN o.followed_up_at > %(now)s - interval '30 days' THEN 'pending'
            WHEN o.followed_up_at > %(now)s - interval '122 days' THEN 'invalid'
            WHEN {u:o.id,41} < 0.33 THEN 'valid' ELSE 'invalid' END AS status,
       {u:o.id,42} AS r
FROM requests_servicerequest o
JOIN volunteers_provider p ON p.id = o.provider_id AND p.kind IN ('volunteer', 'merchant')
WHERE o.status = 'archived' AND {u:o.id,40} < %(rate)s
"""

# The timeline (and its audit entries, services._event writes both) of the
# most recent orders: one row per step taken, at the step's time.
EVENTS = """
INSERT INTO requests_orderevent (order_id, at, actor_id, action, note, data)
SELECT o.id, s.at, s.actor, 'requests.order.' || s.verb, '', s.data
FROM requests_servicerequest o
LEFT JOIN center_serviceitem i ON i.id = o.item_id
LEFT JOIN volunteers_provider p ON p.id = o.provider_id
CROSS JOIN LATERAL (VALUES
    (1, 'received', o.received_at, o.created_by_id,
     jsonb_build_object('channel', o.channel, 'item', i.name)),
    (2, 'assigned', o.dispatched_at, o.created_by_id,
     jsonb_build_object('provider', p.name)),
    (3, 'taken', o.taken_at, p.user_id, '{}'::jsonb),
    (4, 'on_the_way', o.on_the_way_at, p.user_id, '{}'::jsonb),
    (5, 'arrived', o.arrived_at, p.user_id, '{}'::jsonb),
    (6, 'completed', o.completed_at, p.user_id,
     jsonb_build_object('fee', o.fee_charged::text)),
    (7, 'followed_up', o.followed_up_at, %(operator)s::bigint, '{}'::jsonb),
    (8, 'cancelled', o.cancelled_at, o.created_by_id, '{}'::jsonb)
) AS s(n, verb, at, actor, data)
WHERE o.id > %(since)s AND s.at IS NOT NULL
ORDER BY o.id, s.n
"""

EVENT_AUDIT = """
INSERT INTO center_auditentry (created_at, actor_id, action, target_type, target_id, data)
SELECT e.at, e.actor_id, e.action, 'requests.servicerequest', e.order_id::text,
       e.data || jsonb_build_object('event', e.id)
FROM requests_orderevent e
ORDER BY e.id
"""


# --- Special groups, care, micro-wishes (issue 11) ---------------------------
# One resident in ten belongs to a special group (a second group for one in
# five of them); the disabled carry a category and level from the certificate.
SPECIAL_GROUPS = """
INSERT INTO requests_residentgroup (resident_id, group_id, disability_category,
    disability_level, verified_on, note, created_at)
SELECT r.id, g.id,
       CASE WHEN g.kind = 'disability'
            THEN (%(cats)s::text[])[1 + floor({u:r.id,42} * cardinality(%(cats)s::text[]))::int]
            ELSE '' END,
       CASE WHEN g.kind = 'disability' THEN 1 + floor({u:r.id,43} * 4)::int END,
       %(today)s::date - floor({u:r.id,44} * 700)::int, '', %(now)s
FROM requests_resident r
CROSS JOIN LATERAL (
    SELECT 1 + floor({u:r.id,41} * %(ngroups)s)::int AS pick
    UNION ALL
    SELECT 1 + (floor({u:r.id,41} * %(ngroups)s)::int + 1) %% %(ngroups)s
    WHERE {u:r.id,45} < 0.2
) k
JOIN (SELECT row_number() OVER (ORDER BY "order", id)::int AS rn, id, kind
      FROM requests_specialgroup WHERE is_active) g ON g.rn = k.pick
WHERE {u:r.id,40} < %(share)s
ORDER BY r.id, g.id
"""

# The registry's residents: the mark and the latest order (the care lists'
# "silent" residents read last_contact_at).
SPECIAL_MARK = """
UPDATE requests_resident r SET is_special = true, last_contact_at = o.last
FROM (SELECT DISTINCT resident_id FROM requests_residentgroup) g
LEFT JOIN (SELECT resident_id, max(received_at) AS last FROM requests_servicerequest
           GROUP BY resident_id) o ON o.resident_id = g.resident_id
WHERE r.id = g.resident_id
"""

# Separate consent (all the disabled, half the others), and the sensitive
# row it allows: health notes (no ID numbers in the bench).
CONSENTS = """
INSERT INTO requests_residentconsent (resident_id, scope, method, given_on, created_at)
SELECT g.resident_id, '["health", "disability", "id_number"]'::jsonb, 'signed',
       min(g.verified_on), %(now)s
FROM requests_residentgroup g JOIN requests_specialgroup sg ON sg.id = g.group_id
GROUP BY g.resident_id
HAVING bool_or(sg.is_sensitive) OR {u:g.resident_id,46} < 0.5
ORDER BY g.resident_id
"""
SENSITIVE = """
INSERT INTO requests_residentsensitive (resident_id, id_number, health_notes, updated_at)
SELECT c.resident_id, '',
       (%(health)s::text[])[1 + floor({u:c.resident_id,47} * cardinality(%(health)s::text[]))::int],
       %(now)s
FROM requests_residentconsent c ORDER BY c.resident_id
"""

# Pairings (结对): the first ``n`` special residents, each with an in-service
# member (a stride over them, so members differ), visited every 14 days;
# the last visit 0–24 days ago, so about four in ten are overdue.
PAIRINGS = """
INSERT INTO requests_pairing (resident_id, volunteer_id, cadence_days, started_on, end_reason,
    last_visit_on, next_visit_due, created_at)
SELECT s.id, m.id, 14,
       %(today)s::date - (60 + floor({u:s.rn,50} * 640))::int, '',
       %(today)s::date - floor({u:s.rn,51} * 25)::int,
       %(today)s::date - floor({u:s.rn,51} * 25)::int + 14, %(now)s
FROM bench_tmp_special s
JOIN bench_tmp_member m ON m.rn = 1 + (s.rn::bigint * 7919) %% %(nmembers)s
WHERE s.rn <= %(n)s
ORDER BY s.rn
"""

# Their visits over the last year: one per cadence back from the last.
VISITS = """
INSERT INTO requests_carevisit (resident_id, volunteer_id, pairing_id, visited_on, minutes,
    found, created_at)
SELECT p.resident_id, p.volunteer_id, p.id, p.last_visit_on - k * p.cadence_days,
       30 + floor({u:p.id * 40 + k,52} * 60)::int,
       (%(found)s::text[])[1 + floor({u:p.id * 40 + k,53} * cardinality(%(found)s::text[]))::int],
       (p.last_visit_on - k * p.cadence_days)::timestamp AT TIME ZONE %(tz)s + interval '10 hours'
FROM requests_pairing p
CROSS JOIN LATERAL generate_series(
    0, least((p.last_visit_on - p.started_on) / p.cadence_days, 26)) k
ORDER BY p.id, k DESC
"""
VISIT_CONTACT = """
UPDATE requests_resident r
SET last_contact_at = greatest(r.last_contact_at,
                               p.last_visit_on::timestamp AT TIME ZONE %(tz)s + interval '10 hours')
FROM requests_pairing p WHERE p.resident_id = r.id
"""

# Micro-wishes of special residents over the five years (ids in time order):
# older than two months, confirmed (90%) or withdrawn; the last two months in
# every state. One in five shared between several adopters.
WISHES = """
INSERT INTO requests_microwish (resident_id, community_id, district_id, station_id, title,
    description, kind, estimated_cost, shares, shares_taken, pledged_total, spent_total,
    deadline, status, round, priority, source, photo, photo_publishable, withdrawn_reason,
    fulfilment_note, fulfilment_photo, created_at, verified_at, published_at, adopted_at,
    contact_due_at, contacted_at, fulfilled_at, confirmed_at, withdrawn_at)
SELECT w.resident_id, w.community_id, w.district_id, w.branch_id, w.title, '', w.kind, w.cost,
       w.shares,
       CASE WHEN w.status IN ('adopted', 'contacted', 'fulfilled', 'confirmed') THEN w.shares
            ELSE 0 END,
       CASE WHEN w.status IN ('adopted', 'contacted', 'fulfilled', 'confirmed') THEN w.cost
            ELSE 0 END,
       CASE WHEN w.status IN ('fulfilled', 'confirmed') THEN w.cost ELSE 0 END,
       (w.at AT TIME ZONE %(tz)s)::date + 30, w.status, 1, false, w.source, '', false,
       CASE WHEN w.status = 'withdrawn' THEN '居民已不需要' ELSE '' END,
       CASE WHEN w.status IN ('fulfilled', 'confirmed') THEN '已送到家中' ELSE '' END, '',
       w.at,
       CASE WHEN w.status <> 'draft' THEN w.at + interval '1 day' END,
       CASE WHEN w.status NOT IN ('draft', 'verified') THEN w.at + interval '2 days' END,
       CASE WHEN w.status IN ('adopted', 'contacted', 'fulfilled', 'confirmed')
            THEN w.at + interval '5 days' END,
       CASE WHEN w.status IN ('adopted', 'contacted', 'fulfilled', 'confirmed')
            THEN w.at + interval '12 days' END,
       CASE WHEN w.status IN ('contacted', 'fulfilled', 'confirmed')
            THEN w.at + interval '7 days' END,
       CASE WHEN w.status IN ('fulfilled', 'confirmed') THEN w.at + interval '14 days' END,
       CASE WHEN w.status = 'confirmed' THEN w.at + interval '16 days' END,
       CASE WHEN w.status = 'withdrawn' THEN w.at + interval '3 days' END
FROM (
    SELECT g, s.id AS resident_id, s.community_id, st.parent_id AS district_id, c.branch_id,
           (%(titles)s::text[])[1 + floor({u:g,61} * cardinality(%(titles)s::text[]))::int] AS title,
           (%(kinds)s::text[])[1 + floor({u:g,62} * 3)::int] AS kind,
           (50 + floor({u:g,63} * 40) * 50)::numeric(8, 2) AS cost,
           CASE WHEN {u:g,64} < 0.2 THEN 2 + floor({u:g,65} * 4)::int ELSE 1 END AS shares,
           (%(sources)s::text[])[1 + floor({u:g,66} * 4)::int] AS source,
           %(now)s::timestamptz
             - ((%(n)s - g)::float8 / %(n)s) * %(days)s * interval '1 day'
             - {u:g,67} * interval '1 day' AS at,
           CASE WHEN (%(n)s - g)::float8 / %(n)s * %(days)s > 60
                THEN CASE WHEN {u:g,68} < 0.9 THEN 'confirmed' ELSE 'withdrawn' END
                ELSE (%(states)s::text[])[1 + floor({u:g,69} * cardinality(%(states)s::text[]))::int]
           END AS status
    FROM generate_series(1, %(n)s) g
    JOIN bench_tmp_special s ON s.rn = 1 + floor({u:g,60} * %(nspecial)s)::int
    JOIN bench_tmp_comm c ON c.id = s.community_id
    JOIN center_area cm ON cm.id = s.community_id
    JOIN center_area st ON st.id = cm.parent_id
) w
ORDER BY w.g
"""

# One adopter per adopted wish (a volunteer taking every share).
ADOPTIONS = """
INSERT INTO requests_wishadoption (wish_id, volunteer_id, shares, amount, is_remote, status,
    adopted_at)
SELECT w.id, m.id, w.shares, w.pledged_total, false, 'active', w.adopted_at
FROM requests_microwish w
JOIN bench_tmp_member m ON m.rn = 1 + (w.id::bigint * 104729) %% %(nmembers)s
WHERE w.status IN ('adopted', 'contacted', 'fulfilled', 'confirmed')
ORDER BY w.id
"""

BENCH_VOLUNTEER_CARE = """
WITH v AS (
    SELECT vol.id FROM volunteers_volunteer vol JOIN center_user u ON u.id = vol.user_id
    WHERE u.role = 'volunteer' AND u.password = %(password)s ORDER BY u.id LIMIT 1
), paired AS (
    INSERT INTO requests_pairing (resident_id, volunteer_id, cadence_days, started_on, end_reason,
        last_visit_on, next_visit_due, created_at)
    SELECT s.id, v.id, 14, %(today)s::date - 200, '', %(today)s::date - 3 * s.k,
           %(today)s::date - 3 * s.k + 14, %(now)s
    FROM (SELECT id, row_number() OVER (ORDER BY rn)::int AS k FROM bench_tmp_special
          WHERE rn > %(n)s ORDER BY rn LIMIT 8) s, v
    RETURNING id
)
UPDATE requests_wishadoption a SET volunteer_id = v.id FROM v
WHERE a.id IN (SELECT id FROM requests_wishadoption ORDER BY id DESC LIMIT 8)
"""
