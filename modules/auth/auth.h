/*
 * auth.h -- what the files of module auth share: the handlers of
 * auth_sms.c and auth_staff.c for the route table of auth.c, and the
 * helpers of auth.c they use.
 */
#ifndef AUTH_H
#define AUTH_H

struct mt_req;
struct mt_session;

/* auth_sms.c */
int         h_sms_code(struct mt_req *req);
int         h_login(struct mt_req *req);
/* auth_staff.c */
int         h_password_login(struct mt_req *req);
/* Make the dummy password hash (once per worker).  0 or -1. */
int         auth_staff_init(void);

/* auth.c */
int         auth_policy_or_reply(struct mt_req *req, const char *region,
                const char *key, int *v);
long long   auth_count_event(const char *key, int max, int ttl);
int         auth_uncount_event(const char *key);
long long   auth_ttl(const char *key);
const char *auth_remote_addr(struct mt_req *req);
int         auth_start_session(struct mt_req *req, struct mt_session *s,
                const char *login);

#endif
