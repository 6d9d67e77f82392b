/*
 * reviews.h -- the quarterly review's public counts (reviews.c): the
 * handler and field table catalog.c's route table names.
 */
#ifndef CATALOG_REVIEWS_H
#define CATALOG_REVIEWS_H

#include "mt_http.h"

int  h_reviews_public(struct mt_req *req);
extern const struct mt_field f_reviews_public[];

#endif
