-- 046_pushed_deadline_id.sql -- the pushed assignments by (deadline, id)
-- (issue 13): the dispatcher's timer rebuild reads them a page at a time,
-- soonest deadline first, after the last (deadline, id) it read
-- (modules/dispatcher/dispatcher.c: LIVE_TIMERS).  On accept_deadline
-- alone a page after a deadline many share (a batch's, or the bench's
-- 100,000 made due at one now()) read and sorted every row of that
-- deadline again; with id in the index a page reads its own rows only.
-- It serves what the one-column index did (the overdue sweep's range).
CREATE INDEX assignments_pushed_deadline_id ON assignments(accept_deadline, id)
    WHERE state = 'pushed';
DROP INDEX assignments_pushed_deadline;
