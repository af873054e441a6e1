/* fork.c: fork() in a process that has other threads. glibc's malloc is safe across fork, but the
 * allocator of the sanitizers (GCC 12's libasan) takes no lock around it: a child forked while
 * another thread refills one of its size classes waits forever on that class's lock (seen as
 * sandbox children of `lodestone process` stuck until their 60 s limit). In sanitizer builds the
 * threads that allocate beside forks (a job's heartbeat, the valuation aggregator) hold this lock
 * while they work, and lds_fork takes it; the pipeline's pool runs on the calling thread there
 * (LDS_FORK_NEEDS_QUIET). In other builds the lock costs nothing. */
#include <pthread.h>
#include <unistd.h>

#include "common.h"

#if LDS_FORK_NEEDS_QUIET
static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

void lds_fork_lock(void)
{
#if LDS_FORK_NEEDS_QUIET
    pthread_mutex_lock(&fork_lock);
#endif
}

void lds_fork_unlock(void)
{
#if LDS_FORK_NEEDS_QUIET
    pthread_mutex_unlock(&fork_lock);
#endif
}

pid_t lds_fork(void)
{
    lds_fork_lock();
    pid_t pid = fork();
    lds_fork_unlock(); /* in the child too: the lock was taken by the thread that forked */
    return pid;
}
