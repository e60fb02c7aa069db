/* SPDX-License-Identifier: MIT */
/* `redis`: the reliable work queue, a Redis list with one processing list per consumer, so
 * work taken by a consumer that dies is put back instead of lost. */
#include "queue.h"

#include <stdio.h>

#ifdef IPCLAB_HAVE_HIREDIS

#include "clock.h"
#include "fork_gen.h"
#include "redis_conn.h"
#include "redis_server.h"
#include "shared.h"

#include <hiredis/hiredis.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/*
 * The lists.
 *
 *   KEY:jobs         the queue. Producers LPUSH; consumers take from the right end, so it
 *                    is first in, first out, and the right end is its head.
 *   KEY:pending:I    what the consumer attached in slot I has received and not acked yet.
 *
 * recv is BLMOVE KEY:jobs KEY:pending:I RIGHT LEFT: the message leaves the queue and enters
 * the consumer's own list in one atomic step, so at every instant it is in exactly one of
 * them. ack is LTRIM KEY:pending:I 1 -1: it drops the newest entry, the last message
 * received, without sending it back over the wire. Putting messages back (recover, detach,
 * a buffer too small) is LMOVE KEY:pending:I KEY:jobs LEFT RIGHT repeated: newest first onto
 * the head, so the oldest ends up first in line, as it was.
 *
 * KEY is ipclab:queue:PID:RANDOM, fresh per open, so queues on one shared server never meet
 * and a stale list from an earlier run is never read; close deletes every list it made (on
 * ipclab's own server they go with the server).
 *
 * The slots.
 *
 * The parent must find the lists of consumers that died without saying so. Each attached
 * process holds one slot in shared memory for as long as it is attached: a robust,
 * process-shared mutex it keeps locked, and the list named after the slot. When a holder
 * dies the kernel marks its mutex (EOWNERDEAD), before the process is even reaped, so the
 * parent's trylock tells a dead holder from a live one without pids, which are reused. A
 * slot whose holder died is "orphaned"; while its list holds messages it is given to nobody
 * else (a new holder would own the dead one's work) until recover() has moved them back.
 * Attach, use and detach from one thread: the mutex belongs to the thread that locked it.
 *
 * Blocking and time.
 *
 * Redis lists are unbounded (the server's memory is the limit): send never blocks and the
 * configured capacity is not used. A receive that waits is a BLMOVE with the server's own
 * timeout, in pieces of at most BLOCK_CHUNK_MS, so that every reply is due within
 * BLOCK_CHUNK_MS + TIMEOUT_S and the socket timeout (SO_RCVTIMEO) can catch a server that
 * stopped answering. The server resolves blocking timeouts at its cron tick (hz 10 by
 * default: up to 100 ms late), so ipclab's own server is switched to hz 100 at open (the
 * tick already scheduled then still runs at the old pace, once).
 */

#define TIMEOUT_S 5         /* a server silent this long past a reply's due time is stuck */
#define BLOCK_CHUNK_MS 1000 /* the longest BLMOVE sent */
#define SERVER_HZ "100"     /* ipclab's own server: blocking timeouts within ~10 ms */
#define DEFAULT_PARTICIPANTS 16
#define MAX_PARTICIPANTS 4096 /* slots, each a mutex in shared memory and a list */
#define BASE_MAX 64           /* ipclab:queue:PID:16 hex digits */
#define KEY_MAX (BASE_MAX + 32)

/* One process's connection. hiredis keeps a failed context's errstr and refuses every later
 * command without touching errno, so the first failure is kept here and reported again. */
struct conn {
    redisContext *ctx;
    unsigned gen; /* fork generation it was made in (see ipc_fork_gen) */
    int err;      /* -errno of its first failure, or 0 */
    char why[128];
};

/* In shared memory, one per attached process. orphaned, used and pid change only under
 * held; attached tells a holder that keeps the slot from one that only looks at it. */
struct slot {
    pthread_mutex_t held; /* robust, process-shared: locked by the holder while attached */
    _Atomic int attached; /* held by an attached process (not by claim or recover looking) */
    int orphaned;         /* the list may hold messages of a holder that died or failed */
    int used;             /* ever held, so its list may exist and close deletes it */
    int pid;              /* the holder, for error messages */
};

struct redis_state {
    char socket[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char password[128]; /* AUTH on every connection; "" for a server without one */
    bool own_server;
    struct ipc_redis_server server;
    char base[BASE_MAX];
    char jobs[KEY_MAX];
    size_t max_msg;
    unsigned nslots;
    struct slot *slots; /* shared memory, nslots of them */
    size_t slots_size;
    unsigned opener_gen; /* fork generation of the opener */
    struct conn parent;  /* the opener's, for recover and close */
    /* This process's attachment (fork copies it; gen tells a copy from the original). */
    struct conn attached;
    bool holds_slot;
    unsigned slot;
    char pending[KEY_MAX];
    unsigned unacked; /* received and not acked, newest first at the left of pending */
};

/* A socket timeout is -EIO, not -ETIMEDOUT: recv's -ETIMEDOUT means "nothing arrived", and a
 * stuck server is not that. */
#define STR_(x) #x
#define STR(x) STR_(x)
static const struct ipc_redis_timeout timeout = {
    -EIO, "the server did not answer within " STR(TIMEOUT_S) " s of a reply's due time"};

/* A new connection from this process, with command timeouts and close-on-exec. */
static int connect_new(struct ipc_queue *q, struct redis_state *s, struct conn *out)
{
    struct timeval connect_tv = {.tv_sec = TIMEOUT_S};
    struct timeval reply_tv = {.tv_sec = TIMEOUT_S + BLOCK_CHUNK_MS / 1000,
                               .tv_usec = (BLOCK_CHUNK_MS % 1000) * 1000};
    redisContext *c;
    char why[200];
    int rc = ipc_redis_connect(s->socket, NULL, 0, connect_tv, reply_tv, s->password, &timeout,
                               &c, why, sizeof why);
    if (rc < 0)
        return ipc_queue_fail(q, rc, "redis: connect to %s: %s", s->socket, why);
    *out = (struct conn){.ctx = c, .gen = ipc_fork_gen()};
    return 0;
}

static void disconnect(struct conn *c)
{
    if (c->ctx)
        redisFree(c->ctx);
    *c = (struct conn){0};
}

/* Made by this process (not copied over fork from an ancestor) and still open. */
static bool mine(const struct conn *c)
{
    return c->ctx && c->gen == ipc_fork_gen();
}

/* Send one command (argv[0] is its name) and read its reply. 0 with *reply set (never an
 * error reply), or -errno with the reason on q. Binary-safe: every argument has a length. */
static int command(struct ipc_queue *q, struct conn *c, int argc, const char **argv,
                   const size_t *lens, redisReply **reply)
{
    if (c->err)
        return ipc_queue_fail(q, c->err, "redis: %s: %s (the connection failed earlier)", argv[0],
                              c->why);
    void *r = NULL;
    errno = 0;
    if (redisAppendCommandArgv(c->ctx, argc, argv, lens) != REDIS_OK ||
        redisGetReply(c->ctx, &r) != REDIS_OK || !r) {
        int saved = errno;
        if (r)
            freeReplyObject(r);
        c->err = ipc_redis_classify(c->ctx, saved, &timeout, c->why, sizeof c->why);
        return ipc_queue_fail(q, c->err, "redis: %s: %s", argv[0], c->why);
    }
    redisReply *rep = r;
    if (rep->type == REDIS_REPLY_ERROR) {
        int rc =
            ipc_queue_fail(q, -EIO, "redis: %s: %s", argv[0], rep->str ? rep->str : "error reply");
        freeReplyObject(rep);
        return rc;
    }
    *reply = rep;
    return 0;
}

/* The same for commands of string arguments only. */
static int command_str(struct ipc_queue *q, struct conn *c, int argc, const char **argv,
                       redisReply **reply)
{
    size_t lens[8];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return command(q, c, argc, argv, lens, reply);
}

static int unexpected(struct ipc_queue *q, const char *cmd, redisReply *rep)
{
    int type = rep->type;
    freeReplyObject(rep);
    return ipc_queue_fail(q, -EPROTO, "redis: %s: unexpected reply type %d", cmd, type);
}

/* Move every message of list `from` back to the head of the queue, newest first, so they
 * are received next and in the order they were first received. *moved counts them, also
 * when a later move fails. */
static int requeue(struct ipc_queue *q, struct conn *c, const char *from, unsigned *moved)
{
    struct redis_state *s = q->priv;
    const char *argv[] = {"LMOVE", from, s->jobs, "LEFT", "RIGHT"};
    for (;;) {
        redisReply *rep;
        int rc = command_str(q, c, 5, argv, &rep);
        if (rc < 0)
            return rc;
        int type = rep->type;
        if (type != REDIS_REPLY_NIL && type != REDIS_REPLY_STRING)
            return unexpected(q, "LMOVE", rep);
        freeReplyObject(rep);
        if (type == REDIS_REPLY_NIL)
            return 0;
        ++*moved;
    }
}

static void list_name(const struct redis_state *s, unsigned slot, char *out, size_t len)
{
    snprintf(out, len, "%s:pending:%u", s->base, slot);
}

/* A key nobody else uses: this pid plus 64 random bits. */
static int make_keys(struct ipc_queue *q, struct redis_state *s)
{
    unsigned char rnd[8];
    ssize_t n;
    while ((n = getrandom(rnd, sizeof rnd, 0)) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof rnd)
        return ipc_queue_fail(q, n < 0 ? -errno : -EIO, "redis: getrandom: %s",
                              n < 0 ? strerror(errno) : "short read");
    int len = snprintf(s->base, sizeof s->base, "ipclab:queue:%d:", (int)getpid());
    for (size_t i = 0; i < sizeof rnd; i++)
        len += snprintf(s->base + len, sizeof s->base - (size_t)len, "%02x", rnd[i]);
    snprintf(s->jobs, sizeof s->jobs, "%s:jobs", s->base);
    return 0;
}

static int make_slots(struct ipc_queue *q, struct redis_state *s)
{
    s->slots_size = s->nslots * sizeof *s->slots;
    s->slots = ipc_shared_alloc(s->slots_size);
    if (!s->slots)
        return ipc_queue_fail(q, -errno, "redis: shared memory for %u slots: %s", s->nslots,
                              strerror(errno));
    pthread_mutexattr_t a;
    int rc = pthread_mutexattr_init(&a);
    if (rc == 0)
        rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    for (unsigned i = 0; rc == 0 && i < s->nslots; i++)
        rc = pthread_mutex_init(&s->slots[i].held, &a);
    pthread_mutexattr_destroy(&a);
    if (rc != 0)
        return ipc_queue_fail(q, -rc, "redis: robust process-shared mutex: %s", strerror(rc));
    return 0;
}

/* Where to connect: the server the caller named, or a private one started now. */
static int choose_server(struct ipc_queue *q, struct redis_state *s,
                         const struct ipc_queue_config *cfg)
{
    const char *pw = ipc_redis_password_or_env(cfg->redis_password);
    if (pw && strlen(pw) >= sizeof s->password)
        return ipc_queue_fail(q, -ENAMETOOLONG, "redis: the password is too long (%zu bytes)",
                              strlen(pw));
    snprintf(s->password, sizeof s->password, "%s", pw ? pw : "");
    if (cfg->redis_socket) {
        if (strlen(cfg->redis_socket) >= sizeof s->socket)
            return ipc_queue_fail(q, -ENAMETOOLONG, "redis: socket path %s is too long",
                                  cfg->redis_socket);
        strcpy(s->socket, cfg->redis_socket);
        return 0;
    }
    int cpu = cfg->pin_server ? (int)cfg->server_cpu : -1;
    int rc = ipc_redis_server_start(&s->server, cfg->tmpdir, cpu);
    if (rc < 0)
        return ipc_queue_fail(q, rc, "redis: %s", s->server.errstr);
    s->own_server = true;
    snprintf(s->password, sizeof s->password, "%s", s->server.password);
    strcpy(s->socket, s->server.socket);
    return 0;
}

/* Prove the server answers and has LMOVE/BLMOVE (Redis 6.2+) before any fork, on a key of
 * ours that does not exist yet; on our own server, make blocking timeouts finer. */
static int check_server(struct ipc_queue *q, struct redis_state *s)
{
    const char *lmove[] = {"LMOVE", s->jobs, s->jobs, "RIGHT", "LEFT"};
    redisReply *rep;
    int rc = command_str(q, &s->parent, 5, lmove, &rep);
    if (rc == -EIO && strstr(q->errstr, "unknown command"))
        return ipc_queue_fail(q, -ENOTSUP, "redis: the server at %s lacks LMOVE (Redis 6.2+)",
                              s->socket);
    if (rc < 0)
        return rc;
    if (rep->type != REDIS_REPLY_NIL)
        return unexpected(q, "LMOVE", rep);
    freeReplyObject(rep);
    if (!s->own_server)
        return 0;
    const char *hz[] = {"CONFIG", "SET", "hz", SERVER_HZ};
    rc = command_str(q, &s->parent, 4, hz, &rep);
    if (rc < 0)
        return rc;
    freeReplyObject(rep);
    return 0;
}

/* Undo open, in the opener, whatever got done. */
static void teardown(struct ipc_queue *q, struct redis_state *s)
{
    disconnect(&s->parent);
    if (s->own_server)
        ipc_redis_server_stop(&s->server);
    if (s->slots)
        ipc_shared_free(s->slots, s->slots_size);
    free(s);
    q->priv = NULL;
}

static int redis_open(struct ipc_queue *q, const struct ipc_queue_config *cfg)
{
    ipc_redis_conn_init();
    size_t max_msg = cfg->max_msg ? cfg->max_msg : IPC_QUEUE_MAX_MSG;
    if (max_msg > IPC_QUEUE_MAX_MSG)
        return ipc_queue_fail(q, -EINVAL, "redis: max_msg %zu exceeds the %d-byte limit", max_msg,
                              IPC_QUEUE_MAX_MSG);
    unsigned n = cfg->participants ? cfg->participants : DEFAULT_PARTICIPANTS;
    if (n > MAX_PARTICIPANTS)
        return ipc_queue_fail(q, -EINVAL, "redis: %u participants; at most %d", n,
                              MAX_PARTICIPANTS);
    struct redis_state *s = calloc(1, sizeof *s);
    if (!s)
        return ipc_queue_fail(q, -ENOMEM, "redis: out of memory");
    s->max_msg = max_msg;
    s->nslots = n;
    s->opener_gen = ipc_fork_gen();
    q->priv = s;
    int rc = make_keys(q, s);
    if (rc == 0)
        rc = make_slots(q, s);
    if (rc == 0)
        rc = choose_server(q, s, cfg);
    if (rc == 0)
        rc = connect_new(q, s, &s->parent);
    if (rc == 0)
        rc = check_server(q, s);
    if (rc < 0)
        teardown(q, s);
    return rc;
}

/* 1 if list is empty, 0 if not, -errno. */
static int list_empty(struct ipc_queue *q, struct conn *c, const char *list)
{
    const char *argv[] = {"LLEN", list};
    redisReply *rep;
    int rc = command_str(q, c, 2, argv, &rep);
    if (rc < 0)
        return rc;
    if (rep->type != REDIS_REPLY_INTEGER)
        return unexpected(q, "LLEN", rep);
    rc = rep->integer == 0;
    freeReplyObject(rep);
    return rc;
}

/*
 * Lock a slot unless an attached process holds it: 0 (locked; *dead if its last holder died
 * without unlocking), -EBUSY, or another -errno. claim() and recover() also hold a slot
 * briefly, to look at its list (a round trip or a few); the slot then looks busy to a
 * trylock, but skipping it would let recover() miss a dead consumer's work, so a slot held
 * that way is waited for. Nobody holds two slots at once, so nobody waits in a cycle.
 */
static int lock_slot(struct slot *sl, bool *dead)
{
    *dead = false;
    for (;;) {
        int rc = pthread_mutex_trylock(&sl->held);
        if (rc == EOWNERDEAD) {
            pthread_mutex_consistent(&sl->held);
            atomic_store(&sl->attached, 0);
            *dead = true;
            return 0;
        }
        if (rc != EBUSY)
            return -rc;
        if (atomic_load(&sl->attached))
            return -EBUSY;
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000}, NULL);
    }
}

/* Take a free slot: one nobody holds, whose list is empty. A slot whose holder died with
 * messages in its list stays with them until recover() (a new holder would own them); one
 * whose holder died with nothing pending is free again. Uses this process's connection. */
static int claim(struct ipc_queue *q, struct redis_state *s)
{
    unsigned busy = 0, orphaned = 0;
    for (unsigned i = 0; i < s->nslots; i++) {
        struct slot *sl = &s->slots[i];
        bool dead;
        int rc = lock_slot(sl, &dead);
        if (rc < 0) {
            busy++;
            continue;
        }
        if (dead)
            sl->orphaned = 1;
        if (sl->orphaned) {
            char list[KEY_MAX];
            list_name(s, i, list, sizeof list);
            rc = list_empty(q, &s->attached, list);
            if (rc < 0) {
                pthread_mutex_unlock(&sl->held);
                return rc;
            }
            if (rc == 0) {
                pthread_mutex_unlock(&sl->held);
                orphaned++;
                continue;
            }
            sl->orphaned = 0;
        }
        sl->used = 1;
        sl->pid = (int)getpid();
        atomic_store(&sl->attached, 1);
        s->slot = i;
        s->holds_slot = true;
        list_name(s, i, s->pending, sizeof s->pending);
        return 0;
    }
    return ipc_queue_fail(q, -EBUSY,
                          "redis: all %u slots are taken (%u by attached processes, %u by dead "
                          "ones whose work is not recovered yet): raise participants",
                          s->nslots, busy, orphaned);
}

/* Give the slot up: its list must be empty, or it stays orphaned for recover(). */
static void release(struct redis_state *s, bool clean)
{
    if (!s->holds_slot)
        return;
    struct slot *sl = &s->slots[s->slot];
    sl->orphaned = !clean;
    sl->pid = 0;
    atomic_store(&sl->attached, 0);
    pthread_mutex_unlock(&sl->held);
    s->holds_slot = false;
}

static int redis_attach(struct ipc_queue *q)
{
    struct redis_state *s = q->priv;
    ipc_redis_conn_init();
    /* Normally empty here; anything else was copied over fork from an attached ancestor and
     * is that process's to free and release: forgotten only. */
    s->attached = (struct conn){0};
    s->holds_slot = false;
    s->unacked = 0;
    int rc = connect_new(q, s, &s->attached);
    if (rc == 0)
        rc = claim(q, s);
    if (rc < 0)
        disconnect(&s->attached);
    return rc;
}

static int not_mine(struct ipc_queue *q, const char *what)
{
    return ipc_queue_fail(q, -EBADF,
                          "redis: %s: the connection was inherited over fork; attach in this "
                          "process",
                          what);
}

static int redis_send(struct ipc_queue *q, const void *msg, size_t len)
{
    struct redis_state *s = q->priv;
    if (!mine(&s->attached))
        return not_mine(q, "LPUSH");
    if (len > s->max_msg)
        return ipc_queue_fail(q, -EMSGSIZE, "redis: a %zu-byte message exceeds max_msg %zu", len,
                              s->max_msg);
    const char *argv[] = {"LPUSH", s->jobs, (const char *)msg};
    size_t lens[] = {5, strlen(s->jobs), len};
    redisReply *rep;
    int rc = command(q, &s->attached, 3, argv, lens, &rep);
    if (rc < 0)
        return rc;
    if (rep->type != REDIS_REPLY_INTEGER)
        return unexpected(q, "LPUSH", rep);
    freeReplyObject(rep);
    return 0;
}

/* One move from the queue into this consumer's list: LMOVE when not waiting, else a BLMOVE
 * of at most BLOCK_CHUNK_MS, repeated until something comes or the deadline passes. 0 with
 * *out a string reply, or -ETIMEDOUT, or another -errno. */
static int take(struct ipc_queue *q, struct redis_state *s, int timeout_ms, redisReply **out)
{
    uint64_t deadline = timeout_ms > 0 ? ipc_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    for (;;) {
        redisReply *rep;
        int rc;
        if (timeout_ms == 0) {
            const char *argv[] = {"LMOVE", s->jobs, s->pending, "RIGHT", "LEFT"};
            rc = command_str(q, &s->attached, 5, argv, &rep);
        } else {
            int64_t wait_ms = BLOCK_CHUNK_MS;
            if (timeout_ms > 0) {
                int64_t left = ((int64_t)deadline - (int64_t)ipc_now_ns()) / 1000000;
                if (left < wait_ms)
                    wait_ms = left < 1 ? 1 : left; /* 0 would mean "for ever" to Redis */
            }
            char secs[32];
            snprintf(secs, sizeof secs, "%d.%03d", (int)(wait_ms / 1000), (int)(wait_ms % 1000));
            const char *argv[] = {"BLMOVE", s->jobs, s->pending, "RIGHT", "LEFT", secs};
            rc = command_str(q, &s->attached, 6, argv, &rep);
        }
        if (rc < 0)
            return rc;
        if (rep->type == REDIS_REPLY_STRING) {
            *out = rep;
            return 0;
        }
        if (rep->type != REDIS_REPLY_NIL)
            return unexpected(q, timeout_ms == 0 ? "LMOVE" : "BLMOVE", rep);
        freeReplyObject(rep);
        if (timeout_ms == 0 || (timeout_ms > 0 && ipc_now_ns() >= deadline))
            return ipc_queue_fail(q, -ETIMEDOUT, "redis: nothing arrived within %d ms", timeout_ms);
    }
}

static int redis_recv(struct ipc_queue *q, void *buf, size_t cap, size_t *len, int timeout_ms)
{
    struct redis_state *s = q->priv;
    if (!mine(&s->attached))
        return not_mine(q, "BLMOVE");
    redisReply *rep = NULL;
    int rc = take(q, s, timeout_ms, &rep);
    if (rc < 0)
        return rc;
    s->unacked++;
    size_t n = rep->len;
    if (n > cap) {
        freeReplyObject(rep);
        /* Reliable: the message goes back to the head of the queue rather than being lost. */
        const char *argv[] = {"LMOVE", s->pending, s->jobs, "LEFT", "RIGHT"};
        rc = command_str(q, &s->attached, 5, argv, &rep);
        if (rc < 0)
            return rc;
        freeReplyObject(rep);
        s->unacked--;
        return ipc_queue_fail(q, -EMSGSIZE,
                              "redis: a %zu-byte message does not fit in %zu bytes (it was put "
                              "back at the head of the queue)",
                              n, cap);
    }
    memcpy(buf, rep->str, n);
    freeReplyObject(rep);
    *len = n;
    return 0;
}

static int redis_ack(struct ipc_queue *q)
{
    struct redis_state *s = q->priv;
    if (!mine(&s->attached))
        return not_mine(q, "LTRIM");
    if (s->unacked == 0)
        return 0; /* nothing received since the last ack */
    const char *argv[] = {"LTRIM", s->pending, "1", "-1"};
    redisReply *rep;
    int rc = command_str(q, &s->attached, 4, argv, &rep);
    if (rc < 0)
        return rc;
    if (rep->type != REDIS_REPLY_STATUS)
        return unexpected(q, "LTRIM", rep);
    freeReplyObject(rep);
    s->unacked--;
    return 0;
}

/* Made by this process and not failed. */
static bool usable(const struct conn *c)
{
    return mine(c) && !c->err;
}

/* Recover may run attached or merely open, normally in the opener: use a connection this
 * process made, or a short-lived one. */
static int redis_recover(struct ipc_queue *q, unsigned *requeued)
{
    struct redis_state *s = q->priv;
    struct conn tmp = {0}, *c = usable(&s->attached) ? &s->attached
                                : usable(&s->parent) ? &s->parent
                                                     : &tmp;
    if (c == &tmp) {
        int rc = connect_new(q, s, &tmp);
        if (rc < 0)
            return rc;
    }
    int err = 0;
    for (unsigned i = 0; i < s->nslots && err == 0; i++) {
        struct slot *sl = &s->slots[i];
        bool dead;
        if (lock_slot(sl, &dead) < 0)
            continue; /* held by a live process (this one included) */
        if (dead)
            sl->orphaned = 1;
        if (sl->orphaned) {
            char list[KEY_MAX];
            list_name(s, i, list, sizeof list);
            err = requeue(q, c, list, requeued);
            if (err == 0)
                sl->orphaned = 0;
        }
        pthread_mutex_unlock(&sl->held);
    }
    if (c == &tmp)
        disconnect(&tmp);
    return err;
}

static int redis_detach(struct ipc_queue *q)
{
    struct redis_state *s = q->priv;
    if (!mine(&s->attached)) {
        /* A copy from an ancestor: its slot and connection are that process's. */
        s->attached = (struct conn){0};
        s->holds_slot = false;
        return 0;
    }
    /* Work received and not acked is not done: back to the queue for somebody else. If that
     * fails the slot stays orphaned and recover() tries again. */
    unsigned moved = 0;
    int rc = s->unacked ? requeue(q, &s->attached, s->pending, &moved) : 0;
    release(s, rc == 0);
    disconnect(&s->attached);
    s->unacked = 0;
    return rc;
}

/* Best effort: on a shared server the lists should not outlive the queue, but a server that
 * died must not stop the rest of the cleanup. */
static void delete_lists(struct ipc_queue *q, struct redis_state *s)
{
    unsigned n = 1;
    for (unsigned i = 0; i < s->nslots; i++)
        n += s->slots[i].used != 0;
    const char **argv = calloc(n + 1, sizeof *argv);
    size_t *lens = calloc(n + 1, sizeof *lens);
    char(*names)[KEY_MAX] = calloc(n, sizeof *names);
    if (argv && lens && names) {
        argv[0] = "DEL";
        argv[1] = s->jobs;
        unsigned k = 2;
        for (unsigned i = 0; i < s->nslots; i++) {
            if (!s->slots[i].used)
                continue;
            list_name(s, i, names[k - 2], KEY_MAX);
            argv[k] = names[k - 2];
            k++;
        }
        for (unsigned i = 0; i < k; i++)
            lens[i] = strlen(argv[i]);
        redisReply *rep;
        if (command(q, &s->parent, (int)k, argv, lens, &rep) == 0)
            freeReplyObject(rep);
    }
    free(names);
    free(lens);
    free(argv);
}

static void redis_close(struct ipc_queue *q)
{
    struct redis_state *s = q->priv;
    if (s->opener_gen != ipc_fork_gen()) {
        /* Not the opener: the server, the lists and the parent's connection belong to the
         * process that opened the queue. Drop this process's mapping and bookkeeping. */
        ipc_shared_free(s->slots, s->slots_size);
        free(s);
        return;
    }
    if (mine(&s->parent) && !s->own_server) /* our own server takes the lists with it */
        delete_lists(q, s);
    teardown(q, s);
}

static int redis_probe(char *why, size_t len)
{
    return ipc_redis_server_find(NULL, 0, why, len);
}

#else /* !IPCLAB_HAVE_HIREDIS */

#define NOT_BUILT "built without hiredis (libhiredis-dev)"

static int redis_probe(char *why, size_t len)
{
    snprintf(why, len, NOT_BUILT);
    return -ENOTSUP;
}

static int redis_open(struct ipc_queue *q, const struct ipc_queue_config *cfg)
{
    (void)cfg;
    return ipc_queue_fail(q, -ENOTSUP, "redis: " NOT_BUILT);
}

static void redis_close(struct ipc_queue *q)
{
    (void)q;
}

/* open always fails, so nothing else is ever called. */
#define redis_attach NULL
#define redis_send NULL
#define redis_recv NULL
#define redis_ack NULL
#define redis_recover NULL
#define redis_detach NULL

#endif

const struct ipc_queue_ops ipc_queue_redis_ops = {
    .name = "redis",
    .description = "Redis list (BLMOVE into a per-consumer processing list, LTRIM to ack); "
                   "work of dead consumers is recovered",
    .props = IPC_QUEUE_PROP_RELIABLE | IPC_QUEUE_PROP_SERVER,
    .probe = redis_probe,
    .open = redis_open,
    .attach = redis_attach,
    .send = redis_send,
    .recv = redis_recv,
    .ack = redis_ack,
    .recover = redis_recover,
    .detach = redis_detach,
    .close = redis_close,
};
