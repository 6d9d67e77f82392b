-- 030_diseases.sql -- expert-pool categories, material kinds, Taiyuan's
-- 45 diseases with the materials each needs (S2 附件2《太原市基本医疗保险
-- 门诊慢特病申报资料》), and every disease in every region's catalog.
-- Reference data: idempotent, run in name order inside one transaction.
--
-- category / quota: rows 1-6 special, non-quota (非定额); rows 7-45 chronic,
-- quota (定额). review_mode: single for the instant diseases of S3 第八条 /
-- R-CER-5 (恶性肿瘤, 器官移植抗排异, 肾透析, 精神病 = D001 D002 D004 D006),
-- double for all others. validity 24 months everywhere.
-- disease_materials: required = false marks a material needed only under the
-- condition in its note. max_age_days NULL = the region's
-- material_max_age_days policy; set where the table gives its own limit
-- (TB: 2 years / 3 months). Where the table says "住院病历时间超过2年的，
-- 另附近2年的门诊就诊资料" the inpatient record itself may be older than the
-- policy's year, so it gets 3650 days (the schema maximum) and the 2-year
-- outpatient records are the conditional extra.

INSERT INTO specialties (name) VALUES
    ('肿瘤'), ('器官移植'), ('精神'), ('心血管'), ('呼吸'), ('肾病'), ('神经'),
    ('内分泌'), ('血液'), ('风湿免疫'), ('消化'), ('骨科'), ('皮肤'), ('感染'),
    ('地方病')
ON CONFLICT (name) DO NOTHING;

INSERT INTO material_kinds (code, name) VALUES
    ('diagnosis_record',             '确诊病历'),
    ('inpatient_record',             '确诊住院病历'),
    ('pathology_report',             '病理报告（穿刺、术后病检、切检、活检）'),
    ('imaging_report',               '影像学检查结果'),
    ('culture_report',               '痰或其他系统标本培养结果'),
    ('drug_sensitivity_report',      '药敏结果（结核菌素培养或分子生物学检测）'),
    ('coagulation_report',           '凝血因子活性测定等报告（FVIII/IX、VWFAg、APTT、抑制物筛查）'),
    ('lab_report',                   '近期相关化验检查报告'),
    ('psychiatric_inpatient_record', '专科医院或综合医院精神科住院病历'),
    ('outpatient_records_2y',        '近2年门诊就诊资料（诊治记录及相关化验检查报告）'),
    ('outpatient_treatment_3m',      '门诊近3个月治疗记录'),
    ('genetic_test_report',          '血常规、基因检测报告'),
    -- The filing hospital's own electronic records (R-APP-7): any
    -- disease, uploaded by hospital staff only (apply_db.c).
    ('hospital_record',              '医院电子病历（医院代办时上传）')
ON CONFLICT (code) DO UPDATE
    SET name = EXCLUDED.name
    WHERE material_kinds.name IS DISTINCT FROM EXCLUDED.name;

INSERT INTO diseases (code, name, category, specialty, review_mode, quota,
                      validity_months, sort_order, source) VALUES
('D001', '恶性肿瘤门诊治疗', 'special', '肿瘤', 'single', false, 24, 1, 'S2 附件2 第1行'),
('D002', '器官移植抗排斥治疗', 'special', '器官移植', 'single', false, 24, 2, 'S2 附件2 第2行'),
('D003', '血友病', 'special', '血液', 'double', false, 24, 3, 'S2 附件2 第3行'),
('D004', '尿毒症透析', 'special', '肾病', 'single', false, 24, 4, 'S2 附件2 第4行'),
('D005', '结核病', 'special', '感染', 'double', false, 24, 5, 'S2 附件2 第5行'),
('D006', '重性精神疾病（包括精神分裂症、双相障碍、妄想性障碍、分裂情感性障碍、癫痫性精神病、重度以上精神发育迟滞）', 'special', '精神', 'single', false, 24, 6, 'S2 附件2 第6行'),
('D007', '肾病综合征（原发性）', 'chronic', '肾病', 'double', true, 24, 7, 'S2 附件2 第7行'),
('D008', '慢性肾功能不全', 'chronic', '肾病', 'double', true, 24, 8, 'S2 附件2 第8行'),
('D009', '肺源性心脏病', 'chronic', '呼吸', 'double', true, 24, 9, 'S2 附件2 第9行'),
('D010', '心脏瓣膜病（器质性）', 'chronic', '心血管', 'double', true, 24, 10, 'S2 附件2 第10行'),
('D011', '慢性心力衰竭', 'chronic', '心血管', 'double', true, 24, 11, 'S2 附件2 第11行'),
('D012', '慢性阻塞性肺疾病', 'chronic', '呼吸', 'double', true, 24, 12, 'S2 附件2 第12行'),
('D013', '冠状动脉粥样硬化性心脏病', 'chronic', '心血管', 'double', true, 24, 13, 'S2 附件2 第13行'),
('D014', '股骨头坏死', 'chronic', '骨科', 'double', true, 24, 14, 'S2 附件2 第14行'),
('D015', '高血压3级（极高危）', 'chronic', '心血管', 'double', true, 24, 15, 'S2 附件2 第15行'),
('D016', '中枢神经系统脱髓鞘疾病', 'chronic', '神经', 'double', true, 24, 16, 'S2 附件2 第16行'),
('D017', '支气管哮喘', 'chronic', '呼吸', 'double', true, 24, 17, 'S2 附件2 第17行'),
('D018', '膝关节炎/性关节炎', 'chronic', '骨科', 'double', true, 24, 18, 'S2 附件2 第18行'),
('D019', '慢性骨髓炎（化脓性）', 'chronic', '骨科', 'double', true, 24, 19, 'S2 附件2 第19行'),
('D020', '强直性脊柱炎', 'chronic', '风湿免疫', 'double', true, 24, 20, 'S2 附件2 第20行'),
('D021', '白癜风', 'chronic', '皮肤', 'double', true, 24, 21, 'S2 附件2 第21行'),
('D022', '银屑病', 'chronic', '皮肤', 'double', true, 24, 22, 'S2 附件2 第22行'),
('D023', '系统性硬化症', 'chronic', '风湿免疫', 'double', true, 24, 23, 'S2 附件2 第23行'),
('D024', '脉管炎', 'chronic', '心血管', 'double', true, 24, 24, 'S2 附件2 第24行'),
('D025', '病毒性肝炎（慢性）', 'chronic', '感染', 'double', true, 24, 25, 'S2 附件2 第25行'),
('D026', '类风湿性关节炎', 'chronic', '风湿免疫', 'double', true, 24, 26, 'S2 附件2 第26行'),
('D027', '肝硬化（失代偿期）', 'chronic', '消化', 'double', true, 24, 27, 'S2 附件2 第27行'),
('D028', '炎症性肠病', 'chronic', '消化', 'double', true, 24, 28, 'S2 附件2 第28行'),
('D029', '脑血管病后遗症', 'chronic', '神经', 'double', true, 24, 29, 'S2 附件2 第29行'),
('D030', '帕金森病', 'chronic', '神经', 'double', true, 24, 30, 'S2 附件2 第30行'),
('D031', '癫痫', 'chronic', '神经', 'double', true, 24, 31, 'S2 附件2 第31行'),
('D032', '干燥综合征[舍格伦]', 'chronic', '风湿免疫', 'double', true, 24, 32, 'S2 附件2 第32行'),
('D033', '糖尿病（合并严重并发症）', 'chronic', '内分泌', 'double', true, 24, 33, 'S2 附件2 第33行'),
('D034', '再生障碍性贫血（慢性）', 'chronic', '血液', 'double', true, 24, 34, 'S2 附件2 第34行'),
('D035', '甲状腺功能减退症、甲状腺功能亢进症', 'chronic', '内分泌', 'double', true, 24, 35, 'S2 附件2 第35行'),
('D036', '免疫性血小板减少症（原发性）', 'chronic', '血液', 'double', true, 24, 36, 'S2 附件2 第36行'),
('D037', '重症肌无力', 'chronic', '神经', 'double', true, 24, 37, 'S2 附件2 第37行'),
('D038', '阿尔茨海默病', 'chronic', '神经', 'double', true, 24, 38, 'S2 附件2 第38行'),
('D039', '系统性红斑狼疮', 'chronic', '风湿免疫', 'double', true, 24, 39, 'S2 附件2 第39行'),
('D040', '原发性骨髓纤维化', 'chronic', '血液', 'double', true, 24, 40, 'S2 附件2 第40行'),
('D041', '真性红细胞增多症', 'chronic', '血液', 'double', true, 24, 41, 'S2 附件2 第41行'),
('D042', '原发性血小板增多症', 'chronic', '血液', 'double', true, 24, 42, 'S2 附件2 第42行'),
('D043', '氟骨病', 'chronic', '地方病', 'double', true, 24, 43, 'S2 附件2 第43行'),
('D044', '大骨节病', 'chronic', '地方病', 'double', true, 24, 44, 'S2 附件2 第44行'),
('D045', '克山病', 'chronic', '地方病', 'double', true, 24, 45, 'S2 附件2 第45行')
ON CONFLICT (code) DO UPDATE
    SET name = EXCLUDED.name, category = EXCLUDED.category,
        specialty = EXCLUDED.specialty, review_mode = EXCLUDED.review_mode,
        quota = EXCLUDED.quota, validity_months = EXCLUDED.validity_months,
        sort_order = EXCLUDED.sort_order, source = EXCLUDED.source,
        updated_at = now()
    WHERE (diseases.name, diseases.category, diseases.specialty,
           diseases.review_mode, diseases.quota, diseases.validity_months,
           diseases.sort_order, diseases.source)
          IS DISTINCT FROM
          (EXCLUDED.name, EXCLUDED.category, EXCLUDED.specialty,
           EXCLUDED.review_mode, EXCLUDED.quota, EXCLUDED.validity_months,
           EXCLUDED.sort_order, EXCLUDED.source);

INSERT INTO disease_materials (disease, kind, required, max_age_days, note,
                               sort_order) VALUES
-- D001 恶性肿瘤门诊治疗
('D001', 'diagnosis_record', true, NULL, '恶性肿瘤确诊病历', 1),
('D001', 'pathology_report', true, NULL, '病理报告（穿刺、术后病检、切检、活检）；确因身体状况无法获得病理时，可由影像学检查和相关血流学检查等资料代替', 2),
('D001', 'imaging_report', false, NULL, '确因身体状况无法获得病理时提供，代替病理报告', 3),
('D001', 'lab_report', false, NULL, '确因身体状况无法获得病理时提供：相关血流学检查等资料', 4),
-- D002 器官移植抗排斥治疗
('D002', 'inpatient_record', true, NULL, '确诊住院病历', 1),
-- D003 血友病
('D003', 'diagnosis_record', true, NULL, '确诊病历', 1),
('D003', 'coagulation_report', true, NULL, 'FVIII或IX因子活性测定、VWFAg测定、APTT测定、抑制物筛查报告', 2),
-- D004 尿毒症透析
('D004', 'diagnosis_record', true, NULL, '确诊病历', 1),
-- D005 结核病
('D005', 'inpatient_record', true, 730, '2年内住院病历（活动性结核、耐多药肺结核）', 1),
('D005', 'imaging_report', true, 90, '3月内影像学检查结果（活动性结核、耐多药肺结核）', 2),
('D005', 'culture_report', false, 90, '活动性结核：3月内痰或其他系统标本培养结果', 3),
('D005', 'drug_sensitivity_report', false, 730, '耐多药肺结核：2年内结核菌素培养或分子生物学检测药敏结果', 4),
-- D006 重性精神疾病
('D006', 'psychiatric_inpatient_record', true, 3650, '专科医院或综合医院精神科住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D006', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，附近2年的门诊就诊资料（诊治记录及近期相关检查化验报告）', 2),
-- D007 肾病综合征
('D007', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D007', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D008 慢性肾功能不全
('D008', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D008', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D009 肺源性心脏病
('D009', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D009', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D010 心脏瓣膜病
('D010', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D010', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D011 慢性心力衰竭
('D011', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D011', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D012 慢性阻塞性肺疾病
('D012', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D012', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D013 冠状动脉粥样硬化性心脏病
('D013', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D013', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D014 股骨头坏死
('D014', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D014', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D015 高血压3级
('D015', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D015', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D016 中枢神经系统脱髓鞘疾病
('D016', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D016', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D017 支气管哮喘
('D017', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D017', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D018 膝关节炎/性关节炎
('D018', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D018', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D019 慢性骨髓炎
('D019', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D019', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D020 强直性脊柱炎
('D020', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D020', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D021 白癜风
('D021', 'inpatient_record', false, NULL, '住院治疗的：确诊住院病历', 1),
('D021', 'lab_report', true, NULL, '相关检查化验报告（住院或门诊）', 2),
('D021', 'outpatient_treatment_3m', false, 90, '未住院治疗的：门诊近3个月内的治疗记录，并需继续治疗', 3),
-- D022 银屑病
('D022', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D022', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D023 系统性硬化症
('D023', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D023', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D024 脉管炎
('D024', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D024', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D025 病毒性肝炎
('D025', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D025', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D026 类风湿性关节炎
('D026', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D026', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D027 肝硬化
('D027', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D027', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D028 炎症性肠病
('D028', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D028', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D029 脑血管病后遗症
('D029', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D029', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D030 帕金森病
('D030', 'inpatient_record', true, NULL, '确诊住院病历', 1),
('D030', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D031 癫痫
('D031', 'psychiatric_inpatient_record', true, 3650, '专科医院或综合医院精神科住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D031', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及相关化验检查报告）', 2),
-- D032 干燥综合征[舍格伦]
('D032', 'inpatient_record', true, 3650, '确诊住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D032', 'lab_report', true, NULL, '近期相关检查化验报告', 2),
('D032', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及近期相关化验检查报告）', 3),
-- D033 糖尿病
('D033', 'inpatient_record', true, 3650, '确诊住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D033', 'lab_report', true, NULL, '近期相关检查化验报告', 2),
('D033', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及近期相关化验检查报告）', 3),
-- D034 再生障碍性贫血
('D034', 'inpatient_record', true, 3650, '确诊住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D034', 'lab_report', true, NULL, '近期相关检查化验报告', 2),
('D034', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及近期相关化验检查报告）', 3),
-- D035 甲状腺功能减退症、甲状腺功能亢进症
('D035', 'diagnosis_record', true, NULL, '确诊病历', 1),
('D035', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D036 免疫性血小板减少症
('D036', 'inpatient_record', true, 3650, '确诊住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D036', 'lab_report', true, NULL, '近期相关检查化验报告', 2),
('D036', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及近期相关化验检查报告）', 3),
-- D037 重症肌无力
('D037', 'inpatient_record', true, 3650, '确诊住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D037', 'lab_report', true, NULL, '近期相关检查化验报告', 2),
('D037', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及近期相关化验检查报告）', 3),
-- D038 阿尔茨海默病
('D038', 'inpatient_record', true, 3650, '确诊住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D038', 'lab_report', true, NULL, '近期相关检查化验报告', 2),
('D038', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及近期相关化验检查报告）', 3),
-- D039 系统性红斑狼疮
('D039', 'inpatient_record', true, 3650, '确诊住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D039', 'lab_report', true, NULL, '近期相关检查化验报告', 2),
('D039', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及近期相关化验检查报告）', 3),
-- D040 原发性骨髓纤维化
('D040', 'inpatient_record', true, 3650, '确诊住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D040', 'lab_report', true, NULL, '近期相关检查化验报告', 2),
('D040', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及近期相关化验检查报告）', 3),
-- D041 真性红细胞增多症
('D041', 'inpatient_record', true, 3650, '确诊住院病历复印件；可早于2年（超过2年另附近2年门诊资料）', 1),
('D041', 'genetic_test_report', true, NULL, '相关检查化验（血常规、基因检测）报告', 2),
('D041', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及近期相关化验检查报告）', 3),
-- D042 原发性血小板增多症
('D042', 'inpatient_record', true, 3650, '确诊住院病历；可早于2年（超过2年另附近2年门诊资料）', 1),
('D042', 'lab_report', true, NULL, '近期相关检查化验报告', 2),
('D042', 'outpatient_records_2y', false, 730, '住院病历时间超过2年的，另附近2年的门诊就诊资料（诊治记录及近期相关化验检查报告）', 3),
-- D043 氟骨病
('D043', 'diagnosis_record', true, NULL, '确诊病历', 1),
('D043', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D044 大骨节病
('D044', 'diagnosis_record', true, NULL, '确诊病历', 1),
('D044', 'lab_report', true, NULL, '近期相关化验检查报告', 2),
-- D045 克山病
('D045', 'diagnosis_record', true, NULL, '确诊病历', 1),
('D045', 'lab_report', true, NULL, '近期相关化验检查报告', 2)
ON CONFLICT (disease, kind) DO UPDATE
    SET required = EXCLUDED.required, max_age_days = EXCLUDED.max_age_days,
        note = EXCLUDED.note, sort_order = EXCLUDED.sort_order
    WHERE (disease_materials.required, disease_materials.max_age_days,
           disease_materials.note, disease_materials.sort_order)
          IS DISTINCT FROM
          (EXCLUDED.required, EXCLUDED.max_age_days, EXCLUDED.note,
           EXCLUDED.sort_order);

-- Every one of the 45 diseases in every region's catalog, with the disease's
-- own review mode (NULL = no regional override).
INSERT INTO region_diseases (region, disease, review_mode)
SELECT r.code, d.code, NULL
  FROM regions r CROSS JOIN diseases d
 WHERE r.code IN ('411200', '532300', '140100', '370800', '630100', '630200')
   AND d.source LIKE 'S2 附件2 第%'
ON CONFLICT (region, disease) DO NOTHING;

-- Who certifies, by region (R-CER-8, R-CER-10; issue 11).  Only a mode
-- still unset is filled (an agency's own choice is kept on a re-run):
--   532300 禄丰 (S1): every disease confirmed on the spot by an authorized
--     hospital (确认备案) -- onsite;
--   630100 西宁, 630200 海东 (S4): hospitals fill the certification form and
--     upload the images (医疗鉴定) -- onsite;
--   140100 太原 (S2 二(二)): quota diseases (定额) by the hospital's panel
--     with the public notice -- panel; the 10 non-quota ones stay online
--     with experts (S2 二(一)).
UPDATE region_diseases rd SET review_mode = 'onsite'
 WHERE rd.region IN ('532300', '630100', '630200') AND rd.review_mode IS NULL;
UPDATE region_diseases rd SET review_mode = 'panel'
  FROM diseases d
 WHERE d.code = rd.disease AND d.quota
   AND rd.region = '140100' AND rd.review_mode IS NULL;
