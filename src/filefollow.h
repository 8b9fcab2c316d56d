/* filefollow.h - follows a file that another process appends to (`tend logs -f` of a program
 * that writes its log file itself): inotify wakes the loop, the new bytes are read and handed
 * on. No polling: nothing runs while the file does not change. */
#ifndef TEND_FILEFOLLOW_H
#define TEND_FILEFOLLOW_H

#include <ev.h>
#include <stddef.h>

struct file_follow;
typedef void (*file_follow_fn)(void *arg, const char *buf, size_t n);

/* Starts at the file's current end: fn gets every byte appended after this call. A file
 * truncated below what was read (copytruncate, a cleared log) is followed again from its
 * start. NULL with errno when the file cannot be opened or watched. */
struct file_follow *file_follow_new(struct ev_loop *loop, const char *path, file_follow_fn fn,
                                    void *arg);
void file_follow_free(struct file_follow *f);

#endif
