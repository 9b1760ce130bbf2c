/*
 * decide.c: Thuja from C. Builds an engine from the TinyTodo example's files, decides a few
 * requests (from uids, from request JSON, as a batch), shows an error's location, changes the
 * policies and the entities, and frees everything. Exits 0 when every answer is the expected
 * one.
 *
 *   cc -I capi/include examples/c/decide.c target/debug/libthuja_capi.a -lpthread -ldl -lm \
 *      -o decide && ./decide examples/tinytodo
 *
 * (`./decide DIR --leak-on-purpose` does not free the engine: the tests check that valgrind
 * reports it.)
 *
 * (capi/tests/c_examples.rs builds and runs it, also under valgrind.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thuja.h"

static int failures = 0;

/* Reports a failed call (status and message) and frees the message. */
static int ok(ThujaStatus status, char *message, const char *what) {
    if (status != THUJA_STATUS_OK) {
        printf("%s failed: %s\n%s\n", what, thuja_status_name(status),
               message ? message : "(no message)");
        failures++;
    }
    thuja_string_free(message);
    return status == THUJA_STATUS_OK;
}

static void expect(int condition, const char *what) {
    if (!condition) {
        printf("UNEXPECTED: %s\n", what);
        failures++;
    }
}

static void print_response(const char *label, const ThujaResponse *r) {
    printf("%-34s %s", label, r->decision == THUJA_DECISION_ALLOW ? "ALLOW" : "DENY");
    for (size_t i = 0; i < r->reasons_len; i++) {
        printf("%s%s", i == 0 ? " (" : ", ", r->reasons[i]);
    }
    printf("%s\n", r->reasons_len > 0 ? ")" : "");
    for (size_t i = 0; i < r->errors_len; i++) {
        const ThujaPolicyError *e = &r->errors[i];
        printf("    error in %s at %s:%u:%u: %s\n", e->policy_id, e->file ? e->file : "?", e->line,
               e->column, e->message);
    }
}

/* Decides and checks the decision and the first reason (NULL: none). */
static void decide(const ThujaEngine *engine, const char *label, const char *principal,
                   const char *action, const char *resource, const char *context,
                   ThujaDecision expected, const char *reason) {
    ThujaResponse *response = NULL;
    char *message = NULL;
    ThujaStatus status =
        thuja_engine_decide(engine, principal, action, resource, context, &response, &message);
    if (!ok(status, message, label)) {
        return;
    }
    print_response(label, response);
    expect(response->decision == expected, label);
    if (reason == NULL) {
        expect(response->reasons_len == 0, label);
    } else {
        expect(response->reasons_len >= 1 && strcmp(response->reasons[0], reason) == 0, label);
    }
    thuja_response_free(response);
}

static char *path(const char *dir, const char *file) {
    size_t size = strlen(dir) + strlen(file) + 2;
    char *out = malloc(size);
    snprintf(out, size, "%s/%s", dir, file);
    return out;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "examples/tinytodo";
    char *policies = path(dir, "policies.cedar");
    char *schema = path(dir, "tinytodo.cedarschema");
    char *entities = path(dir, "entities.json");
    printf("thuja %s\n", thuja_version());

    ThujaEngineOptions options = thuja_engine_options_default();
    ThujaEngine *engine = NULL;
    char *message = NULL;
    ThujaStatus status =
        thuja_engine_from_files(policies, schema, entities, NULL, &options, &engine, &message);
    free(policies);
    free(schema);
    free(entities);
    if (!ok(status, message, "thuja_engine_from_files")) {
        return 1;
    }
    if (argc > 2 && strcmp(argv[2], "--leak-on-purpose") == 0) {
        /* For the tests: a leak valgrind must report (the engine is never freed). */
        engine = NULL;
        printf("leaked an engine\n");
        return 0;
    }

    const char *alice = "TinyTodo::User::\"alice\"";
    const char *casey = "TinyTodo::User::\"casey\"";
    const char *groceries = "TinyTodo::List::\"groceries\"";
    decide(engine, "alice UpdateTask groceries", alice, "TinyTodo::Action::\"UpdateTask\"",
           groceries, NULL, THUJA_DECISION_ALLOW, "editors-edit");
    decide(engine, "casey UpdateTask groceries", casey, "TinyTodo::Action::\"UpdateTask\"",
           groceries, NULL, THUJA_DECISION_DENY, NULL);
    decide(engine, "casey GetList groceries", "{\"type\": \"TinyTodo::User\", \"id\": \"casey\"}",
           "TinyTodo::Action::\"GetList\"", groceries, NULL, THUJA_DECISION_ALLOW, "readers-read");
    decide(engine, "bob DeleteList groceries (outside)", "TinyTodo::User::\"bob\"",
           "TinyTodo::Action::\"DeleteList\"", groceries, "{\"ip\": \"192.168.0.1\"}",
           THUJA_DECISION_DENY, "delete-from-office-only");

    /* The request file's JSON in, the response's JSON out. */
    char *json = NULL;
    status = thuja_engine_decide_json(
        engine,
        "{\"principal\": \"TinyTodo::User::\\\"alice\\\"\", \"action\": "
        "\"TinyTodo::Action::\\\"GetList\\\"\", \"resource\": \"TinyTodo::List::\\\"groceries\\\"\"}",
        &json, &message);
    if (ok(status, message, "thuja_engine_decide_json")) {
        printf("decide_json: %s\n", json);
        expect(strcmp(json, "{\"decision\":\"allow\",\"reasons\":[\"editors-edit\"],\"errors\":[]}") ==
                   0,
               "decide_json");
        thuja_string_free(json);
    }

    /* A batch, as JSON Lines: the second line is not a request. */
    status = thuja_engine_decide_batch(
        engine,
        "{\"principal\": \"TinyTodo::User::\\\"casey\\\"\", \"action\": "
        "\"TinyTodo::Action::\\\"CreateList\\\"\", \"resource\": "
        "\"TinyTodo::Application::\\\"TinyTodo\\\"\"}\n"
        "{\"principal\": 1}\n",
        &json, &message);
    if (ok(status, message, "thuja_engine_decide_batch")) {
        printf("decide_batch: %s\n", json);
        expect(strstr(json, "[{\"decision\":\"deny\",\"reasons\":[\"interns-do-not-create\"]") == json,
               "batch: the first answer");
        expect(strstr(json, "{\"error\":\"line 2: ") != NULL, "batch: the second answer");
        thuja_string_free(json);
    }

    /* A malformed uid: the status says what kind of failure, the message where. */
    ThujaResponse *response = NULL;
    status = thuja_engine_decide(engine, "TinyTodo::User::alice", "TinyTodo::Action::\"GetList\"",
                                 groceries, NULL, &response, &message);
    printf("malformed principal: %s\n%s\n", thuja_status_name(status), message);
    expect(status == THUJA_STATUS_INPUT && response == NULL, "a malformed uid is an input error");
    thuja_string_free(message);

    /* New policies; one fails on a request, and the response says where. */
    status = thuja_engine_swap_policies(
        engine,
        "@id(\"everyone-reads\")\n"
        "permit(principal, action == TinyTodo::Action::\"GetList\", resource);\n"
        "@id(\"veterans\") permit(principal, action == TinyTodo::Action::\"UpdateTask\", resource)\n"
        "  when { principal.joinedAt < datetime(\"2025-01-01\") };\n",
        NULL, &message);
    ok(status, message, "thuja_engine_swap_policies");
    decide(engine, "alice UpdateTask groceries (new)", alice, "TinyTodo::Action::\"UpdateTask\"",
           groceries, NULL, THUJA_DECISION_ALLOW, "veterans");
    status = thuja_engine_decide(engine, "TinyTodo::User::\"bob\"",
                                 "TinyTodo::Action::\"UpdateTask\"", groceries, NULL, &response,
                                 &message);
    if (ok(status, message, "bob UpdateTask groceries (new)")) {
        print_response("bob UpdateTask groceries (new)", response);
        expect(response->decision == THUJA_DECISION_DENY && response->errors_len == 1 &&
                   strcmp(response->errors[0].policy_id, "veterans") == 0 &&
                   strcmp(response->errors[0].file, "policies.cedar") == 0 &&
                   response->errors[0].line == 4 && response->errors[0].column == 10,
               "bob's request fails in `veterans`, at policies.cedar:4:10");
        thuja_response_free(response);
    }

    /* Entities changed: dana joins, then leaves. */
    status = thuja_engine_upsert_entities(
        engine,
        "[{\"uid\": {\"type\": \"TinyTodo::User\", \"id\": \"dana\"}, \"attrs\": {\"name\": "
        "\"Dana\"}, \"parents\": []}]",
        &message);
    ok(status, message, "thuja_engine_upsert_entities");
    decide(engine, "dana GetList groceries", "TinyTodo::User::\"dana\"",
           "TinyTodo::Action::\"GetList\"", groceries, NULL, THUJA_DECISION_ALLOW,
           "everyone-reads");
    const char *gone[] = {"TinyTodo::User::\"dana\""};
    status = thuja_engine_remove_entities(engine, gone, 1, &message);
    ok(status, message, "thuja_engine_remove_entities");

    /* An upsert that does not conform to the schema changes nothing. */
    status = thuja_engine_upsert_entities(
        engine, "[{\"uid\": {\"type\": \"TinyTodo::User\", \"id\": \"eve\"}, \"attrs\": {}, "
                "\"parents\": []}]",
        &message);
    printf("nonconforming entity: %s\n%s\n", thuja_status_name(status), message);
    expect(status == THUJA_STATUS_INPUT, "a nonconforming entity is refused");
    thuja_string_free(message);

    thuja_engine_free(engine);
    printf("%s\n", failures == 0 ? "all as expected" : "FAILURES");
    return failures == 0 ? 0 : 1;
}
