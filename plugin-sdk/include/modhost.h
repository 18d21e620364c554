/*
 * modhost.h: the modhost plugin ABI, version 1.2 (1.1 added typed exports; 1.2 added
 * call deadlines, client ids, notify_client, the shadow flag, growable typed exports that
 * may take the instance, and the minor-version policy below).
 *
 * This header is the only contract between the modhost host process and a plugin.
 * A plugin is a shared library that exports exactly one symbol, mh_plugin_entry,
 * returning a pointer to a static mh_plugin descriptor. Everything else the plugin
 * needs from the host (logging, events, calls to other modules, its persistent
 * store, timers, the clock, completing calls) arrives as a table of function
 * pointers (mh_host_api) when the host calls the plugin's init.
 *
 * Rules that hold everywhere:
 *   - Every struct crossing the boundary begins with `abi_version` and
 *     `struct_size`. Minor versions only append fields; a reader touches a field
 *     only when `struct_size` covers it (the policy is under "Versions"). A changed
 *     function or struct gets a new name (call_v2, mh_export_v2).
 *   - Payloads are UTF-8 JSON given as (pointer, length). Pointers the host
 *     passes in are borrowed: valid until the function they were passed to
 *     returns, unless stated otherwise. Never free them.
 *   - Results travel back by calling a host function that copies the bytes
 *     (respond, fail, out_write). The host never frees plugin memory and the
 *     plugin never frees host memory.
 *   - Threading: the host calls one module instance from one thread at a time:
 *     handle, typed exports, on_event, timer and reply callbacks and the
 *     lifecycle entries never overlap, and run in the order they were queued.
 *     With MH_FLAG_CONCURRENT in the descriptor, handle, typed exports, on_event,
 *     timer and reply callbacks may run on several threads at once, overlapping
 *     each other, in no guaranteed order; the lifecycle entries (init, start,
 *     stop, destroy, export_state, import_state) still never overlap anything.
 *     Different modules run in parallel. Every mh_host_api function may be called from
 *     any thread, at any time between init and the return of destroy; called
 *     later (a thread of the plugin that outlived its instance), the functions
 *     taking an mh_context return MH_EXPIRED (now_ms too, timer_start 0, log
 *     drops the line): the host never touches a destroyed instance.
 *
 * A minimal plugin in C (build: cc -shared -fPIC -fvisibility=hidden ping.c -o libping.so):
 *
 *     #include "modhost.h"
 *     static const mh_host_api *host;
 *     static void *ping_init(const mh_init_info *info, mh_out *error) {
 *         (void)error; host = info->host; return (void *)info->ctx;
 *     }
 *     static int32_t ping_handle(void *self, mh_call *call, const char *method,
 *                                size_t method_len, const char *params, size_t params_len) {
 *         (void)self; (void)method; (void)method_len; (void)params; (void)params_len;
 *         return host->respond(call, "\"pong\"", 6);
 *     }
 *     static const char *const methods[] = { "ping", NULL };
 *     static const mh_plugin plugin = {
 *         .abi_version = MH_ABI_VERSION, .struct_size = sizeof(mh_plugin),
 *         .id = "ping", .version = "1.0.0", .methods = methods,
 *         .init = ping_init, .handle = ping_handle,
 *     };
 *     MH_EXPORT const mh_plugin *mh_plugin_entry(void) { return &plugin; }
 */
#ifndef MODHOST_H
#define MODHOST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions ---------------------------------------------------------- */

#define MH_ABI_MAJOR 1
#define MH_ABI_MINOR 2
/* abi_version fields hold (major << 16) | minor. */
#define MH_ABI_VERSION 0x00010002u /* (MH_ABI_MAJOR << 16) | MH_ABI_MINOR, a plain literal so Swift imports it */
#define MH_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define MH_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xffffu)

#if defined(__cplusplus) && __cplusplus >= 201103L
static_assert(MH_ABI_VERSION == (((uint32_t)MH_ABI_MAJOR << 16) | (uint32_t)MH_ABI_MINOR),
              "MH_ABI_VERSION must be (MH_ABI_MAJOR << 16) | MH_ABI_MINOR");
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
_Static_assert(MH_ABI_VERSION == (((uint32_t)MH_ABI_MAJOR << 16) | (uint32_t)MH_ABI_MINOR),
               "MH_ABI_VERSION must be (MH_ABI_MAJOR << 16) | MH_ABI_MINOR");
#else
typedef char mh_abi_version_matches_major_and_minor
    [MH_ABI_VERSION == (((uint32_t)MH_ABI_MAJOR << 16) | (uint32_t)MH_ABI_MINOR) ? 1 : -1];
#endif

/* The minor-version policy, applied alike by the host and by plugins (C and the
 * Swift SDK):
 *   - A host loads a plugin whose major equals its own, whatever either minor is:
 *     a 1.0 plugin on a 1.2 host, and a plugin built against 1.3 on a 1.2 host.
 *     Another major is refused, naming both versions and the file.
 *   - Minors only append fields, marked "since 1.x"; no field moves or changes
 *     meaning. A struct that cannot grow in place is frozen and a successor with a
 *     new name is appended (mh_export, mh_export_v2).
 *   - Whoever reads a struct the other side built reads a field only when that
 *     struct's struct_size covers it; an uncovered field is absent (zero, NULL).
 *     The host copies min(struct_size, its own sizeof) bytes of every plugin struct
 *     into a zeroed one: it never reads past what the plugin built, and ignores the
 *     fields of a newer minor it does not know.
 *   - A plugin uses a host-table function or an mh_init_info field only when
 *     MH_HAS says the host's struct covers it (a host fills every function its
 *     struct_size covers; the 1.0 fields are always there). A plugin built against
 *     1.2 thus runs on a 1.1 host and finds the 1.2 services absent:
 *         if (MH_HAS(host, call_v2)) host->call_v2(ctx, m, ml, p, pl, 600000, on_reply, u);
 *         else                       host->call(ctx, m, ml, p, pl, on_reply, u);
 *   - Flag bits a reader does not know are ignored, so a new flag may only ask for
 *     something the plugin can do without.
 *   - The host refuses a descriptor too small for the fields every 1.x mh_plugin has
 *     (those of ABI 1.0), and an export entry too small for its fields, with a
 *     message naming the file, the struct, the field and both versions. */
#define MH_HAS(s, field) \
    ((size_t)((const char *)&(s)->field - (const char *)(s)) + sizeof((s)->field) <= (size_t)(s)->struct_size)

#if defined(__GNUC__) || defined(__clang__)
#define MH_EXPORT __attribute__((visibility("default")))
#else
#define MH_EXPORT
#endif

/* ---- Return codes and JSON-RPC error codes ----------------------------- */

#define MH_OK 0          /* done: for handle, the call was completed before returning */
#define MH_PENDING 1     /* handle only: the call will be completed later, from any thread */
#define MH_ERROR (-1)    /* failed; see the function's notes */
#define MH_EXPIRED (-2)  /* respond/fail on a call that was already completed or timed out */
#define MH_NO_CLIENT (-3) /* notify_client: no client has that id (it disconnected); since 1.2 */

/* Codes a plugin may pass to fail(). -32602, -32603 and -32601 reach the caller
 * as they are; any other code is the plugin's own and reaches the caller as
 * -32000 "module error". Either way the caller's data is {"module":id,"code":code}
 * with the members of the plugin's data object lifted beside them
 * ({"reason":"no_target_available","retryAfterMs":1200} reads as data.reason):
 * the host's two fields win a clash, and a clashing member stays under
 * data.details; data that is not an object is data.details whole. */
#define MH_ERR_METHOD_NOT_FOUND (-32601)
#define MH_ERR_INVALID_PARAMS (-32602)
#define MH_ERR_INTERNAL (-32603)

/* Log levels for mh_host_api.log, as swift-log's. */
#define MH_LOG_TRACE 0
#define MH_LOG_DEBUG 1
#define MH_LOG_INFO 2
#define MH_LOG_NOTICE 3
#define MH_LOG_WARNING 4
#define MH_LOG_ERROR 5
#define MH_LOG_CRITICAL 6

/* Descriptor flags (mh_plugin.flags). */
/* MH_FLAG_CONCURRENT: the instance is thread-safe: handle, typed exports, on_event,
 * timer and reply callbacks may run on several threads at once, overlapping each
 * other, in no guaranteed order. Lifecycle entries still run alone (see Threading).
 * MH_FLAG_UNLOADABLE: plain C only: the image may be dlclose()d when retired; no
 * plugin thread may run code from the image once destroy has returned (join them in stop).
 * MH_FLAG_MULTI_INSTANCE (since 1.2): two generations of the module may serve at once
 * (modules.swap mode "canary"): each instance gets a share of the calls, every event
 * it subscribes to and its own timers, and both read and write the module's one store
 * and data directory. Neither instance sees the other's memory, so what both must
 * agree on lives in the store; at promotion the canary instance simply serves on, at
 * rollback the old one does. Both generations must declare it. A host that does not
 * know the flag ignores it. */
#define MH_FLAG_CONCURRENT 0x1ull
#define MH_FLAG_UNLOADABLE 0x2ull
#define MH_FLAG_MULTI_INSTANCE 0x4ull

/* mh_init_info.flags (since 1.2). */
/* MH_INIT_SHADOW: the instance is a shadow (modules.swap mode "shadow"): it gets
 * mirrored calls whose results are only compared. It must cause no outside effect
 * (no HTTP, no files, no dispatch to workers); the host already keeps its store
 * writes in an overlay and drops its events and calls. */
#define MH_INIT_SHADOW 0x1ull

/* mh_export_v2.flags (since 1.2). */
/* MH_EXPORT_INSTANCE: the C function takes the instance (the pointer init returned)
 * as an extra first parameter, void *instance, not written in the signature. */
#define MH_EXPORT_INSTANCE 0x1ull

/* The longest deadline call_v2 accepts: 24 h. */
#define MH_MAX_DEADLINE_MS 86400000ull

/* ---- Opaque handles ---------------------------------------------------- */

/* The host's handle for one module instance: an opaque token, never dereferenced.
 * Valid from init until destroy returns; afterwards the host answers MH_EXPIRED. */
typedef struct mh_context mh_context;
/* One call to complete with respond() or fail(), exactly once. Valid until then. */
typedef struct mh_call mh_call;
/* A byte sink for lifecycle results (state, error messages). Valid for the call it was passed to. */
typedef struct mh_out mh_out;

/* ---- Callbacks the plugin hands to the host ---------------------------- */

/* Reply to mh_host_api.call / call_v2. error_code 0: json is the result. Otherwise
 * error_code is the code the control channel would show (see fail() for how a
 * callee's own codes map; -32004 when the call passed its deadline) and json is the
 * whole JSON-RPC error object ({"code":…,"message":…,"data":…}). json is borrowed
 * and NUL-terminated. Called exactly once, on the calling instance's queue (see
 * Threading), unless that instance was destroyed first. */
typedef void (*mh_reply_fn)(void *user, int32_t error_code, const char *json, size_t json_len);

/* A timer fired. Runs on the instance's queue, like its other entries (Threading). */
typedef void (*mh_timer_fn)(void *user, uint64_t timer_id);

/* One store entry; key and value are borrowed for the duration of the callback,
 * which runs on the thread that called store_get / store_list. */
typedef void (*mh_kv_fn)(void *user, const char *key, size_t key_len, const char *value, size_t value_len);

/* ---- Host services: a table passed in at init -------------------------- */

typedef struct mh_host_api {
    uint32_t abi_version;
    uint32_t struct_size;

    /* Log a message (copied) to the host's log on stderr, labelled with the module id. */
    void (*log)(mh_context *ctx, int32_t level, const char *msg, size_t msg_len);

    /* Complete a call with a JSON result (copied). Returns MH_OK, MH_EXPIRED if the
     * call was already completed or timed out (the result is dropped), or MH_ERROR
     * if json is not valid JSON (the call is then failed with -32603). */
    int32_t (*respond)(mh_call *call, const char *json, size_t json_len);

    /* Complete a call with an error. message is UTF-8 text (copied); data_json is
     * optional JSON (NULL/0 for none) placed in the error's data. Returns as respond. */
    int32_t (*fail)(mh_call *call, int32_t code, const char *message, size_t message_len,
                    const char *data_json, size_t data_len);

    /* Append bytes (copied) to a lifecycle sink: the state in export_state, the
     * error message in init/start/import_state. Returns MH_OK. */
    int32_t (*out_write)(mh_out *out, const char *bytes, size_t len);

    /* Publish an event to every subscriber (modules and control-channel clients).
     * data_json is copied; NULL/0 means null. Returns MH_OK, or MH_ERROR for
     * invalid JSON or an empty topic. Delivery is asynchronous. */
    int32_t (*publish)(mh_context *ctx, const char *topic, size_t topic_len,
                       const char *data_json, size_t data_len);

    /* Subscribe / unsubscribe this instance at run time, in addition to the
     * descriptor's subscriptions. Patterns may contain '*', matching any run of
     * characters ("health.*"). Events arrive through on_event. */
    int32_t (*subscribe)(mh_context *ctx, const char *pattern, size_t pattern_len);
    int32_t (*unsubscribe)(mh_context *ctx, const char *pattern, size_t pattern_len);

    /* Call another module's method asynchronously: method is "<module>.<method>",
     * params_json the params (NULL/0: none). Everything is copied. on_reply is
     * called exactly once, later, never from inside this function. Returns MH_OK,
     * or MH_ERROR if the arguments are malformed (on_reply is then not called).
     * The callee's call has the host's deadline, --call-timeout-ms (call_v2 sets one). */
    int32_t (*call)(mh_context *ctx, const char *method, size_t method_len,
                    const char *params_json, size_t params_len, mh_reply_fn on_reply, void *user);

    /* The module's persistent store: keys are UTF-8 strings, values are bytes,
     * namespaced per module id, durable across restarts and hot swaps.
     * store_get calls on_value once (value borrowed) and returns 1 if found,
     * 0 if not, MH_ERROR on failure. store_put / store_delete return MH_OK or
     * MH_ERROR; a write is durable when it returns (survives a killed host).
     * store_list calls each(user, key, value) for every key starting with
     * prefix, in key order, and returns the count or MH_ERROR. */
    int32_t (*store_get)(mh_context *ctx, const char *key, size_t key_len, mh_kv_fn on_value, void *user);
    int32_t (*store_put)(mh_context *ctx, const char *key, size_t key_len, const char *value, size_t value_len);
    int32_t (*store_delete)(mh_context *ctx, const char *key, size_t key_len);
    int32_t (*store_list)(mh_context *ctx, const char *prefix, size_t prefix_len, mh_kv_fn each, void *user);

    /* The host clock in milliseconds since the Unix epoch. Under --manual-clock it
     * moves only by clock.advance / clock.set. Never read the system clock directly. */
    int64_t (*now_ms)(mh_context *ctx);

    /* Start a timer due delay_ms from now on the host clock, repeating every
     * repeat_ms if non-zero. Returns its id (> 0), or 0 on error. fn runs
     * on the instance's queue like its other entries. Timers of an instance are
     * cancelled when it is stopped. timer_cancel returns MH_OK, or MH_ERROR if
     * the id is unknown; once it returns, fn is not called for that timer again
     * and is not running (a firing under way on another thread, possible with
     * MH_FLAG_CONCURRENT, is waited for; from inside fn itself it returns at once). */
    uint64_t (*timer_start)(mh_context *ctx, uint64_t delay_ms, uint64_t repeat_ms, mh_timer_fn fn, void *user);
    int32_t (*timer_cancel)(mh_context *ctx, uint64_t timer_id);

    /* since 1.2: check with MH_HAS(host, <function>) before use. */

    /* As call, with a deadline of its own: the callee's call fails with -32004 (and
     * on_reply gets that error) unless completed within deadline_ms of now, on the
     * monotonic clock, however long --call-timeout-ms is. 0 means --call-timeout-ms.
     * Returns MH_OK, or MH_ERROR for malformed arguments or a deadline_ms over
     * MH_MAX_DEADLINE_MS (24 h); on_reply is then not called. */
    int32_t (*call_v2)(mh_context *ctx, const char *method, size_t method_len,
                       const char *params_json, size_t params_len, uint64_t deadline_ms,
                       mh_reply_fn on_reply, void *user);

    /* The milliseconds left before the deadline of an open call (inside handle, or
     * pending), 0 once it is due; MH_EXPIRED once the call was completed or timed
     * out; MH_ERROR for NULL. A module's own timeouts belong on the host clock
     * (timer_start); this is the caller's patience, on the monotonic clock. */
    int64_t (*call_remaining_ms)(mh_call *call);

    /* Which control-channel client (connection) an open call came from: its id,
     * >= 1 (stdio is 1), or 0 when a module (call, call_v2) or the host itself made
     * the call; MH_EXPIRED / MH_ERROR as call_remaining_ms. Keep it to answer that
     * client later with notify_client. */
    int64_t (*call_client)(mh_call *call);

    /* Send an event notification ({"jsonrpc":"2.0","method":"event","params":
     * {"topic":…,"data":…,"ts":…}}) to one client only, whatever it subscribed to.
     * data_json is copied; NULL/0 means null. Returns MH_OK (also when the event is
     * dropped and counted because the client is too far behind reading, as publish
     * does), MH_NO_CLIENT when no client has that id (0, or one that disconnected),
     * MH_ERROR for invalid JSON or an empty topic. A shadow's notifications are
     * dropped (MH_OK). */
    int32_t (*notify_client)(mh_context *ctx, uint64_t client_id, const char *topic, size_t topic_len,
                             const char *data_json, size_t data_len);
} mh_host_api;

/* ---- What init receives ------------------------------------------------ */

typedef struct mh_init_info {
    uint32_t abi_version;
    uint32_t struct_size;
    const mh_host_api *host; /* valid until destroy returns */
    mh_context *ctx;         /* this instance's handle; valid until destroy returns */
    const char *config_json; /* the module's config section, "{}" when none; borrowed for init */
    size_t config_len;
    const char *data_dir;    /* NUL-terminated; an existing directory for the module's bulk files; valid until destroy */
    const char *server_id;   /* NUL-terminated; valid until destroy */
    const char *module_id;   /* NUL-terminated; the descriptor's id; valid until destroy */
    uint64_t flags;          /* since 1.2: MH_INIT_*; check MH_HAS(info, flags) */
} mh_init_info;

/* ---- Typed exports (since 1.1) ----------------------------------------- */

/* A plain C function the host calls through libffi, converting JSON arguments and
 * results, so a C plugin can expose functions without parsing JSON. Reached as
 * "<id>.<name>" like a method (names must not clash with methods), over the
 * control channel or from another module; listed by modules.describe.
 *
 * signature: "<result>(<param>,<param>,...)", e.g. "i64(i64,i64)", "f64(f64,i32)",
 * "str(str)", "void()". Types:
 *   void (result only)  bool (C bool)  i8 i16 i32 i64 (int8_t..int64_t)
 *   u8 u16 u32 u64 (uint8_t..uint64_t)  f32 (float)  f64 (double)
 *   str    parameter: const char *, NUL-terminated UTF-8, borrowed for the call.
 *          result: const char *, borrowed: the host copies it at once; it must stay
 *          valid until the function returns to the host (static or thread-local
 *          storage), or, when `release` is set, until the host calls release(result).
 *          NULL becomes JSON null.
 *   bytes  parameter only: two C parameters, const uint8_t *data, size_t length
 *          (base64 in JSON), borrowed for the call.
 * Arguments come as a JSON array (positional) or, when param_names is set, an object
 * by name. Every value is range- and type-checked: a wrong arity, a string for a
 * number, 2^40 for an i32, a fraction or a non-finite number for an integer are
 * answered -32602 naming the parameter; the function is never called with them.
 * The signature is validated at load: an unknown type or a malformed signature
 * fails the load with a message naming the export and the position.
 * Threading: as for handle: one at a time with the module's other entries, unless
 * MH_FLAG_CONCURRENT.
 *
 * Two lists describe them. mh_plugin.exports (1.1) is an array of mh_export read
 * with a stride of sizeof(mh_export): that struct is frozen, it never grows, and
 * each entry's struct_size must be exactly sizeof(mh_export). mh_plugin.exports_v2
 * (1.2) is an array of pointers to mh_export_v2, each entry with its own
 * struct_size, so entries can grow. Use exports_v2 for new code; an export that
 * takes the instance can only be listed there (a 1.1 host does not read that list,
 * so it never calls such a function without its instance). */
typedef struct mh_export {
    uint32_t abi_version;
    uint32_t struct_size;            /* sizeof(mh_export), exactly */
    const char *name;                /* [A-Za-z_][A-Za-z0-9_]* */
    void (*fn)(void);                /* the function, cast to void (*)(void) */
    const char *signature;
    const char *const *param_names;  /* NULL-terminated, one per parameter; or NULL */
    void (*release)(void *result);   /* optional: frees a str result after the host copied it */
} mh_export; /* frozen at its 1.1 layout */

/* since 1.2: one typed export in the growable list. The fields of mh_export, then: */
typedef struct mh_export_v2 {
    uint32_t abi_version;
    uint32_t struct_size;            /* sizeof(mh_export_v2) */
    const char *name;
    void (*fn)(void);
    const char *signature;
    const char *const *param_names;
    void (*release)(void *result);
    uint64_t flags;                  /* MH_EXPORT_*: MH_EXPORT_INSTANCE */
} mh_export_v2;

/* ---- The descriptor ---------------------------------------------------- */

typedef struct mh_plugin {
    uint32_t abi_version;    /* MH_ABI_VERSION the plugin was built against */
    uint32_t struct_size;    /* sizeof(mh_plugin) the plugin was built with */

    const char *id;          /* required: [a-z][a-z0-9_-]{0,63}; methods are reached as "<id>.<method>" */
    const char *version;     /* required: dotted numbers, e.g. "1.2.0" */
    const char *description; /* optional, one line */

    /* NULL-terminated lists, or NULL for none. All strings static.
     * requires: module ids, optionally with version constraints: "health", "token >=1.2 <2".
     * subscriptions: event topic patterns delivered to on_event ('*' wildcard).
     * methods: the method names handle accepts; anything else is answered -32601 by the host. */
    const char *const *requires;
    const char *const *subscriptions;
    const char *const *methods;

    uint64_t flags;          /* MH_FLAG_* */

    /* Create an instance. Returns it (any non-NULL pointer), or NULL after writing
     * a message to error (then the load fails with that message). Required. */
    void *(*init)(const mh_init_info *info, mh_out *error);
    /* Begin work (timers, threads). MH_OK, or MH_ERROR after writing to error;
     * after a failed start the host calls destroy, not stop. start may be called
     * again after stop (a failed hot swap restarts the old instance). Optional. */
    int32_t (*start)(void *instance, mh_out *error);
    /* Stop work: cancel what start began; no call arrives after stop. Optional. */
    void (*stop)(void *instance);
    /* Free the instance. Nothing is called on it afterwards. Optional. */
    void (*destroy)(void *instance);

    /* Handle a call to one of `methods`. method is NUL-terminated (borrowed, it is
     * the descriptor's own string). params is the request's raw JSON params, NUL-
     * terminated, "null" when the request had none; borrowed for this function.
     * Complete the call with respond() or fail() exactly once: before returning
     * MH_OK, or, when returning MH_PENDING, from any thread at any time after
     * handle was entered (even before handle returns: the host accepts either order).
     * Returning MH_OK without completing fails the call with -32603. Every call has
     * a deadline: --call-timeout-ms from when the host read a client's call, or
     * from a module's call (call_v2 sets its own). A call not completed by then is
     * failed with -32004, even while handle is still running; a later respond/fail
     * returns MH_EXPIRED. call_remaining_ms tells how much is left, call_client
     * who asked. A result bigger than the host's
     * --max-result-bytes (64 MiB by default) fails the call with -32603 (respond
     * returns MH_ERROR).
     * Required when methods is non-empty. */
    int32_t (*handle)(void *instance, mh_call *call, const char *method, size_t method_len,
                      const char *params, size_t params_len);

    /* An event matched one of this instance's subscriptions. topic and data
     * (JSON, "null" when none) are borrowed and NUL-terminated. Optional. */
    void (*on_event)(void *instance, const char *topic, size_t topic_len, const char *data, size_t data_len);

    /* Hot swap. export_state writes the instance's state (any bytes, JSON
     * recommended) to state and returns MH_OK or MH_ERROR; it is called after stop.
     * import_state receives that state (borrowed, NUL-terminated) from the
     * version from_version (NUL-terminated) before start, and returns MH_OK, or MH_ERROR after writing a
     * message to error. Optional; without them a swap carries no state
     * beyond the persistent store. */
    int32_t (*export_state)(void *instance, mh_out *state);
    int32_t (*import_state)(void *instance, const char *state, size_t state_len,
                            const char *from_version, mh_out *error);

    /* since 1.1: typed exports, export_count entries (read only when struct_size
     * covers these fields, so a 1.0 plugin simply has none). Frozen: see mh_export. */
    const mh_export *exports;
    size_t export_count;

    /* since 1.2: more typed exports, exports_v2_count pointers to entries that may
     * grow (see mh_export_v2). Names are unique across both lists. */
    const mh_export_v2 *const *exports_v2;
    size_t exports_v2_count;
} mh_plugin;

/* The one exported symbol. Returns a pointer to a descriptor that stays valid
 * while the library is loaded. Called once per load, on any thread. */
typedef const mh_plugin *(*mh_plugin_entry_fn)(void);
#define MH_PLUGIN_ENTRY_SYMBOL "mh_plugin_entry"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MODHOST_H */
