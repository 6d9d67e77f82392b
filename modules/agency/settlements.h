/*
 * settlements.h -- the settlement import's handler (settlements.c) for
 * the route table in agency.c.
 */
#ifndef SETTLEMENTS_H
#define SETTLEMENTS_H

struct mt_req;

/* A settlement file is the body itself: tens of thousands of rows, about
 * 45 bytes each as CSV (50,000 rows: 2.3 MiB), so 16 MiB leaves room for
 * JSON lines and a region's largest month. nginx allows it on this route
 * only (nginx/mtcert.conf.in). */
#define SETTLEMENTS_MAX_BODY (16 * 1024 * 1024)

int	h_settlements(struct mt_req *req);

#endif
