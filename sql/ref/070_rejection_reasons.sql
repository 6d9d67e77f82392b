-- 070_rejection_reasons.sql -- the reasons an expert may give for a
-- rejection (不予认定原因, R-CER-11), in the order the portal offers them.
-- Reference data: idempotent, run in name order inside one transaction.
--
-- This file is the list: re-running names and orders its codes and makes
-- them active; a code dropped from it is retired (active = false), never
-- deleted, since earlier decisions keep it (sql/008_rejection_reasons.sql).
-- The opinion (认定意见) stays the text the applicant reads; the code is
-- what statistics and the agency count by.

WITH list (code, name_zh, sort) AS (VALUES
    ('criteria_not_met',       '不符合该病种认定标准',     10),
    ('materials_insufficient', '材料不足以证明病情',       20),
    ('diagnosis_unclear',      '诊断依据不明确',           30),
    ('materials_invalid',      '材料不真实或不在有效期内', 40),
    ('other',                  '其他原因（见认定意见）',   90)
), upsert AS (
    INSERT INTO rejection_reasons (code, name_zh, sort, active)
    SELECT code, name_zh, sort, true FROM list
    ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh,
        sort = excluded.sort, active = true
)
UPDATE rejection_reasons SET active = false
WHERE active AND code NOT IN (SELECT code FROM list);
