/* SPDX-License-Identifier: MIT */
/* ipclab's own redis-server is closed to everybody but ipclab: loopback only, protected mode,
 * a 0700 directory, and a random password kept in a 0600 file rather than on the command line;
 * a client without it is refused, the flag backend and the queue use it, and a server given
 * by the user is reached with --redis-password's value (here: the flag's redis_password). */
#include "test.h"

#include "flags/flag.h"
#include "ipc/cleanup.h"
#include "ipc/queue.h"
#include "ipc/redis_server.h"

#include <ctype.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reply to one command on a fresh connection, "" if none; AUTH first if pw. */
static void reply_to(const struct ipc_redis_server *s, const char *pw, const char *cmd,
                     char *out, size_t len)
{
    out[0] = '\0';
    redisContext *c = redisConnectUnix(s->socket);
    if (!c || c->err) {
        snprintf(out, len, "connect: %s", c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return;
    }
    char why[200] = "";
    if (pw && ipc_redis_auth(c, pw, why, sizeof why) < 0) {
        snprintf(out, len, "%s", why);
        redisFree(c);
        return;
    }
    redisReply *r = redisCommand(c, cmd);
    if (r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR ||
              r->type == REDIS_REPLY_STRING))
        snprintf(out, len, "%.*s", (int)r->len, r->str);
    else if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
             r->element[1]->type == REDIS_REPLY_STRING)
        snprintf(out, len, "%s", r->element[1]->str); /* CONFIG GET name -> [name, value] */
    if (r)
        freeReplyObject(r);
    redisFree(c);
}

static bool file_contains(const char *path, const char *needle, size_t nlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 0; i + nlen <= n; i++)
        if (memcmp(buf + i, needle, nlen) == 0)
            return true;
    return false;
}

int main(void)
{
    ipc_cleanup_install();
    char why[256];
    if (ipc_redis_server_find(NULL, 0, why, sizeof why) < 0) {
        printf("skip: %s\n", why);
        return T_SKIP;
    }
    struct ipc_redis_server a, b;
    if (ipc_redis_server_start(&a, NULL, -1) < 0) {
        T_FAIL("start: %s", a.errstr);
        return T_RESULT();
    }
    if (ipc_redis_server_start(&b, NULL, -1) < 0) {
        T_FAIL("start: %s", b.errstr);
        ipc_redis_server_stop(&a);
        return T_RESULT();
    }

    /* The password: 128 random bits in hex, a new one per server. */
    T_EQ_U64(strlen(a.password), IPC_REDIS_PASSWORD_LEN);
    bool hex = true;
    for (const char *p = a.password; *p; p++)
        hex &= isxdigit((unsigned char)*p) && !isupper((unsigned char)*p);
    T_TRUE(hex);
    T_TRUE(strcmp(a.password, b.password) != 0);

    /* Where it lives: a 0600 file in a 0700 directory, not the command line. */
    struct stat st;
    T_EQ_INT(stat(a.dir, &st), 0);
    T_EQ_INT(st.st_mode & 0777, 0700);
    T_EQ_INT(stat(a.conf, &st), 0);
    T_EQ_INT(st.st_mode & 0777, 0600);
    T_TRUE(file_contains(a.conf, a.password, strlen(a.password)));
    char cmdline[64];
    snprintf(cmdline, sizeof cmdline, "/proc/%d/cmdline", (int)a.proc.pid);
    T_TRUE(access(cmdline, R_OK) == 0);
    T_TRUE(!file_contains(cmdline, a.password, strlen(a.password)));

    /* Refused without it, or with the other server's; served with it. */
    char out[256];
    reply_to(&a, NULL, "PING", out, sizeof out);
    if (strncmp(out, "NOAUTH", 6) != 0)
        T_FAIL("PING without AUTH: '%s', expected NOAUTH", out);
    reply_to(&a, b.password, "PING", out, sizeof out);
    if (!strstr(out, "AUTH refused"))
        T_FAIL("AUTH with another server's password: '%s', expected a refusal", out);
    reply_to(&a, a.password, "PING", out, sizeof out);
    if (strcmp(out, "PONG") != 0)
        T_FAIL("PING after AUTH: '%s', expected PONG", out);
    reply_to(&a, a.password, "CONFIG GET bind", out, sizeof out);
    if (strcmp(out, "127.0.0.1") != 0)
        T_FAIL("bind: '%s', expected 127.0.0.1 only", out);
    reply_to(&a, a.password, "CONFIG GET protected-mode", out, sizeof out);
    if (strcmp(out, "yes") != 0)
        T_FAIL("protected-mode: '%s', expected yes", out);

    /* The flag backend on a server given by the user: refused without the password, with a
     * message saying why; working with it. */
    const struct flag_ops *ops = flag_backend_find("redis-unix");
    T_TRUE(ops != NULL);
    if (ops) {
        struct flag f = FLAG_INIT;
        struct flag_config cfg = {.redis_socket = a.socket, .participants = 2};
        int rc = flag_open(&f, ops, &cfg);
        if (rc == 0) {
            T_FAIL("redis-unix opened on a password-protected server without the password");
            flag_close(&f);
        } else if (!strstr(f.errstr, "NOAUTH")) {
            T_FAIL("redis-unix without the password: '%s' does not say NOAUTH", f.errstr);
        }
        cfg.redis_password = a.password;
        f = (struct flag)FLAG_INIT;
        rc = flag_open(&f, ops, &cfg);
        T_EQ_INT(rc, 0);
        if (rc == 0) {
            T_EQ_INT(flag_attach(&f), 0);
            T_EQ_INT(flag_raise(&f), 0);
            T_EQ_INT(flag_is_raised(&f), 1);
            flag_close(&f);
        } else {
            T_FAIL("redis-unix with the password: %s", f.errstr);
        }
    }

    /* The queue likewise. */
    const struct ipc_queue_ops *qops = ipc_queue_find("redis");
    T_TRUE(qops != NULL);
    if (qops) {
        struct ipc_queue q = IPC_QUEUE_INIT;
        struct ipc_queue_config qc = {.redis_socket = a.socket};
        if (ipc_queue_open(&q, qops, &qc) == 0) {
            T_FAIL("the redis queue opened without the password");
            ipc_queue_close(&q);
        }
        q = (struct ipc_queue)IPC_QUEUE_INIT;
        qc.redis_password = a.password;
        int rc = ipc_queue_open(&q, qops, &qc);
        T_EQ_INT(rc, 0);
        if (rc == 0) {
            T_EQ_INT(ipc_queue_attach(&q), 0);
            T_EQ_INT(ipc_queue_send(&q, "job", 3), 0);
            char buf[8];
            size_t len = 0;
            T_EQ_INT(ipc_queue_recv(&q, buf, sizeof buf, &len, 1000), 0);
            T_EQ_U64(len, 3);
            T_EQ_INT(ipc_queue_ack(&q), 0);
            ipc_queue_close(&q);
        } else {
            T_FAIL("redis queue with the password: %s", q.errstr);
        }
    }

    char conf[sizeof a.conf];
    snprintf(conf, sizeof conf, "%s", a.conf);
    ipc_redis_server_stop(&a);
    ipc_redis_server_stop(&b);
    T_TRUE(access(conf, F_OK) != 0); /* the password file goes with the server */
    return T_RESULT();
}
