/* deps.c - depends_on as a graph: pointers both ways, the depth of each process and the start
 * order (dependencies first, then priority, then file order; shutdown walks it backwards).
 * Pure bookkeeping: calls util only. */
#include "supervise_int.h"

#include <stdlib.h>
#include <string.h>

bool deps_ready(const struct proc *p)
{
    for (size_t i = 0; i < p->ndeps; i++) {
        if (!p->deps[i]->ready) {
            return false;
        }
    }
    return true;
}

struct proc *deps_failed(const struct proc *p)
{
    for (size_t i = 0; i < p->ndeps; i++) {
        if (p->deps[i]->state == PROC_FATAL || p->deps[i]->blocked) {
            return p->deps[i];
        }
    }
    return NULL;
}

static int proc_depth(struct proc *p)
{
    if (p->depth >= 0) {
        return p->depth;
    }
    p->depth = 0; /* the configuration has no cycles: validated at load */
    for (size_t i = 0; i < p->ndeps; i++) {
        int d = proc_depth(p->deps[i]) + 1;
        p->depth = d > p->depth ? d : p->depth;
    }
    return p->depth;
}

static int proc_start_order(const void *a, const void *b)
{
    const struct proc *x = *(struct proc *const *)a, *y = *(struct proc *const *)b;
    if (x->depth != y->depth) {
        return x->depth < y->depth ? -1 : 1;
    }
    if (x->cfg->priority != y->cfg->priority) {
        return x->cfg->priority < y->cfg->priority ? -1 : 1;
    }
    return x->cfg->order < y->cfg->order ? -1 : (x->cfg->order > y->cfg->order);
}

void deps_clear(struct proc *p)
{
    free(p->deps);
    free(p->dependents);
    p->deps = p->dependents = NULL;
    p->ndeps = p->ndependents = 0;
}

/* Resolves depends_on into pointers both ways and orders the procs: dependencies first, then
 * by priority. Shutdown walks the same order backwards. */
void build_deps(struct supervisor *sv)
{
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        deps_clear(p);
        p->depth = -1;
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        struct proc *p = sv->procs[i];
        const struct proc_config *c = p->pending_cfg ? p->pending_cfg : p->cfg;
        /* a pipeline is a dependency: the reader starts first and stops last */
        struct strv needs;
        strv_copy(&needs, &c->depends_on);
        const struct strv *targets[] = {&c->stdout, &c->stderr};
        for (size_t t = 0; t < 2; t++) {
            for (size_t k = 0; k < targets[t]->n; k++) {
                const char *x = targets[t]->v[k];
                if (strncmp(x, "program:", 8) == 0 && !strv_contains(&needs, x + 8)) {
                    strv_push(&needs, x + 8);
                }
            }
        }
        for (size_t d = 0; d < needs.n; d++) {
            for (size_t k = 0; k < sv->nprocs; k++) {
                struct proc *q = sv->procs[k];
                if (strcmp(q->cfg->program, needs.v[d]) != 0) {
                    continue;
                }
                p->deps = xrealloc(p->deps, (p->ndeps + 1) * sizeof(*p->deps));
                p->deps[p->ndeps++] = q;
                q->dependents =
                    xrealloc(q->dependents, (q->ndependents + 1) * sizeof(*q->dependents));
                q->dependents[q->ndependents++] = p;
            }
        }
        strv_free(&needs);
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        proc_depth(sv->procs[i]);
    }
    if (sv->nprocs > 1) {
        qsort(sv->procs, sv->nprocs, sizeof(*sv->procs), proc_start_order);
    }
    for (size_t i = 0; i < sv->nprocs; i++) {
        sv->procs[i]->index = i;
    }
}

