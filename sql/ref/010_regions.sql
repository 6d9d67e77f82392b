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
    ('630100', '西宁市',              '青海省', '西宁市医疗保障局'),              -- S4
    -- Not a seed region: 海东 (Qinghai) is here so that S4's cross-region
    -- rule (R-CER-13: a hospital the province authorizes certifies a
    -- person insured elsewhere in the province) can be run and tested.
    ('630200', '海东市',              '青海省', '海东市医疗保障局')
ON CONFLICT (code) DO UPDATE
    SET name = EXCLUDED.name, province = EXCLUDED.province,
        agency_name = coalesce(regions.agency_name, EXCLUDED.agency_name)
    WHERE (regions.name, regions.province)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.province)
       OR regions.agency_name IS NULL;
