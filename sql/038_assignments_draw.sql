-- 038_assignments_draw.sql -- the assignments of a draw found through an
-- index (issue 14).  `mtcertctl draw verify --all` asks, for each push
-- and objection draw, which assignments used it (draw_used,
-- sql/fn/15_draw.sql: assignments.draw_id); without an index each draw
-- read the whole table, so verifying every draw grew with draws times
-- assignments: 1 min 55 s for 18,856 push draws and 18,955 assignments
-- on a test stack after a few dispatcher bursts, past test_zz_draws_all's
-- 60 s.
CREATE INDEX IF NOT EXISTS assignments_draw ON assignments(draw_id);
