/* watchdog.c: a time budget for one run. A thread waits on a monotonic deadline and then calls the
 * owner's expire function, which ends the run (in lodestone: records the failure and _exits),
 * because a stage stuck in a loop cannot be asked to stop. Sections that must not be cut in half
 * (appending to the transparency log, publishing a result) hold the watchdog; expiry waits for
 * them, and expire runs with the lock held, so no section starts after it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"

struct lds_watchdog {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    pthread_t thread;
    struct timespec deadline;
    unsigned holds;
    int waiting; /* the thread is in its wait: it allocates nothing more until it expires */
    int stopping;
    void (*expire)(void *ctx);
    void *ctx;
};

static void *watchdog_main(void *arg)
{
    lds_watchdog *w = arg;
    pthread_mutex_lock(&w->lock);
    w->waiting = 1;
    pthread_cond_broadcast(&w->cond);
    int timed_out = 0;
    while (!w->stopping && !timed_out)
        timed_out = pthread_cond_timedwait(&w->cond, &w->lock, &w->deadline) == ETIMEDOUT;
    while (!w->stopping && w->holds > 0)
        pthread_cond_wait(&w->cond, &w->lock);
    if (!w->stopping)
        w->expire(w->ctx); /* with the lock held: no section starts while it ends the run */
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

lds_status lds_watchdog_start(uint64_t ms, void (*expire)(void *ctx), void *ctx, lds_watchdog **out, lds_error *err)
{
    *out = NULL;
    lds_watchdog *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return lds_error_set(err, LDS_ENOMEM, "watchdog: out of memory");
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&w->lock, NULL);
    clock_gettime(CLOCK_MONOTONIC, &w->deadline);
    w->deadline.tv_sec += (time_t)(ms / 1000);
    w->deadline.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (w->deadline.tv_nsec >= 1000000000L) {
        w->deadline.tv_sec++;
        w->deadline.tv_nsec -= 1000000000L;
    }
    w->expire = expire;
    w->ctx = ctx;
    if (pthread_create(&w->thread, NULL, watchdog_main, w) != 0) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return lds_error_set(err, LDS_EIO, "watchdog: cannot start its thread");
    }
    /* The run forks its sandboxes next: wait until the new thread's start-up is over (fork.c). */
    pthread_mutex_lock(&w->lock);
    while (!w->waiting)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
    *out = w;
    return LDS_OK;
}

void lds_watchdog_hold(lds_watchdog *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->holds++;
    pthread_mutex_unlock(&w->lock);
}

void lds_watchdog_release(lds_watchdog *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    if (w->holds > 0)
        w->holds--;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

void lds_watchdog_stop(lds_watchdog *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
