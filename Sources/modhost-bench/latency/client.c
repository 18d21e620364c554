/*
 * client.c: the C client of `modhost-bench latency`. A client in C costs the round trip
 * little of its own, so the figures are the server's (the bench's Swift client adds a few µs).
 *
 *     client PLAN CALLS WARMUP ROUNDS PIPELINED [PIPELINED-ROUNDS]
 *
 * PLAN is a file of tab-separated lines, in order:
 *     process  NAME  ARGV0  ARGV1 ...     start a server on pipes (stderr to /dev/null)
 *     setup    NAME  JSON-LINE            send it, read the answer, stop unless it has "result"
 *     latency  LABEL NAME  TEMPLATE       one call at a time; '@' in TEMPLATE becomes the id
 *     pipeline LABEL NAME  TEMPLATE       PIPELINED calls written by a thread while read back
 *
 * Every latency line gets WARMUP calls first; then ROUNDS rounds, each making CALLS / ROUNDS
 * calls of every latency line in turn (rounds interleaved, so a change in the machine's state
 * falls on all alike). Context switches of a server are the sum over /proc/PID/task/ * /status
 * (voluntary + nonvoluntary) just before and after each run of calls. Output, one line each:
 *     latency  LABEL p50 p99 p99.9 mean (µs) switches-per-call
 *     pipeline LABEL calls-per-second switches-per-call cpu-µs-per-call
 * Pipeline lines run PIPELINED-ROUNDS rounds (default: ROUNDS, at most 3), interleaved like the
 * latency rounds; each figure is the best of its rounds (highest rate, fewest switches, least
 * CPU: the time the server's threads spent on a CPU, from /proc/PID/task/ * /schedstat).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX 16

typedef struct server {
    char name[64];
    pid_t pid;
    int in, out; /* its stdin (we write), its stdout (we read) */
    char buffer[1 << 16];
    size_t start, end;
} server;

typedef struct entry {
    char label[128];
    server *server;
    char *template;
    double *samples;
    size_t count;
    double switches;
} entry;

static server servers[MAX];
static int server_count;
static entry latency[MAX], pipeline[MAX];
static int latency_count, pipeline_count;

static void die(const char *what, const char *detail) {
    fprintf(stderr, "latency client: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static server *find(const char *name) {
    for (int i = 0; i < server_count; i++)
        if (strcmp(servers[i].name, name) == 0) return &servers[i];
    die("no such process in the plan", name);
    return NULL;
}

static void start(server *s, char **argv) {
    int to[2], from[2];
    if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0) die("pipe", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) die("fork", strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(to[0], 0);
        dup2(from[1], 1);
        dup2(null, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    s->pid = pid;
    s->in = to[1];
    s->out = from[0];
}

/* Voluntary plus nonvoluntary context switches of every thread of the process. */
static long long switches(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *tasks = opendir(path);
    if (!tasks) die("cannot open", path);
    long long total = 0;
    struct dirent *task;
    while ((task = readdir(tasks)) != NULL) {
        if (task->d_name[0] == '.') continue;
        char status[320], line[256];
        snprintf(status, sizeof status, "/proc/%d/task/%s/status", (int)pid, task->d_name);
        FILE *f = fopen(status, "r");
        if (!f) continue; /* the thread ended meanwhile */
        while (fgets(line, sizeof line, f)) {
            long long n;
            if (sscanf(line, "voluntary_ctxt_switches: %lld", &n) == 1 || sscanf(line, "nonvoluntary_ctxt_switches: %lld", &n) == 1)
                total += n;
        }
        fclose(f);
    }
    closedir(tasks);
    return total;
}

static void write_all(int fd, const char *bytes, size_t length) {
    while (length > 0) {
        ssize_t n = write(fd, bytes, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("write to a server failed", strerror(errno));
        bytes += n;
        length -= (size_t)n;
    }
}

/* The next line from the server (NUL-terminated, newline removed), valid until the next read. */
static char *read_line(server *s) {
    for (;;) {
        char *newline = memchr(s->buffer + s->start, '\n', s->end - s->start);
        if (newline) {
            char *line = s->buffer + s->start;
            *newline = 0;
            s->start = (size_t)(newline - s->buffer) + 1;
            return line;
        }
        if (s->start > 0) {
            memmove(s->buffer, s->buffer + s->start, s->end - s->start);
            s->end -= s->start;
            s->start = 0;
        }
        if (s->end == sizeof s->buffer) die("a line too long from", s->name);
        ssize_t n = read(s->out, s->buffer + s->end, sizeof s->buffer - s->end);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("a server closed its output", s->name);
        s->end += (size_t)n;
    }
}

/* TEMPLATE with '@' replaced by `id`, and a newline. */
static size_t request(char *out, size_t size, const char *template, long id) {
    size_t n = 0;
    for (const char *p = template; *p && n + 32 < size; p++) {
        if (*p == '@') n += (size_t)snprintf(out + n, size - n, "%ld", id);
        else out[n++] = *p;
    }
    out[n++] = '\n';
    return n;
}

static void call(entry *e, long id, double *elapsed) {
    char line[4096];
    size_t length = request(line, sizeof line, e->template, id);
    double t0 = now_us();
    write_all(e->server->in, line, length);
    char *answer = read_line(e->server);
    double t1 = now_us();
    if (!strstr(answer, "\"result\"")) die("a call failed", answer);
    if (elapsed) *elapsed = t1 - t0;
}

typedef struct feed { int fd; const char *bytes; size_t length; } feed;

static void *feeder(void *argument) {
    feed *f = argument;
    write_all(f->fd, f->bytes, f->length);
    return NULL;
}

/* Time on a CPU of every thread of the process so far, in µs (/proc/PID/task/ * /schedstat,
 * in ns: finer than the tick of /proc/PID/stat). */
static double cpu_us(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *tasks = opendir(path);
    if (!tasks) die("cannot open", path);
    unsigned long long total = 0;
    struct dirent *task;
    while ((task = readdir(tasks)) != NULL) {
        if (task->d_name[0] == '.') continue;
        char stat[320];
        snprintf(stat, sizeof stat, "/proc/%d/task/%s/schedstat", (int)pid, task->d_name);
        FILE *f = fopen(stat, "r");
        if (!f) continue; /* the thread ended meanwhile */
        unsigned long long ns;
        if (fscanf(f, "%llu", &ns) == 1) total += ns;
        fclose(f);
    }
    closedir(tasks);
    return (double)total / 1e3;
}

typedef struct run { char *bytes; size_t length; double best, switches, cpu; } run;

/* One timed run of `calls` pipelined calls: the rate; the switches and CPU µs per call. */
static double run_pipeline_once(entry *e, run *p, long calls, double *switches_per_call, double *cpu_per_call) {
    server *s = e->server;
    long long before = switches(s->pid);
    double cpu_before = cpu_us(s->pid);
    double t0 = now_us();
    feed f = {s->in, p->bytes, p->length};
    pthread_t thread;
    pthread_create(&thread, NULL, feeder, &f);
    long seen = 0;
    while (seen < calls) {
        if (s->start == s->end) {
            s->start = s->end = 0;
            ssize_t n = read(s->out, s->buffer, sizeof s->buffer);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) die("a server closed its output", s->name);
            s->end = (size_t)n;
        }
        char *q = s->buffer + s->start, *stop = s->buffer + s->end;
        while ((q = memchr(q, '\n', (size_t)(stop - q))) != NULL) { seen++; q++; }
        s->start = s->end;
    }
    double rate = calls / ((now_us() - t0) / 1e6);
    pthread_join(thread, NULL);
    *switches_per_call = (double)(switches(s->pid) - before) / calls;
    *cpu_per_call = (cpu_us(s->pid) - cpu_before) / calls;
    return rate;
}

/* Every pipeline line, ROUNDS rounds interleaved (each round runs every line once, in turn):
 * the best rate, the fewest switches and the least CPU per call of its rounds. */
static void run_pipelines(long calls, int rounds) {
    static run runs[MAX];
    char *line = malloc(4096);
    for (int i = 0; i < pipeline_count; i++) {
        entry *e = &pipeline[i];
        runs[i].bytes = malloc((size_t)calls * (strlen(e->template) + 24));
        runs[i].length = 0;
        for (long k = 0; k < calls; k++) {
            size_t n = request(line, 4096, e->template, k);
            memcpy(runs[i].bytes + runs[i].length, line, n);
            runs[i].length += n;
        }
        runs[i].best = 0;
        runs[i].switches = runs[i].cpu = 1e300;
    }
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < pipeline_count; i++) {
            double switches_per_call, cpu_per_call;
            double rate = run_pipeline_once(&pipeline[i], &runs[i], calls, &switches_per_call, &cpu_per_call);
            if (rate > runs[i].best) runs[i].best = rate;
            if (switches_per_call < runs[i].switches) runs[i].switches = switches_per_call;
            if (cpu_per_call < runs[i].cpu) runs[i].cpu = cpu_per_call;
        }
    }
    for (int i = 0; i < pipeline_count; i++) {
        printf("pipeline\t%s\t%.0f\t%.3f\t%.3f\n", pipeline[i].label, runs[i].best, runs[i].switches, runs[i].cpu);
        free(runs[i].bytes);
    }
    free(line);
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const entry *e, double p) {
    size_t i = (size_t)(e->count * p);
    return e->samples[i < e->count ? i : e->count - 1];
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) die("usage: client PLAN CALLS WARMUP ROUNDS PIPELINED [PIPELINED-ROUNDS]", NULL);
    long calls = atol(argv[2]), warmup = atol(argv[3]), pipelined = atol(argv[5]);
    int rounds = atoi(argv[4]);
    int pipeline_rounds = argc == 7 ? atoi(argv[6]) : (rounds < 3 ? rounds : 3);
    signal(SIGPIPE, SIG_IGN);
    FILE *plan = fopen(argv[1], "r");
    if (!plan) die("cannot open the plan", argv[1]);
    static char text[1 << 16];
    while (fgets(text, sizeof text, plan)) {
        text[strcspn(text, "\n")] = 0;
        char *fields[64];
        int n = 0;
        for (char *field = strtok(text, "\t"); field && n < 63; field = strtok(NULL, "\t")) fields[n++] = field;
        fields[n] = NULL;
        if (n == 0) continue;
        if (strcmp(fields[0], "process") == 0 && n >= 3 && server_count < MAX) {
            server *s = &servers[server_count++];
            snprintf(s->name, sizeof s->name, "%s", fields[1]);
            start(s, fields + 2);
        } else if (strcmp(fields[0], "setup") == 0 && n == 3) {
            server *s = find(fields[1]);
            write_all(s->in, fields[2], strlen(fields[2]));
            write_all(s->in, "\n", 1);
            char *answer = read_line(s);
            if (!strstr(answer, "\"result\"")) die("a setup call failed", answer);
        } else if ((strcmp(fields[0], "latency") == 0 || strcmp(fields[0], "pipeline") == 0) && n == 4) {
            int isLatency = fields[0][0] == 'l';
            entry *e = isLatency ? &latency[latency_count++] : &pipeline[pipeline_count++];
            snprintf(e->label, sizeof e->label, "%s", fields[1]);
            e->server = find(fields[2]);
            e->template = strdup(fields[3]);
        } else {
            die("a plan line not understood", fields[0]);
        }
    }
    fclose(plan);

    for (int i = 0; i < latency_count; i++) {
        for (long k = 0; k < warmup; k++) call(&latency[i], -1 - k, NULL);
        latency[i].samples = malloc(sizeof(double) * (size_t)calls);
    }
    long per_round = calls / rounds;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < latency_count; i++) {
            entry *e = &latency[i];
            long long before = switches(e->server->pid);
            for (long k = 0; k < per_round; k++) {
                call(e, (long)e->count, &e->samples[e->count]);
                e->count++;
            }
            e->switches += (double)(switches(e->server->pid) - before);
        }
    }
    for (int i = 0; i < latency_count; i++) {
        entry *e = &latency[i];
        qsort(e->samples, e->count, sizeof(double), compare);
        double sum = 0;
        for (size_t k = 0; k < e->count; k++) sum += e->samples[k];
        printf("latency\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.3f\n", e->label, percentile(e, 0.5), percentile(e, 0.99),
               percentile(e, 0.999), sum / e->count, e->switches / e->count);
    }
    if (pipeline_count > 0) run_pipelines(pipelined, pipeline_rounds);
    fflush(stdout);

    for (int i = 0; i < server_count; i++) close(servers[i].in);
    for (int i = 0; i < server_count; i++) waitpid(servers[i].pid, NULL, 0);
    return 0;
}
