-- 032_dispatcher.sql -- the dispatcher at its throughput (issue 13 item
-- 2).  The applications waiting for their first try at a push: a stage
-- needs an expert and nobody was found missing yet.  The dispatcher asks
-- for them on every loop turn (modules/dispatcher/dispatcher.c,
-- STMT_FIRST_PUSH); through applications_push (003_review.sql) the
-- query stepped over every application that waits for an expert nobody
-- can take (33,500 of them: 11-78 ms a turn, "Rows Removed by Filter"),
-- through this one it reads only the batch.  The retry of those that
-- wait still goes through applications_push.
CREATE INDEX applications_first_push ON applications(id)
    WHERE push_stage IS NOT NULL AND unassigned_since IS NULL;
