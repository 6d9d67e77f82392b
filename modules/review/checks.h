/*
 * checks.h -- the quarterly review's expert side (checks.c): the
 * handlers and field tables review.c's route table names.
 */
#ifndef REVIEW_CHECKS_H
#define REVIEW_CHECKS_H

#include "mt_http.h"

int  h_review_cases(struct mt_req *req);
int  h_review_result(struct mt_req *req);
extern const struct mt_field f_review_cases[];
extern const struct mt_field f_review_result[];

#endif
