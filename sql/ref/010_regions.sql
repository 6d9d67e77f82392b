-- 010_regions.sql -- the five regions (统筹区) of the seed documents.
-- Reference data: idempotent, run in name order inside one transaction.
-- Code = 6-digit administrative division code of the prefecture-level city.
-- agency_name: the issuing agency named on the seed document's letterhead.
-- No seed gives a hotline or an address: they stay NULL until the agency
-- sets them (PUT /agency/region), and a reload never overwrites what the
-- agency set.

INSERT INTO regions (code, name, province, agency_name) VALUES
    ('411200', '三门峡市',            '河南省', '三门峡市医疗保障服务中心'),      -- S0
    ('532300', '楚雄州（禄丰市）',    '云南省', '禄丰市医疗保障局'),              -- S1 (楚雄彝族自治州)
    ('140100', '太原市',              '山西省', '太原市医疗保险管理服务中心'),    -- S2
    ('370800', '济宁市',              '山东省', '济宁市医疗保险事业中心'),        -- S3 (山东省规程)
    ('630100', '西宁市',              '青海省', '西宁市医疗保障局')               -- S4
ON CONFLICT (code) DO UPDATE
    SET name = EXCLUDED.name, province = EXCLUDED.province,
        agency_name = coalesce(regions.agency_name, EXCLUDED.agency_name)
    WHERE (regions.name, regions.province)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.province)
       OR regions.agency_name IS NULL;
