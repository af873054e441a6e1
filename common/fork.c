/* fork.c: fork() in a process that has other threads. glibc's malloc is safe across fork, but the
 * allocator of the sanitizers (GCC 12's libasan) takes no lock around it: a child forked while
 * another thread refills one of its size classes waits forever on that class's lock (seen as
 * sandbox children of `lodestone process` stuck until their 60 s limit). In sanitizer builds the
 * threads that allocate beside forks (a job's heartbeat, the valuation aggregator) hold this lock
 * shared while they work and lds_fork takes it exclusive; the pipeline's pool runs on the calling
 * thread there (LDS_FORK_NEEDS_QUIET). In other builds the lock costs nothing. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <pthread.h>
#include <unistd.h>

#include "common.h"

#if LDS_FORK_NEEDS_QUIET
/* Threads hold it shared; a fork holds it exclusive. Writers first: a thread that takes it again
 * right after letting it go (the aggregator's loop) must not starve a waiting fork. */
static pthread_rwlock_t fork_lock;
static pthread_once_t fork_lock_once = PTHREAD_ONCE_INIT;

static void fork_lock_init(void)
{
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&fork_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
}
#endif

void lds_fork_lock(void)
{
#if LDS_FORK_NEEDS_QUIET
    pthread_once(&fork_lock_once, fork_lock_init);
    pthread_rwlock_rdlock(&fork_lock);
#endif
}

void lds_fork_unlock(void)
{
#if LDS_FORK_NEEDS_QUIET
    pthread_rwlock_unlock(&fork_lock);
#endif
}

pid_t lds_fork(void)
{
#if LDS_FORK_NEEDS_QUIET
    pthread_once(&fork_lock_once, fork_lock_init);
    pthread_rwlock_wrlock(&fork_lock);
    pid_t pid = fork();
    /* In the child the lock is still write-locked by the thread that forked, which is this one. */
    pthread_rwlock_unlock(&fork_lock);
    return pid;
#else
    return fork();
#endif
}
