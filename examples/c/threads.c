/*
 * threads.c: one Thuja engine handle shared by 8 threads deciding in a loop while another
 * thread swaps policies and changes entities under them. Exits 0 when every call returned
 * THUJA_STATUS_OK and every answer is one the engine could give at some moment of the call.
 *
 *   cc -I capi/include examples/c/threads.c target/debug/libthuja_capi.a -lpthread -ldl -lm \
 *      -o threads && ./threads [STEPS] [MIN_DECISIONS_PER_THREAD]
 *
 * The writer makes STEPS changes, one at a time; after step k the engine is in state k:
 *   - step k with k % 3 == 1 swaps in policy version v = (k + 2) / 3:
 *       @id("p<v>") permit(principal in Group::"g<v % GROUPS>", action == Action::"view", resource);
 *       @id("e<v>") permit(principal, action == Action::"edit", resource) when { principal.level > 0 };
 *   - step k with k % 3 == 2 upserts entity version e = (k + 1) / 3: every user u in group
 *     g<(u + e) % GROUPS>, with no `level` attribute;
 *   - step k with k % 3 == 0 removes user u<e % USERS> (back at the next upsert).
 * So in state k, `view` by user u is allowed, for the reason p<v>, exactly when u is in the
 * store and (u + e) % GROUPS == v % GROUPS; `edit` is always denied with one error, in policy
 * e<v> (the attribute `level` is missing, or the user does not exist) at line 3, column 10. The reasons
 * and the error name the policy version, so an answer pins the state it came from.
 *
 * A reader reads `finished` (the last step done) before a call and `started` (the last step
 * begun) after it: the engine it ran on was in some state in [finished, started], and its
 * answer must be that state's. A torn engine (policies of one state, entities of another that
 * never coexisted), a stale one, or a lost update fails the check. Some calls decide a batch of
 * two requests, whose answers must both come from one state.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "thuja.h"

#define READERS 8
#define USERS 8
#define GROUPS 3

static atomic_long started;  /* the last step begun */
static atomic_long finished; /* the last step done */
static atomic_int writer_done;
static atomic_long mismatches;
static atomic_long failed_calls;
static atomic_long decisions, allowed, spanning; /* for the summary */
/* Answers that the state before `finished` would have got wrong: what an engine one change
 * stale would have been caught by. */
static atomic_long stale_caught;
static long min_decisions = 200;
static ThujaEngine *engine;

static long policy_version(long k) { return (k + 2) / 3; }
static long entity_version(long k) { return (k + 1) / 3; }
static long removed_user(long k) { return (k >= 3 && k % 3 != 2) ? entity_version(k) % USERS : -1; }

/* What state k answers for `view` by user u: whether it allows (and then for p<v>). */
static int view_allowed(long k, int u) {
    return u != removed_user(k) && (u + entity_version(k)) % GROUPS == policy_version(k) % GROUPS;
}

static void policies_text(long v, char *out, size_t size) {
    snprintf(out, size,
             "@id(\"p%ld\") permit(principal in Group::\"g%ld\", action == Action::\"view\", "
             "resource);\n"
             "@id(\"e%ld\") permit(principal, action == Action::\"edit\", resource)\n"
             "  when { principal.level > 0 };\n",
             v, v % GROUPS, v);
}

static void users_text(long e, char *out, size_t size) {
    size_t at = (size_t)snprintf(out, size, "[");
    for (int u = 0; u < USERS; u++) {
        at += (size_t)snprintf(out + at, size - at,
                               "%s{\"uid\": {\"type\": \"User\", \"id\": \"u%d\"}, \"attrs\": {}, "
                               "\"parents\": [{\"type\": \"Group\", \"id\": \"g%ld\"}]}",
                               u == 0 ? "" : ", ", u, (u + e) % GROUPS);
    }
    snprintf(out + at, size - at, "]");
}

static void check_ok(ThujaStatus status, char *message, const char *what) {
    if (status != THUJA_STATUS_OK) {
        fprintf(stderr, "%s: %s: %s\n", what, thuja_status_name(status),
                message ? message : "(no message)");
        atomic_fetch_add(&failed_calls, 1);
    }
    thuja_string_free(message);
}

/* Whether `r` is what state k answers for `action` by user u. */
static int matches(long k, int u, int edit, const ThujaResponse *r) {
    char id[32];
    long v = policy_version(k);
    if (edit) {
        snprintf(id, sizeof id, "e%ld", v);
        return r->decision == THUJA_DECISION_DENY && r->reasons_len == 0 && r->errors_len == 1 &&
               strcmp(r->errors[0].policy_id, id) == 0 && r->errors[0].file != NULL &&
               r->errors[0].line == 3 && r->errors[0].column == 10;
    }
    if (!view_allowed(k, u)) {
        return r->decision == THUJA_DECISION_DENY && r->reasons_len == 0 && r->errors_len == 0;
    }
    snprintf(id, sizeof id, "p%ld", v);
    return r->decision == THUJA_DECISION_ALLOW && r->reasons_len == 1 &&
           strcmp(r->reasons[0], id) == 0 && r->errors_len == 0;
}

/* The batch answer state k gives for `view` by users a and b. */
static void batch_answer(long k, int a, int b, char *out, size_t size) {
    char one[2][96];
    int users[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        if (view_allowed(k, users[i])) {
            snprintf(one[i], sizeof one[i],
                     "{\"decision\":\"allow\",\"reasons\":[\"p%ld\"],\"errors\":[]}",
                     policy_version(k));
        } else {
            snprintf(one[i], sizeof one[i], "{\"decision\":\"deny\",\"reasons\":[],\"errors\":[]}");
        }
    }
    snprintf(out, size, "[%s,%s]", one[0], one[1]);
}

static void *reader(void *arg) {
    long t = (long)arg;
    char principal[32], batch[512], expected[256];
    for (long i = 0; !atomic_load(&writer_done) || i < min_decisions; i++) {
        int u = (int)((t + i) % USERS);
        snprintf(principal, sizeof principal, "User::\"u%d\"", u);
        char *message = NULL;
        if (i % 5 == 4) {
            /* A batch of two requests: both answers from one state. */
            int w = (u + 1) % USERS;
            snprintf(batch, sizeof batch,
                     "[{\"principal\": {\"type\": \"User\", \"id\": \"u%d\"}, \"action\": "
                     "\"Action::\\\"view\\\"\", \"resource\": \"Doc::\\\"d\\\"\"},"
                     " {\"principal\": \"User::\\\"u%d\\\"\", \"action\": \"Action::\\\"view\\\"\", "
                     "\"resource\": \"Doc::\\\"d\\\"\"}]",
                     u, w);
            char *answer = NULL;
            long lo = atomic_load(&finished);
            ThujaStatus status = thuja_engine_decide_batch(engine, batch, &answer, &message);
            long hi = atomic_load(&started);
            check_ok(status, message, "thuja_engine_decide_batch");
            if (status != THUJA_STATUS_OK) {
                continue;
            }
            atomic_fetch_add(&decisions, 2);
            atomic_fetch_add(&spanning, hi > lo);
            int found = 0;
            for (long k = lo; k <= hi && !found; k++) {
                batch_answer(k, u, w, expected, sizeof expected);
                found = strcmp(answer, expected) == 0;
            }
            if (!found && atomic_fetch_add(&mismatches, 1) < 10) {
                fprintf(stderr, "batch for u%d, u%d in states [%ld, %ld]: %s\n", u, w, lo, hi,
                        answer);
            }
            thuja_string_free(answer);
            continue;
        }
        int edit = i % 5 == 3;
        ThujaResponse *response = NULL;
        long lo = atomic_load(&finished);
        ThujaStatus status =
            thuja_engine_decide(engine, principal, edit ? "Action::\"edit\"" : "Action::\"view\"",
                                "Doc::\"d\"", NULL, &response, &message);
        long hi = atomic_load(&started);
        check_ok(status, message, "thuja_engine_decide");
        if (status != THUJA_STATUS_OK) {
            continue;
        }
        atomic_fetch_add(&decisions, 1);
        atomic_fetch_add(&allowed, response->decision == THUJA_DECISION_ALLOW);
        atomic_fetch_add(&spanning, hi > lo);
        int found = 0;
        for (long k = lo; k <= hi && !found; k++) {
            found = matches(k, u, edit, response);
        }
        if (lo >= 1 && !matches(lo - 1, u, edit, response)) {
            atomic_fetch_add(&stale_caught, 1);
        }
        if (!found && atomic_fetch_add(&mismatches, 1) < 10) {
            const ThujaPolicyError *e = response->errors_len ? &response->errors[0] : NULL;
            fprintf(stderr,
                    "%s by u%d in states [%ld, %ld]: %s, %zu reasons (%s), %zu errors (%s at "
                    "%s:%u:%u)\n",
                    edit ? "edit" : "view", u, lo, hi,
                    response->decision == THUJA_DECISION_ALLOW ? "allow" : "deny",
                    response->reasons_len, response->reasons_len ? response->reasons[0] : "-",
                    response->errors_len, e ? e->policy_id : "-", e && e->file ? e->file : "-",
                    e ? e->line : 0, e ? e->column : 0);
        }
        thuja_response_free(response);
    }
    return NULL;
}

int main(int argc, char **argv) {
    long steps = argc > 1 ? atol(argv[1]) : 300;
    min_decisions = argc > 2 ? atol(argv[2]) : 200;
    static char text[8192];
    char *message = NULL;

    policies_text(0, text, sizeof text);
    static char users[8192];
    users_text(0, users, sizeof users);
    ThujaStatus status = thuja_engine_from_strings(text, NULL, users, NULL, NULL, &engine, &message);
    check_ok(status, message, "thuja_engine_from_strings");
    if (status != THUJA_STATUS_OK) {
        return 1;
    }

    pthread_t threads[READERS];
    for (long t = 0; t < READERS; t++) {
        pthread_create(&threads[t], NULL, reader, (void *)t);
    }
    struct timespec pause = {0, 200 * 1000}; /* 0.2 ms between changes */
    for (long k = 1; k <= steps; k++) {
        atomic_store(&started, k);
        if (k % 3 == 1) {
            policies_text(policy_version(k), text, sizeof text);
            status = thuja_engine_swap_policies(engine, text, NULL, &message);
            check_ok(status, message, "thuja_engine_swap_policies");
        } else if (k % 3 == 2) {
            users_text(entity_version(k), users, sizeof users);
            status = thuja_engine_upsert_entities(engine, users, &message);
            check_ok(status, message, "thuja_engine_upsert_entities");
        } else {
            char uid[32];
            snprintf(uid, sizeof uid, "User::\"u%ld\"", removed_user(k));
            const char *uids[] = {uid};
            status = thuja_engine_remove_entities(engine, uids, 1, &message);
            check_ok(status, message, "thuja_engine_remove_entities");
        }
        atomic_store(&finished, k);
        nanosleep(&pause, NULL);
    }
    atomic_store(&writer_done, 1);
    for (long t = 0; t < READERS; t++) {
        pthread_join(threads[t], NULL);
    }

    /* The last state, alone: exactly its answers. */
    for (int u = 0; u < USERS; u++) {
        char principal[32];
        snprintf(principal, sizeof principal, "User::\"u%d\"", u);
        ThujaResponse *response = NULL;
        status = thuja_engine_decide(engine, principal, "Action::\"view\"", "Doc::\"d\"", NULL,
                                     &response, &message);
        check_ok(status, message, "thuja_engine_decide");
        if (status == THUJA_STATUS_OK) {
            if (!matches(steps, u, 0, response)) {
                fprintf(stderr, "the last state's answer for u%d is wrong\n", u);
                atomic_fetch_add(&mismatches, 1);
            }
            thuja_response_free(response);
        }
    }
    thuja_engine_free(engine);

    long bad = atomic_load(&mismatches), failed = atomic_load(&failed_calls);
    long caught = atomic_load(&stale_caught);
    printf("%d threads, %ld changes: %ld decisions (%ld single ones allowed), %ld calls spanning a "
           "change, %ld answers an engine one change stale would have got wrong; %ld wrong "
           "answers, %ld failed calls\n",
           READERS, steps, atomic_load(&decisions), atomic_load(&allowed), atomic_load(&spanning),
           caught, bad, failed);
    if (steps > 0 && caught == 0) {
        printf("the check could not have caught a stale engine: make more changes\n");
        return 1;
    }
    return bad == 0 && failed == 0 ? 0 : 1;
}
