-- 023_objection.sql -- objections to a rejection and hospitals' appeals
-- (R-CER-12; S3 第九条 收到认定结果之日起10日内申请复核; S2 二(二)/三
-- 每个病种重新组织 3 名专家二次复核).  The functions are in
-- sql/fn/80_objection.sql.
--
-- kind: who filed it -- the applicant (the insured person or their family
-- agent) or the hospital that filed the application (an appeal);
-- panel_size: the seats of its panel, fixed when filed (the region's
-- objection_panel_size or appeal_panel_experts then); deadline: the
-- re-decision's target day (recertification_working_days working days
-- after the filing day); draw_id: the one draw of the panel (purpose
-- 'objection'; NULL until anybody was eligible).  The seats are the
-- application's assignments at stages 4 .. 3 + panel_size.
ALTER TABLE objections
    ADD COLUMN kind text NOT NULL DEFAULT 'applicant'
        CHECK (kind IN ('applicant', 'hospital')),
    ADD COLUMN filed_by bigint REFERENCES users(id),
    ADD COLUMN panel_size integer NOT NULL DEFAULT 3
        CHECK (panel_size BETWEEN 1 AND 6),
    ADD COLUMN deadline date,
    ADD COLUMN draw_id bigint REFERENCES draws(id);
