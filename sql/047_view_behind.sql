-- 047_view_behind.sql -- an application whose stored progress view is
-- behind its submit (issue 13, eleventh round): a submit of an
-- application the experts review (single, double) writes no view; the
-- dispatcher's first push patches the view with the submit's event and
-- its own together (sql/fn/20_applications.sql: patch_application_views)
-- and clears the flag.  Until then the progress read builds the view
-- (modules/apply/apply_db.c: VIEW_READY, in STMT_DETAIL_OWN and
-- STMT_DETAIL_LOGGED).  A constant default: no
-- rewrite of the table.
ALTER TABLE applications ADD COLUMN IF NOT EXISTS view_behind boolean
    NOT NULL DEFAULT false;
