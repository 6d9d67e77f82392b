-- 020_policies.sql -- policy keys (every number of REQUIREMENTS.md, plus the
-- session / login / upload numbers of API.md and DESIGN.md) and each
-- region's value for every key.
-- Reference data: idempotent, run in name order inside one transaction.
--
-- policy_keys: re-running updates type, range, default and text.
-- policies:    1. every region x every key gets the key's default
--                 (ON CONFLICT DO NOTHING: a value already set, e.g. by an
--                 agency through PUT /agency/policy, is kept);
--              2. explicit per-region values stated by that region's seed,
--                 each with its citation. These update a row only while it
--                 still carries updated_by = 'reference', so a re-run never
--                 overwrites a value an agency has changed.
-- Units: *_seconds seconds, *_days calendar days, *_working_days working
-- days (calendar table), *_months months, *_bytes bytes, levels 1..3.

INSERT INTO policy_keys (key, type, min_value, max_value, choices,
                         default_value, requirement, description) VALUES
-- Application (网上申报)
('material_max_age_days', 'int', 1, 3650, NULL, '365', 'R-APP-3',
 '申报材料出具时间不超过天数（一年以内） / Materials must be issued within this many days (1 year)'),
('material_min_level', 'int', 1, 3, NULL, '2', 'R-APP-3',
 '申报材料出具医疗机构最低级别（二级以上） / Lowest hospital level (1-3) that may issue materials'),
('material_public_only', 'bool', NULL, NULL, NULL, 'true', 'R-APP-3',
 '申报材料须由公立医疗机构出具 / Materials must be issued by a public hospital'),
('yearly_application_limit', 'int', 1, 12, NULL, '3', 'R-APP-6',
 '同一参保人同一病种每自然年度最多申请次数 / Applications per person, disease and calendar year'),
('material_max_bytes', 'int', 1024, 104857600, NULL, '10485760', 'DESIGN uploaded files',
 '单个上传文件最大字节数（10 MiB） / Largest uploaded file in bytes (10 MiB)'),
('application_max_bytes', 'int', 1024, 1073741824, NULL, '52428800', 'DESIGN uploaded files',
 '单次申请全部材料最大字节数（50 MiB） / Largest total of one application''s materials in bytes (50 MiB)'),
-- Certification (待遇认定)
('expert_min_title', 'enum', NULL, NULL, '{初级,中级,副高,正高}', '中级', 'R-CER-1',
 '认定专家最低职称（中级以上） / Lowest professional title of a certification expert'),
('panel_min_title', 'enum', NULL, NULL, '{初级,中级,副高,正高}', '副高', 'R-CER-1',
 '医院临床专家组成员最低职称（副高及以上） / Lowest title of a hospital panel member'),
('accept_window_seconds', 'int', 1, 604800, NULL, '86400', 'R-CER-3',
 '专家受理时限（秒，24小时），超时或拒绝则重新随机分配 / Seconds an expert has to accept a pushed task (24 h) before it is re-pushed'),
('miss_limit', 'int', 1, 10, NULL, '3', 'R-CER-4',
 '专家连续不受理或拒绝受理次数达到即取消认定资格 / Consecutive refusals or expiries that disqualify an expert'),
('province_pool_fallback', 'bool', NULL, NULL, NULL, 'false', 'R-CER-3',
 '本统筹区无可分配专家时，可从本省其他统筹区的专家库随机分配（默认不允许） / When nobody in the region''s pool is eligible, draw from the other regions of the province (off by default)'),
('unassigned_notice_hours', 'int', 1, 720, NULL, '24', 'R-CER-7',
 '申请等待分配专家超过此小时数即短信告知申请人（一次），经办机构队列标为长时间待分配 / Hours waiting for an expert after which the applicant is told by SMS (once) and the agency queue marks it stuck'),
('double_review_experts', 'int', 2, 5, NULL, '2', 'R-CER-5',
 '非即时办理病种至少认定专家人数（初审、复审） / Experts for a non-instant disease (initial + re-review)'),
('instant_decision_working_days', 'int', 1, 10, NULL, '1', 'R-CER-6',
 '即时办理病种非工作时间提交的办结时限（工作日） / Working days to decide an instant disease filed off-hours'),
('decision_working_days', 'int', 1, 60, NULL, '20', 'R-CER-6',
 '其他病种办结时限（工作日） / Working days to decide any other disease'),
('online_target_working_days', 'int', 0, 60, NULL, '0', 'R-CER-6',
 '本统筹区网上申报全流程目标时限（工作日；三门峡 5-8 个工作日的上限 8），0 为无此目标、按办结时限 / The region''s own target in working days for the whole online flow (Sanmenxia: 8, the upper end of 5-8); 0: none, decision_working_days applies'),
('chronic_cert_min_level', 'int', 1, 3, NULL, '2', 'R-CER-9',
 '慢性病认定医疗机构最低级别（二级及以上公立） / Lowest level of a public hospital certifying chronic diseases'),
('special_cert_min_level', 'int', 1, 3, NULL, '3', 'R-CER-9',
 '特殊病认定医疗机构最低级别（三级公立） / Lowest level of a public hospital certifying special diseases'),
('private_cert_min_level', 'int', 1, 3, NULL, '2', 'R-CER-9',
 '可申请认定资格的民营医疗机构最低级别（二级及以上） / Lowest level of a private hospital that may certify'),
('private_cert_min_score', 'int', 0, 100, NULL, '85', 'R-CER-9',
 '民营医疗机构上年度考核最低分（85分含） / Last year''s assessment score a private hospital needs'),
('publicity_working_days', 'int', 1, 30, NULL, '5', 'R-CER-10',
 '定额病种认定结果院内公示期（工作日） / Working days a quota-disease panel approval is publicly posted'),
('panel_min_size', 'int', 1, 15, NULL, '3', 'R-CER-10',
 '医院临床专家组认定最少成员人数 / Fewest members of a hospital panel that decides a quota disease'),
('benefit_waits_confirmation', 'bool', NULL, NULL, NULL, 'false', 'R-CER-11',
 '医院认定结果须经医保经办机构确认后才开始享受待遇（默认否；西宁：否） / Whether benefits wait for the agency to confirm a hospital''s result (default no; Xining: no)'),
('data_entry_working_days', 'int', 1, 30, NULL, '3', 'R-CER-10',
 '公示期满后信息录入时限（工作日） / Working days after the notice to enter the data'),
('objection_window_days', 'int', 1, 90, NULL, '10', 'R-CER-12',
 '收到认定结果后提出异议（复核）的期限（日） / Days after the result within which the applicant may object'),
('recertification_working_days', 'int', 1, 60, NULL, '20', 'R-CER-12',
 '重新认定办结时限（工作日） / Working days to complete a re-certification'),
('appeal_panel_experts', 'int', 1, 9, NULL, '3', 'R-CER-12',
 '医院申诉病种二次复核专家人数 / Experts who re-review each case a hospital appeals'),
-- Benefits (待遇享受)
('benefit_start', 'enum', NULL, NULL, '{decision_day,next_month}', 'decision_day', 'R-BEN-1',
 '待遇起始：认定通过之日或次月1日 / Benefits start on the decision day or the 1st of next month'),
('quota_benefit_start', 'enum', NULL, NULL, '{decision_day,next_month}', 'next_month', 'R-BEN-1',
 '定额病种待遇起始（太原：次月1日） / Benefit start for quota diseases (Taiyuan: 1st of next month)'),
('designated_change_limit', 'int', 0, 12, NULL, '2', 'R-BEN-3',
 '每自然年度变更定点医院最多次数 / Designated-hospital changes allowed per calendar year'),
('designated_change_scope', 'enum', NULL, NULL, '{qualification,person}', 'qualification', 'R-BEN-3',
 '变更定点医院次数按每项待遇资格（qualification）还是每人各病种合计（person，如三门峡“每人每个自然年度”）计算 / Whether the yearly change limit counts per qualification or per person across all their qualifications'),
('renewal_lookback_months', 'int', 1, 36, NULL, '12', 'R-BEN-4',
 '到期接续：终止日期前回看月数 / Months before the end date examined for renewal'),
('renewal_min_settlement_months', 'int', 1, 36, NULL, '6', 'R-BEN-4',
 '到期接续：回看期内至少有结算的月数 / Months with settlements needed in that period to renew'),
('renewal_notice_days', 'int', 1, 180, NULL, '30', 'R-BEN-4',
 '到期前多少天短信告知将接续或终止 / Days before the end date the person is told by SMS whether the benefit renews'),
-- Supervision (监管)
('audit_min_rate_percent', 'int', 1, 100, NULL, '10', 'R-SUP-1',
 '认定通过申报材料抽审最低比例（%） / Lowest sampling rate of approved applications (%)'),
('quarterly_report_working_days', 'int', 1, 30, NULL, '10', 'R-SUP-2',
 '每季度结束后认定表送交时限（工作日） / Working days after a quarter for hospitals to send their tables'),
('prescription_suspend_months', 'int', 1, 120, NULL, '6', 'R-SUP-4',
 '违规认定医师暂停医保处方权月数 / Months a physician''s prescription rights are suspended'),
('prescription_suspend_severe_months', 'int', 1, 120, NULL, '60', 'R-SUP-4',
 '情节严重者暂停医保处方权月数（5年） / Months of suspension in severe cases (5 years)'),
('material_retention_days', 'int', 0, 36500, NULL, '5475', 'R-SUP-6, PIPL art. 47',
 '申报材料文件保存天数（终审决定且全部待遇资格终止后起算，15年），期满销毁文件密钥 / Days an application''s files are kept after its final decision and the end of every qualification of the person for the disease (15 years); then their keys are destroyed'),
('audit_retention_months', 'int', 6, 600, NULL, '6', 'issue 15 (等保三级)',
 '访问日志在线保存月数，期满归档（等保三级不少于6个月） / Months access_log rows stay online before they may be archived (at least 6, MLPS level 3)'),
-- Session (API.md /auth, DESIGN security model)
('sms_code_ttl_seconds', 'int', 60, 3600, NULL, '300', 'API /auth/sms-code',
 '短信验证码有效期（秒，5分钟） / Seconds an SMS login code lives (5 min)'),
('sms_code_max_tries', 'int', 1, 20, NULL, '5', 'API /auth/sms-code',
 '短信验证码最多尝试次数 / Tries allowed per SMS code'),
('sms_code_interval_seconds', 'int', 1, 3600, NULL, '60', 'API /auth/sms-code',
 '同一手机号发送验证码最短间隔（秒；全国统一取默认值，不分统筹区） / Seconds between two SMS codes to one phone (the default applies to every phone, whatever its region)'),
('sms_code_daily_max', 'int', 1, 1440, NULL, '10', 'API /auth/sms-code',
 '同一手机号24小时内最多发送验证码条数（全国统一取默认值，不分统筹区） / SMS codes one phone may get in 24 hours (the default applies to every phone, whatever its region)'),
('login_max_failures', 'int', 1, 100, NULL, '5', 'API /auth/password-login',
 '同一地址对同一账号密码错误次数达到即锁定该地址 / Failed staff logins to one account from one address before that address is locked out of it'),
('login_lockout_seconds', 'int', 1, 86400, NULL, '900', 'API /auth/password-login',
 '同一地址锁定时长（秒，15分钟） / Seconds an address stays locked out of the account (15 min)'),
('login_account_max_failures', 'int', 1, 10000, NULL, '50', 'API /auth/password-login',
 '账号从所有地址累计密码错误次数达到即对未曾登录成功的地址锁定 / Failed logins to one account from all addresses before it locks for every address that never signed in to it'),
('login_account_lockout_seconds', 'int', 1, 86400, NULL, '3600', 'API /auth/password-login',
 '账号对未知地址锁定时长（秒，1小时） / Seconds the account stays locked for unknown addresses (1 h)'),
('login_known_address_days', 'int', 1, 3650, NULL, '90', 'API /auth/password-login',
 '登录成功过的地址在最后一次成功登录后多少天内视为熟悉地址（不受账号锁定与每日短信上限限制） / Days after its last sign-in that an address stays known (spared the account lock and the daily SMS cap)'),
('session_idle_seconds', 'int', 60, 86400, NULL, '1800', 'DESIGN security model',
 '会话空闲超时（秒） / Seconds of inactivity after which a session expires'),
-- Objections (issue 12, sql/fn/80_objection.sql): seats are stages 4..9.
('objection_panel_size', 'int', 1, 6, NULL, '3', 'R-CER-12',
 '参保人申请复核时随机抽取的复核专家人数（S3 第九条 重新认定，多数意见为复核结论） / Experts drawn at random to re-decide an applicant''s objection; the majority decides'),
-- Quarterly review (复核, issue 12 item 4; sql/fn/88_quarterly_review.sql)
('quarterly_review_day', 'int', 0, 28, NULL, '0', 'R-SUP-2',
 '季度复核抽取日：每季度第一个月的第几日抽取上季度的复核专家和病例（0 = 本统筹区不做季度复核） / Day of the first month of a quarter on which the last quarter''s review is drawn (0: no quarterly review)'),
('quarterly_review_reviewers', 'int', 1, 50, NULL, '3', 'R-SUP-2',
 '季度复核随机抽取的专家人数 / Experts drawn at random to review a quarter'),
('quarterly_review_rate_percent', 'int', 1, 100, NULL, '10', 'R-SUP-2',
 '季度复核随机抽取的病例占该季度已办结申请的比例（%，至少 1 例） / Share of the quarter''s decided applications drawn for review (%, at least one)'),
-- The returned state (issue 12): S3 第七条 一次性告知需补齐的材料 names no
-- number of days; 10 is the seeds' own span for an applicant's answer to
-- a result (S3 第九条 收到认定结果之日起10日内), in calendar days like it.
('return_resubmit_days', 'int', 1, 90, NULL, '10', 'R-APP-8',
 '退回补充材料后补齐并重新提交的期限（自然日，10日），逾期申请撤回 / Calendar days to add the missing materials and resubmit after a return (10), after which the application is withdrawn')
ON CONFLICT (key) DO UPDATE
    SET type = EXCLUDED.type, min_value = EXCLUDED.min_value,
        max_value = EXCLUDED.max_value, choices = EXCLUDED.choices,
        default_value = EXCLUDED.default_value,
        requirement = EXCLUDED.requirement,
        description = EXCLUDED.description
    WHERE (policy_keys.type, policy_keys.min_value, policy_keys.max_value,
           policy_keys.choices, policy_keys.default_value,
           policy_keys.requirement, policy_keys.description)
          IS DISTINCT FROM
          (EXCLUDED.type, EXCLUDED.min_value, EXCLUDED.max_value,
           EXCLUDED.choices, EXCLUDED.default_value,
           EXCLUDED.requirement, EXCLUDED.description);

-- 1. Every region has a value for every key: the default.
INSERT INTO policies (region, key, value, updated_by)
SELECT r.code, k.key, k.default_value, 'reference'
  FROM regions r CROSS JOIN policy_keys k
ON CONFLICT (region, key) DO NOTHING;

-- 2. Values each region's seed states. Rows marked "(= default)" restate the
-- default so that the region keeps its seed's value if a default changes;
-- the others differ from the default.
INSERT INTO policies (region, key, value, updated_by) VALUES
-- 411200 三门峡 (S0)
('411200', 'material_max_age_days',   '365',          'reference'), -- S0 一(二) 一年以内 (= default)
('411200', 'material_min_level',      '2',            'reference'), -- S0 一(二) 二级以上公立医疗机构 (= default)
('411200', 'material_public_only',    'true',         'reference'), -- S0 一(二) 公立医疗机构 (= default)
('411200', 'expert_min_title',        '中级',         'reference'), -- S0 二(一) 中级以上职称的在职医保医师 (= default)
('411200', 'accept_window_seconds',   '86400',        'reference'), -- S0 二(二) 24 小时内进行受理认定 (= default)
('411200', 'yearly_application_limit','3',            'reference'), -- S0 二(二) 同一病种最多 3 次 (= default)
('411200', 'online_target_working_days','8',          'reference'), -- S0 二(三) 5-8 个工作日内完成 (DIFFERS: the default 0 is no online target)
('411200', 'benefit_start',           'decision_day', 'reference'), -- S0 三(一) 自认定通过之日起享受待遇 (= default)
('411200', 'quota_benefit_start',     'decision_day', 'reference'), -- S0 三(一) 所有病种自认定通过之日起享受; S0 无定额病种次月规则 (DIFFERS)
('411200', 'renewal_lookback_months', '12',           'reference'), -- S0 三(一) 终止日期前12个月内 (= default)
('411200', 'renewal_min_settlement_months','6',       'reference'), -- S0 三(一) 不少于6个月正常结算 (= default)
('411200', 'designated_change_limit', '2',            'reference'), -- S0 三(二) 每人每个自然年度变更最多不超过2次 (= default)
('411200', 'designated_change_scope', 'person',       'reference'), -- S0 三(二) 每人每个自然年度内变更最多不超过2次: per person, not per disease (DIFFERS)
('411200', 'miss_limit',              '3',            'reference'), -- S0 四(二) 连续三次不受理或者拒绝受理 (= default)
('411200', 'audit_min_rate_percent',  '10',           'reference'), -- S0 五(二) 不低于 10% 的比例抽审 (= default)
-- 532300 楚雄州（禄丰市） (S1)
('532300', 'expert_min_title',        '中级',         'reference'), -- S1 二(二) 主治及以上职称的专科医师 (主治 = 中级) (= default)
('532300', 'chronic_cert_min_level',  '2',            'reference'), -- S1 二(四) 二级及以上公立定点医疗机构办理慢性病 (= default)
('532300', 'special_cert_min_level',  '3',            'reference'), -- S1 二(四) 三级公立定点医疗机构办理特殊病 (= default)
('532300', 'private_cert_min_level',  '2',            'reference'), -- S1 二(四) 二级及以上民营协议定点医疗机构 (= default)
('532300', 'private_cert_min_score',  '85',           'reference'), -- S1 二(四) 上年度年终考核成绩在85分以上(含85分) (= default)
('532300', 'benefit_start',           'decision_day', 'reference'), -- S1 三(一)2 即时办理即时享受待遇 (= default)
('532300', 'quota_benefit_start',     'decision_day', 'reference'), -- S1 三(一)2 即时办理即时享受待遇 (DIFFERS)
-- 140100 太原 (S2)
('140100', 'panel_min_title',         '副高',         'reference'), -- S2 二(二) 专家组成员需具备副高及以上资质 (= default)
('140100', 'decision_working_days',   '20',           'reference'), -- S2 二(二) 认定周期原则上不超过 20 个工作日 (= default)
('140100', 'publicity_working_days',  '5',            'reference'), -- S2 二(二) 院内公示（5 个工作日） (= default)
('140100', 'data_entry_working_days', '3',            'reference'), -- S2 二(二) 3 个工作日内完成信息录入 (= default)
('140100', 'quota_benefit_start',     'next_month',   'reference'), -- S2 二(二) 次月 1 日起参保人享受待遇 (= default)
('140100', 'recertification_working_days','20',       'reference'), -- S2 二(二) 接到申请后 20 个工作日内完成重新认定 (= default)
('140100', 'appeal_panel_experts',    '3',            'reference'), -- S2 三 每个病种重新组织 3 名专家二次复核 (= default)
('140100', 'prescription_suspend_months','6',         'reference'), -- S2 五(二) 暂停违规医师医保处方权6个月 (= default)
('140100', 'prescription_suspend_severe_months','60', 'reference'), -- S2 五(二) 严重者暂停5年 (= default)
-- 370800 济宁 (S3 山东省规程)
('370800', 'instant_decision_working_days','1',       'reference'), -- S3 第八条 非工作时间线上提交的 1个工作日内办结 (= default)
('370800', 'decision_working_days',   '20',           'reference'), -- S3 第八条 其他病种20个工作日内办结 (= default)
('370800', 'objection_window_days',   '10',           'reference'), -- S3 第九条 收到认定结果之日起10日内 (= default)
('370800', 'benefit_start',           'decision_day', 'reference'), -- S3 第十二条 自病种认定通过之日起享受 (= default)
('370800', 'quota_benefit_start',     'decision_day', 'reference'), -- S3 第十二条 自病种认定通过之日起享受（不分病种） (DIFFERS)
('370800', 'audit_min_rate_percent',  '10',           'reference'), -- S3 第二十条 不低于 10% 的比例随机抽检 (= default)
-- 630100 西宁 (S4)
('630100', 'chronic_cert_min_level',  '2',            'reference'), -- S4 一 原则上应由二级及以上定点医疗机构承担 (= default)
('630100', 'special_cert_min_level',  '2',            'reference'), -- S4 一 二级及以上，不区分特殊病/慢性病; 名单含二级县级医院 (DIFFERS)
('630100', 'benefit_start',           'decision_day', 'reference'), -- S4 二 影像资料上传确认后即可享受相应待遇 (= default)
('630100', 'quota_benefit_start',     'decision_day', 'reference'), -- S4 二 上传确认后即可享受（不分病种） (DIFFERS)
('630100', 'quarterly_report_working_days','10',      'reference'), -- S4 西宁转发文 / 四(二) 每季结束后的10个工作日内送交 (= default)
('630100', 'benefit_waits_confirmation','false',      'reference'), -- S4 二 影像资料上传确认后即可享受相应待遇，不等经办机构确认 (= default)
-- Quarterly review (issue 12 item 4)
('140100', 'quarterly_review_day',    '4',            'reference'), -- S2 三 市医保中心每季度第一个月……从门诊慢特病专家库中抽取临床专家; 4-10 日……抽取确定各临床专业专家 (DIFFERS: default 0, no review)
('140100', 'quarterly_review_reviewers','3',          'reference'), -- S2 三 21-30 日……每个病种重新组织 3 名专家二次复核 (= default)
('140100', 'quarterly_review_rate_percent','10',      'reference')  -- S2 三 names no share; S0 五(二) / S3 第二十条 不低于 10% 随机抽检 (= default)
ON CONFLICT (region, key) DO UPDATE
    SET value = EXCLUDED.value, updated_at = now(),
        updated_by = EXCLUDED.updated_by
    WHERE policies.updated_by = 'reference'
      AND policies.value IS DISTINCT FROM EXCLUDED.value;
