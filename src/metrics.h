/* metrics.h - GET /metrics: the supervisor's processes and tend itself in Prometheus' text
 * exposition format (version 0.0.4). */
#ifndef TEND_METRICS_H
#define TEND_METRICS_H

#include "supervise.h"
#include "util.h"

void metrics_write(struct strbuf *out, const struct supervisor *sv, double now);

#endif
