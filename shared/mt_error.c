/*
 * mt_error.c -- the one table of refusals (see mt_error.h): status,
 * code and Chinese text of each, the two ways to answer one (from C,
 * from an SQL function's refusal), and the one writer of the error
 * envelope they share.
 */
#include <stdio.h>
#include <string.h>

#include "mt_error.h"
#include "mt_http.h"
#include "mt_log.h"

#define E(id, status, code, message) [id] = { id, status, code, message }

const struct mt_error mt_errors[MT_E__MAX] = {
	E(MT_E_NOT_FOUND, 404, "not_found", "请求的地址不存在"),
	E(MT_E_METHOD_NOT_ALLOWED, 405, "method_not_allowed",
	    "不支持此请求方法"),
	E(MT_E_BODY_TOO_LARGE, 413, "body_too_large", "请求内容过大"),
	E(MT_E_BAD_CONTENT_LENGTH, 400, "bad_content_length",
	    "Content-Length 不正确"),
	E(MT_E_INCOMPLETE_BODY, 400, "incomplete_body", "请求内容不完整"),
	E(MT_E_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type",
	    "请求内容的类型不对：须为 %s"),
	E(MT_E_INVALID_UTF8, 400, "invalid_utf8",
	    "请求内容不是有效的 UTF-8 编码"),
	E(MT_E_MALFORMED_JSON, 400, "malformed_json",
	    "请求内容须为一个有效的 JSON 对象"),
	E(MT_E_MALFORMED_MULTIPART, 400, "malformed_multipart",
	    "上传内容格式不正确，请重新选择文件上传"),
	E(MT_E_UNKNOWN_FIELD, 400, "unknown_field",
	    "本接口不接受字段“%s”，请检查字段名"),
	E(MT_E_DUPLICATE_FIELD, 400, "duplicate_field", "%s只能提交一个"),
	E(MT_E_FIELD_REQUIRED, 400, "field_required", "缺少必填项：%s"),
	E(MT_E_FIELD_INVALID, 400, "field_invalid", "%s格式不正确%s"),
	E(MT_E_UNAUTHENTICATED, 401, "unauthenticated",
	    "请先登录，或登录已过期，请重新登录"),
	E(MT_E_CSRF_FAILED, 403, "csrf_failed",
	    "安全校验失败，请刷新页面后重试"),
	E(MT_E_FORBIDDEN, 403, "forbidden", "您的账号无权进行此操作"),
	E(MT_E_REQUEST_IN_PROGRESS, 409, "request_in_progress",
	    "相同的请求正在处理中，请稍后再试"),
	E(MT_E_IDEMPOTENCY_KEY_REUSED, 422, "idempotency_key_reused",
	    "该 Idempotency-Key 已用于另一个请求"),
	E(MT_E_RATE_LIMITED, 429, "rate_limited", "操作过于频繁，请稍后再试"),
	E(MT_E_RANGE_NOT_SATISFIABLE, 416, "range_not_satisfiable",
	    "请求的文件范围无效"),
	E(MT_E_INTERNAL_ERROR, 500, "internal_error",
	    "服务器内部错误，请稍后再试"),
	E(MT_E_NOT_IMPLEMENTED, 501, "not_implemented",
	    "该功能尚未开放"),
	E(MT_E_SERVICE_UNAVAILABLE, 503, "service_unavailable",
	    "服务暂时不可用%s，请稍后再试"),

	E(MT_E_SMS_TOO_FREQUENT, 429, "sms_too_frequent",
	    "验证码发送过于频繁，请稍后再试"),
	E(MT_E_SMS_DAILY_LIMIT, 429, "sms_daily_limit",
	    "该手机号24小时内获取验证码次数已达上限，请稍后再试"),
	E(MT_E_LOGIN_FAILED, 401, "login_failed", "登录失败：%s"),
	E(MT_E_ACCOUNT_LOCKED, 429, "account_locked",
	    "连续登录失败次数过多，账号已暂时锁定，请%s分钟后再试"),

	E(MT_E_REGION_NOT_FOUND, 404, "region_not_found",
	    "该统筹区不存在、尚未开通或不在您的管辖范围"),
	E(MT_E_DISEASE_NOT_FOUND, 404, "disease_not_found",
	    "病种不存在，或不在该统筹区的病种目录中"),

	E(MT_E_APPLICATION_NOT_FOUND, 404, "application_not_found",
	    "申请不存在，或您无权查看"),
	E(MT_E_APPLICATION_EXISTS, 409, "application_exists",
	    "该病种已有一份在办的申请，请在“我的申请”中继续办理"),
	E(MT_E_APPLICATION_NOT_EDITABLE, 409, "application_not_editable",
	    "申请已提交或已结束，不能再修改；如需补充材料，请等待退回通知"),
	E(MT_E_APPLICATION_NOT_SUBMITTABLE, 409, "application_not_submittable",
	    "申请已经提交或已结束，不能再次提交"),
	E(MT_E_APPLICATION_NOT_WITHDRAWABLE, 409,
	    "application_not_withdrawable",
	    "申请已有结论或已撤回，不能撤回"),
	E(MT_E_DISEASE_NOT_IN_CATALOG, 422, "disease_not_in_catalog",
	    "该病种不在您所在统筹区的门诊慢特病目录中"),
	E(MT_E_INSTITUTION_NOT_FOUND, 422, "institution_not_found",
	    "所选医院不存在，请从定点医疗机构列表中选择"),
	E(MT_E_INSTITUTION_NOT_DESIGNATED, 422, "institution_not_designated",
	    "所选医院不是本统筹区该病种的门诊慢特病定点医疗机构，请重新选择"),
	E(MT_E_ALREADY_QUALIFIED, 422, "already_qualified",
	    "您已享受该病种的门诊慢特病待遇，无需重复申请"),
	E(MT_E_YEARLY_LIMIT_REACHED, 422, "yearly_limit_reached",
	    "同一病种每个自然年度最多申请 %s 次，本年度已达上限"),
	E(MT_E_PERSON_NOT_FOUND, 422, "person_not_found",
	    "参保登记中没有此人，或姓名与身份证号码不符"),
	E(MT_E_PROMISE_REQUIRED, 422, "promise_required",
	    "请阅读并勾选承诺书后再提交"),
	E(MT_E_MATERIALS_MISSING, 422, "materials_missing",
	    "还有材料未上传，请按清单一次补齐后再提交"),
	E(MT_E_MATERIAL_TOO_OLD, 422, "material_too_old",
	    "材料出具时间已超过规定期限%s，请更换为近期出具的材料"),
	E(MT_E_MATERIAL_KIND_NOT_NEEDED, 422, "material_kind_not_needed",
	    "该病种不需要这类材料，请按“所需材料”清单上传"),
	E(MT_E_MATERIAL_NOT_FOUND, 404, "material_not_found",
	    "材料不存在、已删除，或您无权查看"),
	E(MT_E_FILE_EMPTY, 400, "file_empty", "文件是空的，请重新选择"),
	E(MT_E_FILE_TOO_LARGE, 413, "file_too_large",
	    "文件过大：每个文件不能超过 %s MB"),
	E(MT_E_APPLICATION_FILES_TOO_LARGE, 413, "application_files_too_large",
	    "本申请的材料总量不能超过 %s MB"),
	E(MT_E_FILE_TYPE_NOT_ALLOWED, 415, "file_type_not_allowed",
	    "只能上传 JPG、PNG 图片或 PDF 文件"),
	E(MT_E_FILE_DAMAGED, 400, "file_damaged",
	    "PDF 文件不完整或已损坏，请重新导出或扫描后再上传"),

	E(MT_E_TASK_NOT_FOUND, 404, "task_not_found",
	    "任务不存在，或不是您的任务"),
	E(MT_E_TASK_NOT_ACCEPTED, 409, "task_not_accepted",
	    "请先受理任务，再作出认定意见"),
	E(MT_E_TASK_ALREADY_ACCEPTED, 409, "task_already_accepted",
	    "您已受理该任务，请作出认定意见"),
	E(MT_E_TASK_ALREADY_DECIDED, 409, "task_already_decided",
	    "您已对该任务作出认定意见"),
	E(MT_E_TASK_UNAVAILABLE, 409, "task_unavailable",
	    "任务已超过受理时限、已分配给其他专家或申请已撤回"),
	E(MT_E_REASON_CODE_NOT_FOUND, 422, "reason_code_not_found",
	    "不予认定原因不在原因目录中，请从列表中选择"),

	E(MT_E_EXPERT_NOT_FOUND, 404, "expert_not_found",
	    "专家不存在，或不在您的管辖范围"),
	E(MT_E_LOGIN_TAKEN, 409, "login_taken", "该账号已被使用"),
	E(MT_E_INSTITUTION_NOT_CERTIFYING, 422, "institution_not_certifying",
	    "该医院不是本统筹区的认定机构"),
	E(MT_E_TITLE_BELOW_MINIMUM, 422, "title_below_minimum",
	    "专家职称低于本统筹区的最低要求（%s）"),
	E(MT_E_SPECIALTY_UNKNOWN, 422, "specialty_unknown",
	    "专业类别“%s”不在病种目录中"),
	E(MT_E_POLICY_KEY_UNKNOWN, 422, "policy_key_unknown",
	    "没有这项政策参数"),
	E(MT_E_POLICY_VALUE_INVALID, 422, "policy_value_invalid",
	    "政策参数 %s 的取值不正确，可取值：%s"),
	E(MT_E_QUALIFICATION_NOT_FOUND, 404, "qualification_not_found",
	    "未找到该待遇资格"),
	E(MT_E_QUALIFICATION_NOT_ACTIVE, 409, "qualification_not_active",
	    "该待遇资格已终止或到期，不能再办理此项业务"),
	E(MT_E_CHANGE_LIMIT_REACHED, 422, "change_limit_reached",
	    "每个自然年度最多变更定点医院 %s 次，本年度已达上限"),
	E(MT_E_INSTITUTION_UNCHANGED, 422, "institution_unchanged",
	    "所选医院就是当前的定点医院，无需变更"),
	E(MT_E_GUARDIAN_REQUIRED, 422, "guardian_required",
	    "精神类疾病退出待遇须由监护人签署承诺，请填写监护人姓名和身份证号"),
	E(MT_E_SETTLEMENTS_INVALID, 422, "settlements_invalid",
	    "结算记录中有 %s 处错误，全部未导入；请按所列行号改正后重新导入"),
	E(MT_E_DATE_OUT_OF_RANGE, 422, "date_out_of_range",
	    "%s超出允许的范围：%s"),
	E(MT_E_INSTITUTION_NOT_AUTHORIZED, 403, "institution_not_authorized",
	    "本院不能认定该病种：%s"),
	E(MT_E_DESIGNATED_NOT_CERTIFYING, 422, "designated_not_certifying",
	    "所选医院不能认定该病种：%s。请选择能认定该病种的医院"),
	E(MT_E_AUTHORIZATION_RULE_FAILED, 422, "authorization_rule_failed",
	    "不符合认定机构条件：%s"),
	E(MT_E_INSTITUTION_UNKNOWN, 404, "institution_unknown",
	    "未找到该医疗机构，或它不属于您的统筹区"),
	E(MT_E_CERTIFICATION_NOT_FOUND, 404, "certification_not_found",
	    "未找到该认定记录，或您无权查看"),
	E(MT_E_NOT_AWAITING_CERTIFICATION, 409, "not_awaiting_certification",
	    "该申请不在等待本院认定的状态（可能已认定、已撤回或尚未提交）"),
	E(MT_E_NOT_AWAITING_CONFIRMATION, 409, "not_awaiting_confirmation",
	    "该申请没有等待经办机构确认的认定结果"),
	E(MT_E_OVERTURN_NOT_ALLOWED, 409, "overturn_not_allowed",
	    "不予认定的结果不能撤销；参保人对结果有异议的，可以申请复核"),
	E(MT_E_PANEL_TOO_SMALL, 422, "panel_too_small",
	    "专家组至少需要 %s 名符合条件的成员"),
	E(MT_E_PANEL_MEMBER_INVALID, 422, "panel_member_invalid",
	    "专家组成员不符合要求：%s"),
	E(MT_E_PUBLICITY_NOT_FOUND, 404, "publicity_not_found",
	    "未找到该公示，可能已经结束"),
	E(MT_E_PUBLICITY_CLOSED, 409, "publicity_closed",
	    "公示期已结束，不能再提出异议；如有问题请联系当地医保经办机构"),
	E(MT_E_QUARTER_NOT_ENDED, 422, "quarter_not_ended",
	    "%s 季度尚未结束，结束后才能报送认定表"),
	E(MT_E_REPORT_ALREADY_SUBMITTED, 409, "report_already_submitted",
	    "该季度的认定表已于 %s 报送，不能重复报送"),
	E(MT_E_AGENT_IS_SELF, 422, "agent_is_self",
	    "代办人不能是参保人本人；为自己申请请直接填写申请"),
	/* Sanctions (issue 12 item 6, R-SUP-4). */
	E(MT_E_SANCTION_SUBJECT_NOT_FOUND, 404, "sanction_subject_not_found",
	    "未找到被处理的对象，或它不属于您的统筹区"),
	E(MT_E_SANCTION_KIND_INVALID, 422, "sanction_kind_invalid",
	    "处理方式“%s”不适用于这一类对象"),
	E(MT_E_PHYSICIAN_SUSPENDED, 422, "physician_suspended",
	    "医师%s的医保处方权已被暂停（至%s），不能作为认定医师"),
	E(MT_E_EXPERT_SANCTIONED, 409, "expert_sanctioned",
	    "这位专家的评审资格因违规处理被暂停或取消，处理期满后自动恢复，不能提前恢复"),
	/* Objections and hospitals' appeals (modules/apply/objection.c,
	 * sql/fn/80_objection.sql, R-CER-12). */
	E(MT_E_APPLICATION_NOT_REJECTED, 409, "application_not_rejected",
	    "只有未通过认定的申请才能申请复核"),
	E(MT_E_OBJECTION_WINDOW_CLOSED, 422, "objection_window_closed",
	    "已超过申请复核的期限：须在收到认定结果之日起 %s 日内提出"),
	E(MT_E_OBJECTION_ALREADY_FILED, 422, "objection_already_filed",
	    "该申请已申请过复核，复核结果为最终结果，不能再次申请复核"),
	/* The agency's catalog and calendar (issue 12 item 7). */
	E(MT_E_MATERIAL_KIND_UNKNOWN, 422, "material_kind_unknown",
	    "没有这种材料：%s（材料种类须是目录中已有的种类）"),
	E(MT_E_REVIEW_MODE_NO_HOSPITAL, 422, "review_mode_no_hospital",
	    "本统筹区还没有能认定该病种的医院，不能改为%s；"
	    "请先在“认定机构”中授权医院"),
	E(MT_E_CALENDAR_DAY_OUTSIDE_YEAR, 422, "calendar_day_outside_year",
	    "%s 不在 %s 年内，只能填写这一年的日期"),
	E(MT_E_CALENDAR_DAY_POINTLESS, 422, "calendar_day_pointless",
	    "%s %s，不需要列入；只填写调休上班的周末和放假的工作日"),
	/* Audits (issue 12, R-SUP-1). */
	E(MT_E_AUDIT_RATE_TOO_LOW, 422, "audit_rate_too_low",
	    "抽查比例不能低于本统筹区规定的最低比例 %s%"),
	E(MT_E_AUDIT_POPULATION_EMPTY, 422, "audit_population_empty",
	    "%s 至 %s 期间本统筹区没有通过认定的待遇资格，无可抽查"),
	E(MT_E_AUDIT_NOT_FOUND, 404, "audit_not_found",
	    "抽查批次不存在，或不在您的管辖范围"),
	E(MT_E_AUDIT_ITEM_NOT_FOUND, 404, "audit_item_not_found",
	    "该抽查批次中没有这条样本"),
	E(MT_E_AUDIT_ITEM_DECIDED, 409, "audit_item_decided",
	    "这条样本已记录为“%s”（%s），结果不能再改"),
	/* The quarterly review (issue 12 item 4, R-SUP-2). */
	E(MT_E_REVIEW_QUARTER_OPEN, 422, "review_quarter_open",
	    "%s 季度尚未结束，季度结束后才能抽取复核专家和病例"),
	E(MT_E_REVIEW_ALREADY_DRAWN, 409, "review_already_drawn",
	    "本统筹区 %s 季度的复核已经抽取，不能重复抽取"),
	E(MT_E_REVIEW_NO_EXPERTS, 422, "review_no_experts",
	    "本统筹区专家库中没有在岗的专家，无法抽取复核专家"),
	E(MT_E_REVIEW_NOT_FOUND, 404, "review_not_found",
	    "没有找到这次季度复核"),
	E(MT_E_REVIEW_CASE_NOT_FOUND, 404, "review_case_not_found",
	    "没有找到这个复核病例，或它没有分配给您"),
	E(MT_E_REVIEW_RESULT_GIVEN, 409, "review_result_given",
	    "这个病例的复核结论已经提交，不能重复提交"),
	/* The returned state (issue 12, R-APP-8). */
	E(MT_E_RETURN_ALREADY_USED, 409, "return_already_used",
	    "每件申请只能退回补充一次；材料仍不符合的，请作出认定意见"),
	E(MT_E_RETURN_NOT_IN_OBJECTION, 409, "return_not_in_objection",
	    "复核阶段不能退回补充材料，请根据已有材料作出认定意见"),
	E(MT_E_INSTITUTION_SANCTIONED, 409, "institution_sanctioned",
	    "这家医院的认定资格因违规处理被暂停或取消，处理期满后自动恢复，不能提前恢复"),
	/* Files at rest (issue 15): destroyed when their retention ended
	 * (sql/fn/96_files.sql); a stored file or its key that fails its
	 * check (altered, or the master key missing) is the server's fault,
	 * which an operator can repair from the backups, so 503, not 500
	 * (a bug) nor a truncated 200. */
	E(MT_E_MATERIAL_FILE_SHREDDED, 410, "material_file_shredded",
	    "这份材料的文件已过保存期限，按规定销毁；申请记录仍然保留"),
	E(MT_E_MATERIAL_FILE_UNREADABLE, 503, "material_file_unreadable",
	    "这份材料的文件暂时无法读取，已记录并通知管理员，请稍后再试"),
};

#undef E

/*
 * The envelope {"error":{"code","message","field"?,"details"?}} with the
 * row's status; takes ownership of details (may be NULL).  The one writer
 * of a refusal: nothing outside this file answers one.  Returns -1.
 */
static int
reply_envelope(struct mt_req *req, const struct mt_error *e,
    const char *message, const char *field, json_object *details)
{
	json_object *root, *err;

	err = json_object_new_object();
	json_object_object_add(err, "code", json_object_new_string(e->code));
	json_object_object_add(err, "message",
	    json_object_new_string(message));
	if (field != NULL)
		json_object_object_add(err, "field",
		    json_object_new_string(field));
	if (details != NULL)
		json_object_object_add(err, "details", details);
	root = json_object_new_object();
	json_object_object_add(root, "error", err);
	mt_reply_json(req, e->status, root);
	return -1;
}

/* See mt_error.h. */
const struct mt_error *
mt_error_find(const char *code)
{
	size_t i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < MT_E__MAX; i++)
		if (mt_errors[i].code != NULL &&
		    strcmp(mt_errors[i].code, code) == 0)
			return &mt_errors[i];
	return NULL;
}

/* Append n bytes of s to buf[*len] within size, whole UTF-8 characters
 * only (a cut never splits one). */
static void
append(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	if (*len + n >= size) {
		n = size - 1 - *len;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

/* See mt_error.h. */
char *
mt_error_text(const struct mt_error *e, const char *const *args, char *buf,
    size_t size)
{
	const char *p = e->message, *q;
	size_t len = 0;

	buf[0] = '\0';
	while ((q = strstr(p, "%s")) != NULL) {
		append(buf, size, &len, p, (size_t)(q - p));
		if (args != NULL && *args != NULL) {
			append(buf, size, &len, *args, strlen(*args));
			args++;
		}
		p = q + 2;
	}
	append(buf, size, &len, p, strlen(p));
	return buf;
}

/* See mt_error.h. */
int
mt_error_check(void)
{
	size_t i;

	for (i = 0; i < MT_E__MAX; i++)
		if ((size_t)mt_errors[i].id != i || mt_errors[i].code == NULL ||
		    mt_error_find(mt_errors[i].code) != &mt_errors[i]) {
			mt_log("error", "error table row %zu out of order or "
			    "repeated", i);
			return -1;
		}
	return 0;
}

/* See mt_error.h. */
int
mt_reply_err_args(struct mt_req *req, enum mt_err e, json_object *details,
    const char *const *fa)
{
	char msg[512];

	mt_error_text(&mt_errors[e], fa + 1, msg, sizeof(msg));
	return reply_envelope(req, &mt_errors[e], msg, fa[0], details);
}

/* See mt_error.h. */
const struct mt_error *
mt_refusal_text(json_object *refusal, char *buf, size_t size)
{
	const char *args[8] = { NULL };
	const struct mt_error *e = NULL;
	json_object *v, *a;
	size_t i, n;

	buf[0] = '\0';
	if (json_object_object_get_ex(refusal, "error", &v))
		e = mt_error_find(json_object_get_string(v));
	if (e == NULL)
		return NULL;
	if (json_object_object_get_ex(refusal, "args", &a) &&
	    json_object_is_type(a, json_type_array)) {
		n = json_object_array_length(a);
		for (i = 0; i < n && i < MT_ARRAY_LEN(args) - 1; i++)
			args[i] = json_object_get_string(
			    json_object_array_get_idx(a, i));
	}
	mt_error_text(e, args, buf, size);
	return e;
}

/* See mt_error.h. */
int
mt_reply_refusal(struct mt_req *req, json_object *refusal)
{
	const struct mt_error *e;
	const char *field = NULL;
	json_object *v, *d = NULL;
	char msg[512];

	if ((e = mt_refusal_text(refusal, msg, sizeof(msg))) == NULL) {
		mt_log("error", "refusal with no row in the error table: %s",
		    json_object_to_json_string(refusal));
		return mt_reply_err(req, MT_E_INTERNAL_ERROR, NULL);
	}
	if (json_object_object_get_ex(refusal, "field", &v))
		field = json_object_get_string(v);
	if (json_object_object_get_ex(refusal, "details", &v))
		d = json_object_get(v);
	return reply_envelope(req, e, msg, field, d);
}
