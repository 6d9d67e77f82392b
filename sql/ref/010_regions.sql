-- 010_regions.sql -- the five regions (统筹区) of the seed documents.
-- Reference data: idempotent, run in name order inside one transaction.
-- Code = 6-digit administrative division code of the prefecture-level city.

INSERT INTO regions (code, name, province) VALUES
    ('411200', '三门峡市',            '河南省'),  -- S0 三门峡市医疗保障服务中心
    ('532300', '楚雄州（禄丰市）',    '云南省'),  -- S1 禄丰市 / 楚雄州 (楚雄彝族自治州)
    ('140100', '太原市',              '山西省'),  -- S2 太原市医疗保险管理服务中心
    ('370800', '济宁市',              '山东省'),  -- S3 济宁市 (山东省规程)
    ('630100', '西宁市',              '青海省')   -- S4 西宁市医疗保障局
ON CONFLICT (code) DO UPDATE
    SET name = EXCLUDED.name, province = EXCLUDED.province
    WHERE (regions.name, regions.province)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.province);
