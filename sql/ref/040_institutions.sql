-- 040_institutions.sql -- designated / certifying hospitals and the diseases
-- each may certify.
-- Reference data: idempotent, run in name order inside one transaction.
--
-- 630100 西宁: the 27 certifying hospitals of S4《西宁市基本医疗保险门诊特殊病
--   慢性病鉴定医疗机构名单》with their codes exactly as the seed prints them.
--   The seed gives no level or ownership: these are mtcert's best knowledge
--   (provincial / municipal general and specialist hospitals and the PLA 941
--   hospital level 3 public; district and county hospitals level 2 public;
--   the two private hospitals level 2 with an assumed score of 88).
-- 532300 禄丰: the 6 hospitals of S1; the seed has no codes, so mtcert assigns
--   H53230000001..006 for the demo. 康宁 and 阳光 are limited to psychiatric
--   diseases (限精神病及重性精神病病种).
-- 411200 / 140100 / 370800: two demo hospitals each, not from a seed.
-- score is last year's assessment; only private hospitals need it (R-CER-9).

INSERT INTO institutions (code, name, region, level, ownership, score,
                          designated, certifying, source) VALUES
-- 630100 西宁 (S4)
('H63010200143', '青海省人民医院',                          '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第1项'),
('H63010400797', '青海大学附属医院',                        '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第2项'),
('H63010300156', '青海红十字医院',                          '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第3项'),
('H63010300150', '青海省心脑血管病专科医院',                '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第4项'),
('H63010300673', '青海省中医院',                            '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第5项'),
('H63010200152', '青海省妇女儿童医院',                      '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第6项'),
('H63010200053', '青海省精神卫生防治院',                    '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第7项'),
('H63010300054', '青海省传染病专科医院（青海省第四人民医院）', '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第8项'),
('H63010200026', '青海省第五人民医院',                      '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第9项'),
('H63010400631', '青海省交通医院',                          '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第10项'),
('H63010300017', '西宁市第一人民医院',                      '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第11项'),
('H63010500021', '西宁市第二人民医院',                      '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第12项'),
('H63010500170', '西宁市第三人民医院',                      '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第13项'),
('H63010200031', '中国人民解放军联勤保障部队第九四一医院',  '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第14项'),
('H63010300002', '青海仁济医院',                            '630100', 2, 'private', 88.00, true, true, 'S4 西宁名单 第15项'),
('H63010200768', '青海省康乐医院',                          '630100', 2, 'private', 88.00, true, true, 'S4 西宁名单 第16项'),
('H63010400119', '西宁市中医院',                            '630100', 3, 'public',  NULL,  true, true, 'S4 西宁名单 第17项'),
('H63010500670', '西宁市城北区中医院',                      '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第18项'),
('H63010200018', '东关大街社区卫生服务中心（西宁市回族医院）', '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第19项'),
('H63010600912', '西宁市湟中区第一人民医院',                '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第20项'),
('H63012200552', '西宁市湟中区第二人民医院',                '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第21项'),
('H63010600889', '西宁市湟中区中医院',                      '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第22项'),
('H63012100662', '大通回族土族自治县人民医院',              '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第23项'),
('H63012100114', '大通回族土族自治县第二人民医院',          '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第24项'),
('H63012100651', '大通回族土族自治县中医院',                '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第25项'),
('H63012300646', '湟源县人民医院',                          '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第26项'),
('H63012300749', '湟源县中医院',                            '630100', 2, 'public',  NULL,  true, true, 'S4 西宁名单 第27项'),
-- 532300 楚雄州（禄丰市） (S1)
('H53230000001', '禄丰市人民医院',     '532300', 2, 'public',  NULL,  true, true, 'S1 禄丰6家 第1家; code H53230000001 assigned by mtcert for the demo (seed has none)'),
('H53230000002', '禄丰市第二人民医院', '532300', 2, 'public',  NULL,  true, true, 'S1 禄丰6家 第2家; code H53230000002 assigned by mtcert for the demo (seed has none)'),
('H53230000003', '禄丰市中医医院',     '532300', 2, 'public',  NULL,  true, true, 'S1 禄丰6家 第3家; code H53230000003 assigned by mtcert for the demo (seed has none)'),
('H53230000004', '楚雄州广通医院',     '532300', 2, 'public',  NULL,  true, true, 'S1 禄丰6家 第4家; code H53230000004 assigned by mtcert for the demo (seed has none)'),
('H53230000005', '禄丰康宁医院',       '532300', 2, 'private', 86.00, true, true, 'S1 禄丰6家 第5家（限精神病及重性精神病病种）; code H53230000005 assigned by mtcert for the demo (seed has none)'),
('H53230000006', '禄丰阳光医院',       '532300', 2, 'private', 86.00, true, true, 'S1 禄丰6家 第6家（限精神病及重性精神病病种）; code H53230000006 assigned by mtcert for the demo (seed has none)'),
-- demo hospitals (not from a seed)
('H41120000001', '三门峡市中心医院',       '411200', 3, 'public', NULL, true, true, 'demo (not from a seed)'),
('H41120000002', '三门峡市第一人民医院',   '411200', 3, 'public', NULL, true, true, 'demo (not from a seed)'),
('H14010000001', '山西省人民医院',         '140100', 3, 'public', NULL, true, true, 'demo (not from a seed)'),
('H14010000002', '太原市中心医院',         '140100', 3, 'public', NULL, true, true, 'demo (not from a seed)'),
('H37080000001', '济宁市第一人民医院',     '370800', 3, 'public', NULL, true, true, 'demo (not from a seed)'),
('H37080000002', '济宁医学院附属医院',     '370800', 3, 'public', NULL, true, true, 'demo (not from a seed)'),
-- 楚雄州人民医院: the prefecture's level-3 public hospital (not in S1's list
-- of 6, all level 2): S1 二(四) has special diseases confirmed at level-3
-- public hospitals 全州通办, so without it nobody in the region could
-- certify one.
('H53230000007', '楚雄州人民医院',         '532300', 3, 'public', NULL, true, true, 'demo (not from a seed): S1 二(四) 三级公立定点医疗机构办理特殊病'),
-- 海东 (630200): a demo region of Qinghai for S4's cross-region rule.
('H63020000001', '海东市第一人民医院',     '630200', 3, 'public', NULL, true, true, 'demo (not from a seed): 海东, for S4 一 cross-region certification')
ON CONFLICT (code) DO UPDATE
    SET name = EXCLUDED.name, region = EXCLUDED.region,
        level = EXCLUDED.level, ownership = EXCLUDED.ownership,
        score = EXCLUDED.score, designated = EXCLUDED.designated,
        certifying = EXCLUDED.certifying, source = EXCLUDED.source
    WHERE (institutions.name, institutions.region, institutions.level,
           institutions.ownership, institutions.score,
           institutions.designated, institutions.certifying,
           institutions.source)
          IS DISTINCT FROM
          (EXCLUDED.name, EXCLUDED.region, EXCLUDED.level,
           EXCLUDED.ownership, EXCLUDED.score, EXCLUDED.designated,
           EXCLUDED.certifying, EXCLUDED.source);
-- certification_status is not touched: an agency's suspension survives a
-- re-run.

-- 省属 hospitals (S4 一: 取得认定资格并经省级经办机构授权后 ... 还可对
-- 其他统筹地区参保人员进行待遇认定; S4 西宁转发文: 省属鉴定医疗机构): the
-- province authorizes them (province_wide, R-CER-13) -- items 1-10 of
-- S4's list (青海省...) and the PLA 941 hospital (a provincial-level
-- hospital, mtcert's reading).
UPDATE institutions SET province_wide = true
 WHERE code IN ('H63010200143', 'H63010400797', 'H63010300156',
                'H63010300150', 'H63010300673', 'H63010200152',
                'H63010200053', 'H63010300054', 'H63010200026',
                'H63010400631', 'H63010200031')
   AND NOT province_wide;

-- Hospitals limited to some diseases (institution_scopes): they serve
-- and certify only these.  Only added (DO NOTHING).
INSERT INTO institution_scopes (institution, disease) VALUES
    -- 青海省精神卫生防治院: psychiatric diseases (重性精神疾病, 癫痫)
    ('H63010200053', 'D006'), ('H63010200053', 'D031'),
    -- 青海省传染病专科医院: infectious diseases (结核病, 病毒性肝炎)
    ('H63010300054', 'D005'), ('H63010300054', 'D025'),
    -- 青海省妇女儿童医院: a subset a women's and children's hospital treats
    -- (mtcert's choice; the seed lists no diseases): 恶性肿瘤, 血友病,
    -- 肾病综合征, 支气管哮喘, 癫痫, 糖尿病, 再障, 甲状腺, ITP, SLE
    ('H63010200152', 'D001'), ('H63010200152', 'D003'),
    ('H63010200152', 'D007'), ('H63010200152', 'D017'),
    ('H63010200152', 'D031'), ('H63010200152', 'D033'),
    ('H63010200152', 'D034'), ('H63010200152', 'D035'),
    ('H63010200152', 'D036'), ('H63010200152', 'D039'),
    -- 禄丰康宁医院, 禄丰阳光医院: S1 限精神病及重性精神病病种 -> D006 only
    ('H53230000005', 'D006'), ('H53230000006', 'D006')
ON CONFLICT (institution, disease) DO NOTHING;

-- Certification authorization (R-CER-8): every certifying hospital above,
-- for each disease of its region's catalog that the rules of R-CER-9
-- admit (authorization_rule, sql/fn/65_authorization.sql: level,
-- ownership, score, scope), with the rule.  Only added (DO NOTHING): an
-- authorization the agency suspended or revoked stays so.
INSERT INTO institution_diseases (institution, disease, rule)
SELECT i.code, rd.disease, authorization_rule(i.code, rd.disease)->>'rule'
  FROM institutions i
  JOIN region_diseases rd ON rd.region = i.region
 WHERE i.certifying AND i.source NOT LIKE 'test%'
   AND authorization_rule(i.code, rd.disease) ? 'rule'
ON CONFLICT (institution, disease) DO NOTHING;

-- Before issue 11 every reference hospital held all 45 diseases (no rule
-- recorded): those the rules do not admit (a level-2 hospital and a
-- special disease, a limited hospital and another disease) go; the rest
-- get their rule.
DELETE FROM institution_diseases x
 USING institutions i
 WHERE i.code = x.institution AND x.rule IS NULL
   AND i.source NOT LIKE 'test%'
   AND NOT authorization_rule(x.institution, x.disease) ? 'rule';
UPDATE institution_diseases x
   SET rule = authorization_rule(x.institution, x.disease)->>'rule'
  FROM institutions i
 WHERE i.code = x.institution AND x.rule IS NULL
   AND i.source NOT LIKE 'test%';
