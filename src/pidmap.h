/* pidmap.h - the pid hash of the supervisor: every reaped pid is looked up here, so no event
 * walks all programs. Each proc embeds its entries (program, probe, health check), so adding a
 * pid allocates nothing. Calls util only; used by supervise and ready. */
#ifndef TEND_PIDMAP_H
#define TEND_PIDMAP_H

#include <stddef.h>
#include <sys/types.h>

struct proc;

/* What a reaped pid belongs to: the program itself, its readiness probe or its health check. */
enum pid_kind { PID_MAIN, PID_PROBE, PID_HEALTH };

struct pid_entry {
    pid_t pid; /* 0 when not in the map */
    enum pid_kind kind;
    struct proc *proc;
    struct pid_entry *next;
};

struct pid_map {
    struct pid_entry **buckets; /* pid -> entry, chained */
    size_t nbuckets;            /* a power of two */
};

/* Room for about n pids without long chains. */
void pid_map_init(struct pid_map *m, size_t n);
/* Rehashes when n pids would make the chains long; entries stay where they are. */
void pid_map_reserve(struct pid_map *m, size_t n);
void pid_map_free(struct pid_map *m);
void pid_map_add(struct pid_map *m, struct pid_entry *e, pid_t pid);
/* Takes e out (a no-op when it is not in) and sets its pid to 0. */
void pid_map_remove(struct pid_map *m, struct pid_entry *e);
struct pid_entry *pid_map_find(const struct pid_map *m, pid_t pid);
/* The proc whose program (not probe or check) has this pid, or NULL. */
struct proc *pid_map_find_main(const struct pid_map *m, pid_t pid);

#endif
