"""The compliance summary's people triggers once per statement, and recounts without merge joins.

Measured on the national benchmark database (Bergen, 20 000 people; load about 6 on two cores):

- a person's share is computed for all the people a statement changed at once (transition
  tables), instead of once per row: moving 1 000 people in one UPDATE took 60 s, now 2.7 s; a
  sign-in updating last_login moves nothing and costs a join of two one-row tables;
- the share is PL/pgSQL so that its plan is kept for the connection (planning through
  policies_audience cost ~27 ms, running it for one person ~1.5 ms);
- a recount of one policy merged people and units on the kommune alone and filtered 8 million
  pairs (1.6-2.3 s); with merge joins off inside the function it is ~0.2 s. The same for the full
  rebuild.
"""

from django.db import migrations

SUMMARY_LOCK = 7413014

SQL = """
DROP TRIGGER person_summarised ON people_person;
DROP TRIGGER person_summarised_delete ON people_person;
DROP TRIGGER person_summarised_insert ON people_person;
DROP FUNCTION policies_person_summarise();
DROP FUNCTION policies_summary_shift(people_person, people_person, bigint, integer, integer);
DROP FUNCTION policies_person_share(people_person, bigint, integer);

-- People's share of the summary: the rows of policies_obligation they would have, written as
-- that view is (policies_audience by class, their newest confirmation, the rule's functions), for
-- person rows that may be the ones before an UPDATE. only_policy/only_number: count just that
-- policy, as if only_number were their newest confirmed version of it. PL/pgSQL rather than SQL
-- only so that the plan is kept for the connection (planning through policies_audience costs
-- more than running it for one person).
CREATE FUNCTION policies_people_share(people people_person[], only_policy bigint,
                                      only_number integer)
RETURNS TABLE (organisation_id bigint, policy_id bigint, unit_id bigint, due date,
               compliant integer)
LANGUAGE plpgsql STABLE AS $$
BEGIN
RETURN QUERY
SELECT au.organisation_id::bigint, au.policy_id::bigint, au.unit_id::bigint,
       policies_summary_due(
           policies_due(au.effective_from, policies_since(pe.unit_since, pe.date_joined),
                        au.deadline_days),
           s.status),
       (s.status = 2)::integer
  FROM unnest(people) pe
  JOIN policies_audience au
    ON au.organisation_id = pe.organisation_id
   AND au.unit_id = COALESCE(pe.unit_id, 0)
   AND au.elected = pe.is_elected_official
  LEFT JOIN policies_latestacknowledgement la
    ON only_policy IS NULL AND la.person_id = pe.id AND la.policy_id = au.policy_id
 CROSS JOIN LATERAL (
        SELECT policies_status(CASE WHEN only_policy IS NULL THEN la.number ELSE only_number END,
                               au.required_number) AS status) s
 WHERE pe.is_active
   AND (only_policy IS NULL OR au.policy_id = only_policy);
END;
$$;

-- Move people's share from what they were (`was`) to what they are (`now_is`): one statement,
-- the difference only, in key order. Either may be empty (new or deleted people).
CREATE FUNCTION policies_summary_shift(was people_person[], now_is people_person[],
                                       only_policy bigint, was_number integer,
                                       now_number integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(was) = 0 AND cardinality(now_is) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock_shared({lock}, o::integer)
       FROM (SELECT DISTINCT p.organisation_id AS o
               FROM (SELECT * FROM unnest(was) UNION ALL SELECT * FROM unnest(now_is)) p
              WHERE p.organisation_id IS NOT NULL
              ORDER BY 1) k;
    INSERT INTO policies_compliancesummary AS s
           (organisation_id, policy_id, unit_id, due, must, compliant)
    SELECT d.organisation_id, d.policy_id, d.unit_id, d.due, sum(d.must), sum(d.compliant)
      FROM (SELECT w.organisation_id, w.policy_id, w.unit_id, w.due, -1 AS must,
                   -w.compliant AS compliant
              FROM policies_people_share(was, only_policy, was_number) w
            UNION ALL
            SELECT n.organisation_id, n.policy_id, n.unit_id, n.due, 1, n.compliant
              FROM policies_people_share(now_is, only_policy, now_number) n) d
     GROUP BY 1, 2, 3, 4
    HAVING sum(d.must) <> 0 OR sum(d.compliant) <> 0
     ORDER BY 1, 2, 3, 4
    ON CONFLICT (organisation_id, policy_id, unit_id, due) DO UPDATE
       SET must = s.must + EXCLUDED.must, compliant = s.compliant + EXCLUDED.compliant;
END;
$$;

-- The newest confirmation per person and policy, and the person's row of the summary. The person
-- row is locked first, so that a move, a leave or another confirmation of the same person waits.
CREATE OR REPLACE FUNCTION policies_acknowledgement_summarise() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_policy bigint;
    v_number integer;
    who people_person;
    previous integer;
BEGIN
    SELECT policy_id, number INTO v_policy, v_number
      FROM policies_policyversion WHERE id = NEW.version_id;
    SELECT * INTO who FROM people_person WHERE id = NEW.person_id FOR NO KEY UPDATE;
    SELECT number INTO previous FROM policies_latestacknowledgement
     WHERE person_id = NEW.person_id AND policy_id = v_policy;
    IF previous IS NOT NULL AND previous >= v_number THEN
        RETURN NULL;
    END IF;
    INSERT INTO policies_latestacknowledgement (person_id, policy_id, acknowledgement_id, number)
    VALUES (NEW.person_id, v_policy, NEW.id, v_number)
    ON CONFLICT (person_id, policy_id) DO UPDATE
       SET acknowledgement_id = EXCLUDED.acknowledgement_id, number = EXCLUDED.number;
    PERFORM policies_summary_shift(ARRAY[who], ARRAY[who], v_policy, previous, v_number);
    RETURN NULL;
END;
$$;

-- People joining, leaving, moving (once per statement: an HR import moves many at a time).
CREATE FUNCTION policies_people_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM policies_summary_shift(
        '{}', ARRAY(SELECT n::people_person FROM new_people n ORDER BY n.id), NULL, NULL, NULL);
    RETURN NULL;
END;
$$;

CREATE FUNCTION policies_people_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM policies_summary_shift(
        ARRAY(SELECT o::people_person FROM old_people o ORDER BY o.id), '{}', NULL, NULL, NULL);
    RETURN NULL;
END;
$$;

-- Only the rows whose class or start changed (a sign-in updating last_login moves nothing).
CREATE FUNCTION policies_people_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM policies_summary_shift(
        ARRAY(SELECT o::people_person FROM old_people o JOIN new_people n ON n.id = o.id
               WHERE (o.organisation_id, o.unit_id, o.is_elected_official, o.is_active,
                      o.unit_since, o.date_joined)
                     IS DISTINCT FROM (n.organisation_id, n.unit_id, n.is_elected_official,
                                       n.is_active, n.unit_since, n.date_joined)
               ORDER BY o.id),
        ARRAY(SELECT n::people_person FROM old_people o JOIN new_people n ON n.id = o.id
               WHERE (o.organisation_id, o.unit_id, o.is_elected_official, o.is_active,
                      o.unit_since, o.date_joined)
                     IS DISTINCT FROM (n.organisation_id, n.unit_id, n.is_elected_official,
                                       n.is_active, n.unit_since, n.date_joined)
               ORDER BY n.id),
        NULL, NULL, NULL);
    RETURN NULL;
END;
$$;

CREATE TRIGGER person_summarised_insert AFTER INSERT ON people_person
REFERENCING NEW TABLE AS new_people FOR EACH STATEMENT
EXECUTE FUNCTION policies_people_inserted();

CREATE TRIGGER person_summarised_delete AFTER DELETE ON people_person
REFERENCING OLD TABLE AS old_people FOR EACH STATEMENT
EXECUTE FUNCTION policies_people_deleted();

CREATE TRIGGER person_summarised AFTER UPDATE ON people_person
REFERENCING OLD TABLE AS old_people NEW TABLE AS new_people FOR EACH STATEMENT
EXECUTE FUNCTION policies_people_updated();

-- Merge joins off: the planner cannot estimate the people per class through policies_audience's
-- UNION, and for a kommune of 20 000 merged people and units on the kommune alone.
ALTER FUNCTION policies_summary_recount(bigint[]) SET enable_mergejoin = off;
ALTER FUNCTION policies_rebuild_acknowledgement_summary() SET enable_mergejoin = off;
""".replace("{lock}", str(SUMMARY_LOCK))

REVERSE = """
ALTER FUNCTION policies_rebuild_acknowledgement_summary() RESET enable_mergejoin;
ALTER FUNCTION policies_summary_recount(bigint[]) RESET enable_mergejoin;
DROP TRIGGER person_summarised ON people_person;
DROP TRIGGER person_summarised_delete ON people_person;
DROP TRIGGER person_summarised_insert ON people_person;
DROP FUNCTION policies_people_updated();
DROP FUNCTION policies_people_deleted();
DROP FUNCTION policies_people_inserted();
DROP FUNCTION policies_summary_shift(people_person[], people_person[], bigint, integer, integer);
DROP FUNCTION policies_people_share(people_person[], bigint, integer);

-- One person's share of the summary: the rows of policies_obligation they would have, written as
-- that view is (policies_audience by class, their newest confirmation, the rule's functions), for
-- a person row that may be the one before an UPDATE. only_policy/only_number: count just that
-- policy, as if only_number were their newest confirmed version of it.
CREATE FUNCTION policies_person_share(pe people_person, only_policy bigint, only_number integer)
RETURNS TABLE (organisation_id bigint, policy_id bigint, unit_id bigint, due date,
               compliant integer)
LANGUAGE sql STABLE AS $$
SELECT au.organisation_id::bigint, au.policy_id::bigint, au.unit_id::bigint,
       policies_summary_due(
           policies_due(au.effective_from, policies_since(pe.unit_since, pe.date_joined),
                        au.deadline_days),
           s.status),
       (s.status = 2)::integer
  FROM policies_audience au
  LEFT JOIN policies_latestacknowledgement la
    ON only_policy IS NULL AND la.person_id = pe.id AND la.policy_id = au.policy_id
 CROSS JOIN LATERAL (
        SELECT policies_status(CASE WHEN only_policy IS NULL THEN la.number ELSE only_number END,
                               au.required_number) AS status) s
 WHERE pe.is_active
   AND au.organisation_id = pe.organisation_id
   AND au.unit_id = COALESCE(pe.unit_id, 0)
   AND au.elected = pe.is_elected_official
   AND (only_policy IS NULL OR au.policy_id = only_policy)
$$;

-- Move one person's share from what they were (`was`) to what they are (`now_is`): one statement,
-- the difference only, in key order. Either may be NULL (a new or a deleted person).
CREATE FUNCTION policies_summary_shift(was people_person, now_is people_person,
                                       only_policy bigint, was_number integer,
                                       now_number integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared({lock}, o::integer)
       FROM (SELECT DISTINCT o FROM unnest(ARRAY[was.organisation_id, now_is.organisation_id]) o
              WHERE o IS NOT NULL ORDER BY o) k;
    INSERT INTO policies_compliancesummary AS s
           (organisation_id, policy_id, unit_id, due, must, compliant)
    SELECT d.organisation_id, d.policy_id, d.unit_id, d.due, sum(d.must), sum(d.compliant)
      FROM (SELECT w.organisation_id, w.policy_id, w.unit_id, w.due, -1 AS must,
                   -w.compliant AS compliant
              FROM policies_person_share(was, only_policy, was_number) w
            UNION ALL
            SELECT n.organisation_id, n.policy_id, n.unit_id, n.due, 1, n.compliant
              FROM policies_person_share(now_is, only_policy, now_number) n) d
     GROUP BY 1, 2, 3, 4
    HAVING sum(d.must) <> 0 OR sum(d.compliant) <> 0
     ORDER BY 1, 2, 3, 4
    ON CONFLICT (organisation_id, policy_id, unit_id, due) DO UPDATE
       SET must = s.must + EXCLUDED.must, compliant = s.compliant + EXCLUDED.compliant;
END;
$$;

-- The newest confirmation per person and policy, and the person's row of the summary. The person
-- row is locked first, so that a move, a leave or another confirmation of the same person waits.
CREATE OR REPLACE FUNCTION policies_acknowledgement_summarise() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_policy bigint;
    v_number integer;
    who people_person;
    previous integer;
BEGIN
    SELECT policy_id, number INTO v_policy, v_number
      FROM policies_policyversion WHERE id = NEW.version_id;
    SELECT * INTO who FROM people_person WHERE id = NEW.person_id FOR NO KEY UPDATE;
    SELECT number INTO previous FROM policies_latestacknowledgement
     WHERE person_id = NEW.person_id AND policy_id = v_policy;
    IF previous IS NOT NULL AND previous >= v_number THEN
        RETURN NULL;
    END IF;
    INSERT INTO policies_latestacknowledgement (person_id, policy_id, acknowledgement_id, number)
    VALUES (NEW.person_id, v_policy, NEW.id, v_number)
    ON CONFLICT (person_id, policy_id) DO UPDATE
       SET acknowledgement_id = EXCLUDED.acknowledgement_id, number = EXCLUDED.number;
    PERFORM policies_summary_shift(who, who, v_policy, previous, v_number);
    RETURN NULL;
END;
$$;

CREATE FUNCTION policies_person_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM policies_summary_shift(NULL, NEW, NULL, NULL, NULL);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM policies_summary_shift(OLD, NULL, NULL, NULL, NULL);
    ELSE
        PERFORM policies_summary_shift(OLD, NEW, NULL, NULL, NULL);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER person_summarised_insert AFTER INSERT ON people_person
FOR EACH ROW WHEN (NEW.is_active AND NEW.organisation_id IS NOT NULL)
EXECUTE FUNCTION policies_person_summarise();

CREATE TRIGGER person_summarised_delete AFTER DELETE ON people_person
FOR EACH ROW WHEN (OLD.is_active AND OLD.organisation_id IS NOT NULL)
EXECUTE FUNCTION policies_person_summarise();

CREATE TRIGGER person_summarised AFTER UPDATE ON people_person
FOR EACH ROW
WHEN ((OLD.organisation_id, OLD.unit_id, OLD.is_elected_official, OLD.is_active,
       OLD.unit_since, OLD.date_joined)
      IS DISTINCT FROM (NEW.organisation_id, NEW.unit_id, NEW.is_elected_official,
                        NEW.is_active, NEW.unit_since, NEW.date_joined))
EXECUTE FUNCTION policies_person_summarise();

""".replace("{lock}", str(SUMMARY_LOCK))


class Migration(migrations.Migration):

    dependencies = [
        ("policies", "0010_compliance_summary"),
        ("policies", "0011_search_vectors_inline"),
    ]

    operations = [
        migrations.RunSQL(SQL, REVERSE),
    ]
