/* pidmap.c - pid -> entry hash with chaining; entries are embedded in their procs.
 * Calls util only. */
#include "pidmap.h"

#include <stdlib.h>

#include "util.h"

static size_t
pid_bucket(const struct pid_map *m, pid_t pid)
{
    return ((size_t)pid * 2654435761u) & (m->nbuckets - 1);
}

static void
pid_link(struct pid_map *m, struct pid_entry *e)
{
    size_t b = pid_bucket(m, e->pid);
    e->next = m->buckets[b];
    m->buckets[b] = e;
}

void
pid_map_init(struct pid_map *m, size_t n)
{
    m->nbuckets = 64;
    while (m->nbuckets < n * 2) {
        m->nbuckets *= 2;
    }
    m->buckets = xcalloc(m->nbuckets, sizeof(*m->buckets));
}

void
pid_map_reserve(struct pid_map *m, size_t n)
{
    if (m->nbuckets >= n * 2) {
        return;
    }
    struct pid_map old = *m;
    pid_map_init(m, n);
    for (size_t b = 0; b < old.nbuckets; b++) {
        for (struct pid_entry *e = old.buckets[b], *next; e; e = next) {
            next = e->next;
            pid_link(m, e);
        }
    }
    free(old.buckets);
}

void
pid_map_free(struct pid_map *m)
{
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = 0;
}

void
pid_map_add(struct pid_map *m, struct pid_entry *e, pid_t pid)
{
    e->pid = pid;
    pid_link(m, e);
}

void
pid_map_remove(struct pid_map *m, struct pid_entry *e)
{
    if (e->pid <= 0) {
        return;
    }
    struct pid_entry **link = &m->buckets[pid_bucket(m, e->pid)];
    while (*link && *link != e) {
        link = &(*link)->next;
    }
    if (*link) {
        *link = e->next;
    }
    e->next = NULL;
    e->pid = 0;
}

struct pid_entry *
pid_map_find(const struct pid_map *m, pid_t pid)
{
    for (struct pid_entry *e = m->buckets[pid_bucket(m, pid)]; e; e = e->next) {
        if (e->pid == pid) {
            return e;
        }
    }
    return NULL;
}

struct proc *
pid_map_find_main(const struct pid_map *m, pid_t pid)
{
    struct pid_entry *e = pid_map_find(m, pid);
    return e && e->kind == PID_MAIN ? e->proc : NULL;
}
