/*
 * stats.h -- the public figures of issue 12 (stats.c): the handler and
 * field table catalog.c's route table names.
 */
#ifndef CATALOG_STATS_H
#define CATALOG_STATS_H

#include "mt_http.h"

int  h_stats_public(struct mt_req *req);
extern const struct mt_field f_stats_public[];

#endif
