/* cmd_process.c: `lodestone process FILE... -o DIR`: the whole pipeline on one model, offline. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ingest.h"
#include "proto.h"

static const char usage_text[] =
    "usage: lodestone process FILE [SIDECAR...] -o DIR [options]\n"
    "\n"
    "Runs the whole pipeline on one model, offline (no Redis needed): safe parse, cleanup and\n"
    "quality report, fingerprints, LOD chain, GLB + Draco + meshopt encodings, certificate.\n"
    "Writes DIR/manifest.json, DIR/lod<N>[.draco|.meshopt].glb and DIR/certificate.json, and\n"
    "appends the certificate to the transparency log in $LODESTONE_HOME (default ./lodestone-data).\n"
    "The shape is looked up in, then added to, the local shape index $LODESTONE_HOME/shapes.jsonl:\n"
    "a model whose shape matches one processed before under another --owner gets a\n"
    "possible_duplicate warning in its report.\n"
    "SIDECAR files (.mtl, .bin, textures) are read from the model's directory; naming them records\n"
    "their digests in the certificate.\n"
    "\n"
    "options:\n"
    "  -o, --output DIR        output directory (created)\n"
    "      --lods LIST         LOD fractions of LOD0's triangles (default 0.5,0.25,0.125,0.0625;\n"
    "                          'none' for LOD0 only)\n"
    "      --max-error E       error budget of a level: deviation from LOD0 relative to its bbox\n"
    "                          diagonal (default 0.05); the chain ends before a level over it\n"
    "      --sloppy auto|never|allow  sloppy clustering when simplification stalls (default auto:\n"
    "                          only on models without UVs, normals, colours and with one material)\n"
    "      --no-texture-lods   keep LOD0's textures in every level (default: each level's textures\n"
    "                          shrink with its screen coverage, never below 64 px)\n"
    "      --no-normals        do not generate normals for a model without them\n"
    "      --no-draco          skip the Draco encoding\n"
    "      --no-meshopt        skip the meshopt encoding\n"
    "      --position-bits N   quantisation (default 14); --normal-bits N (10); --uv-bits N (12)\n"
    "      --title T --owner O --license SPDX --category C --tags 'a;b' --description D\n"
    "      --accession ID --capture-method M   heritage provenance\n"
    "      --parent CERT       certificate of the work this one derives from (repeatable)\n"
    "      --no-certificate    do not certify (no key, no log entry)\n"
    "      --no-sandbox        parse in-process (debugging only)\n"
    "      --no-shape-index    neither look up nor add to the local shape index\n"
    "      --time-limit T      wall-clock budget of the run (default $LODESTONE_MAX_JOB_SECONDS, 600 s;\n"
    "                          90, 90s, 10m, 1h): past it the run fails with exit status 1\n"
    "      --json              print the manifest on stdout\n"
    "  -h, --help              this text\n";

enum {
    OPT_LODS = 256,
    OPT_MAX_ERROR,
    OPT_SLOPPY,
    OPT_NO_TEXTURE_LODS,
    OPT_NO_NORMALS,
    OPT_NO_DRACO,
    OPT_NO_MESHOPT,
    OPT_POSITION_BITS,
    OPT_NORMAL_BITS,
    OPT_UV_BITS,
    OPT_TITLE,
    OPT_OWNER,
    OPT_LICENSE,
    OPT_CATEGORY,
    OPT_TAGS,
    OPT_DESCRIPTION,
    OPT_ACCESSION,
    OPT_CAPTURE,
    OPT_PARENT,
    OPT_NO_CERT,
    OPT_NO_SANDBOX,
    OPT_JSON,
    OPT_NO_SHAPE_INDEX,
    OPT_TIME_LIMIT,
};

/* ---- the time budget: a watchdog that ends the process, never in the middle of a log append ---- */

static struct {
    lds_watchdog *watchdog;
    const char *file;
    uint64_t ms;
    int from_option;
} budget;

static void budget_expired(void *ctx)
{
    (void)ctx;
    fprintf(stderr, "\nlodestone: %s: time limit of %llu s exceeded (%s); the run was stopped\n",
            lds_path_basename(budget.file), (unsigned long long)(budget.ms / 1000),
            budget.from_option ? "--time-limit" : "LODESTONE_MAX_JOB_SECONDS, or --time-limit");
    _exit(1);
}

static void show_progress(void *ctx, const char *stage, double fraction)
{
    const char *name = ctx;
    fprintf(stderr, "\r\033[K%s: %-12s %3.0f%%", name, stage, fraction * 100.0);
    if (fraction >= 1.0)
        fputc('\n', stderr);
    fflush(stderr);
}

static lds_status certify_offline(void *ctx, const char *statement, size_t size, char **bundle, uint64_t *index,
                                  lds_error *err)
{
    lds_watchdog_hold(budget.watchdog); /* never a half-appended log entry */
    lds_status st = lds_notary_certify(ctx, statement, size, bundle, index, err);
    lds_watchdog_release(budget.watchdog);
    return st;
}

/* ---- the local shape index: $LODESTONE_HOME/shapes.jsonl, one JSON object per processed model:
 * {"asset": title or file name, "title", "owner", "output": absolute output directory, "shape"}.
 * Lines that do not parse are skipped; a model processed again into the same directory is not
 * compared with itself, and is added once per fingerprint. ---- */

#define SHAPES_MAX_BYTES (64u << 20)

typedef struct local_shapes {
    char path[PATH_MAX];
    char output[PATH_MAX]; /* this run's output directory, absolute */
} local_shapes;

/* The lines of the index as JSON objects (an empty array when there is no index). */
static json_t *local_shapes_load(const char *path)
{
    json_t *lines = json_array();
    unsigned char *data = NULL;
    size_t size = 0;
    lds_error err;
    lds_error_clear(&err);
    if (lds_file_read(path, SHAPES_MAX_BYTES, &data, &size, &err) != LDS_OK) {
        if (err.code != LDS_ENOENT)
            lds_log_warn("%s: %s; the local shape index is not used", path, err.message);
        return lines;
    }
    for (size_t start = 0; start < size;) {
        const unsigned char *end = memchr(data + start, '\n', size - start);
        size_t n = end ? (size_t)(end - (data + start)) : size - start;
        json_t *line = json_loadb((const char *)data + start, n, 0, NULL);
        if (json_is_string(json_object_get(line, "shape")) && json_is_string(json_object_get(line, "asset")))
            json_array_append(lines, line);
        json_decref(line);
        start += n + 1;
    }
    free(data);
    return lines;
}

static const char *str_or_empty(const json_t *object, const char *key)
{
    const char *v = json_string_value(json_object_get(object, key));
    return v ? v : "";
}

static lds_status similar_offline(void *ctx, const char *fingerprint, lds_shape_match *matches, size_t max,
                                  size_t *count, lds_error *err)
{
    local_shapes *shapes = ctx;
    *count = 0;
    json_t *lines = local_shapes_load(shapes->path);
    lds_mesh_shape_index *index = lds_mesh_shape_index_create();
    lds_status st = index ? LDS_OK : lds_error_set(err, LDS_ENOMEM, "shape index: out of memory");
    size_t i;
    json_t *line;
    json_array_foreach(lines, i, line)
    {
        if (st != LDS_OK || strcmp(str_or_empty(line, "output"), shapes->output) == 0)
            continue;
        char id[32];
        snprintf(id, sizeof(id), "%zu", i);
        lds_error ignored; /* a line of another fingerprint version is left out */
        lds_error_clear(&ignored);
        lds_mesh_shape_index_add(index, id, str_or_empty(line, "shape"), &ignored);
    }
    lds_mesh_shape_hit hits[64];
    size_t hit_count = 0;
    if (st == LDS_OK && lds_mesh_shape_index_size(index) > 0)
        st = lds_mesh_shape_index_query(index, fingerprint, hits, 64, &hit_count, NULL, err);
    for (size_t h = 0; st == LDS_OK && h < hit_count && *count < max; h++) {
        if (!hits[h].match)
            continue;
        const json_t *e = json_array_get(lines, (size_t)strtoul(hits[h].id, NULL, 10));
        lds_shape_match *m = &matches[(*count)++];
        memset(m, 0, sizeof(*m));
        snprintf(m->asset, sizeof(m->asset), "%s", str_or_empty(e, "asset"));
        snprintf(m->title, sizeof(m->title), "%s", str_or_empty(e, "title"));
        snprintf(m->owner, sizeof(m->owner), "%s", str_or_empty(e, "owner"));
        m->similarity = hits[h].similarity;
        m->match = 1;
    }
    lds_mesh_shape_index_destroy(index);
    json_decref(lines);
    return st;
}

/* Appends this model to the index, unless it is there already (same output, same shape). */
static void local_shapes_add(const local_shapes *shapes, const lds_pipeline_options *o, const char *model,
                             const char *out_dir, const json_t *manifest)
{
    const char *shape = json_string_value(json_object_get(json_object_get(manifest, "fingerprint"), "shape"));
    char output[PATH_MAX];
    if (shape == NULL || realpath(out_dir, output) == NULL)
        return;
    json_t *lines = local_shapes_load(shapes->path);
    size_t i;
    json_t *line;
    int present = 0;
    json_array_foreach(lines, i, line) present |= strcmp(str_or_empty(line, "output"), output) == 0 &&
                                                  strcmp(str_or_empty(line, "shape"), shape) == 0;
    json_decref(lines);
    if (present)
        return;
    json_t *entry = json_pack("{s:s, s:s?, s:s?, s:s, s:s}", "asset", o->title ? o->title : lds_path_basename(model),
                              "title", o->title, "owner", o->owner, "output", output, "shape", shape);
    char *text = entry ? json_dumps(entry, JSON_COMPACT) : NULL;
    json_decref(entry);
    lds_error err;
    lds_error_clear(&err);
    int fd = -1;
    if (text && lds_dir_create(lds_home_dir(), 0755, &err) == LDS_OK &&
        (fd = open(shapes->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) >= 0) {
        /* one write of a whole line with O_APPEND: concurrent runs do not interleave */
        size_t n = strlen(text);
        text[n] = '\n';
        if (write(fd, text, n + 1) != (ssize_t)(n + 1))
            lds_log_warn("%s: %s", shapes->path, strerror(errno));
        close(fd);
    } else {
        lds_log_warn("%s: cannot add to the local shape index", shapes->path);
    }
    free(text);
}

static int parse_bits(const char *text, int *out, const char *what)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*end || v < 1 || v > 16)
        return lds_cli_usage_error("process", "%s: '%s' is not a number of bits from 1 to 16", what, text);
    *out = (int)v;
    return 0;
}

static void print_summary(const json_t *manifest, const char *out_dir)
{
    const json_t *report = json_object_get(manifest, "report");
    printf("%s: %lld triangles, %lld vertices -> %s\n", out_dir,
           (long long)json_integer_value(json_object_get(report, "triangles")),
           (long long)json_integer_value(json_object_get(report, "vertices")), out_dir);
    printf("%-5s %10s %10s %10s %9s %12s %12s %12s %12s\n", "level", "triangles", "vertices", "error", "coverage",
           "textures", "glb", "draco", "meshopt");
    size_t i;
    json_t *lod;
    json_array_foreach(json_object_get(manifest, "lods"), i, lod)
    {
        const json_t *files = json_object_get(lod, "files");
        printf("%-5lld %10lld %10lld %10.6f %9.4f", (long long)json_integer_value(json_object_get(lod, "level")),
               (long long)json_integer_value(json_object_get(lod, "triangles")),
               (long long)json_integer_value(json_object_get(lod, "vertices")),
               json_number_value(json_object_get(lod, "error")),
               json_number_value(json_object_get(lod, "screen_coverage")));
        printf(" %12lld", (long long)json_integer_value(json_object_get(lod, "texture_bytes")));
        const char *formats[] = {"glb", "draco", "meshopt"};
        for (int f = 0; f < 3; f++) {
            const json_t *file = json_object_get(files, formats[f]);
            if (file)
                printf(" %12lld", (long long)json_integer_value(json_object_get(file, "bytes")));
            else
                printf(" %12s", "-");
        }
        printf("\n");
    }
    const char *end = json_string_value(json_object_get(json_object_get(manifest, "chain"), "end"));
    if (end)
        printf("%s\n", end);
    const json_t *t = json_object_get(manifest, "timings_ms");
    printf("time: %.0f ms (import %.0f, report %.0f, fingerprint %.0f, lods %.0f, encode %.0f cpu)\n",
           json_number_value(json_object_get(t, "total")), json_number_value(json_object_get(t, "import")),
           json_number_value(json_object_get(t, "report")), json_number_value(json_object_get(t, "fingerprint")),
           json_number_value(json_object_get(t, "lods")), json_number_value(json_object_get(t, "encode")));
}

int lds_cmd_process(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"lods", required_argument, NULL, OPT_LODS},
        {"max-error", required_argument, NULL, OPT_MAX_ERROR},
        {"sloppy", required_argument, NULL, OPT_SLOPPY},
        {"no-texture-lods", no_argument, NULL, OPT_NO_TEXTURE_LODS},
        {"no-normals", no_argument, NULL, OPT_NO_NORMALS},
        {"no-draco", no_argument, NULL, OPT_NO_DRACO},
        {"no-meshopt", no_argument, NULL, OPT_NO_MESHOPT},
        {"position-bits", required_argument, NULL, OPT_POSITION_BITS},
        {"normal-bits", required_argument, NULL, OPT_NORMAL_BITS},
        {"uv-bits", required_argument, NULL, OPT_UV_BITS},
        {"title", required_argument, NULL, OPT_TITLE},
        {"owner", required_argument, NULL, OPT_OWNER},
        {"license", required_argument, NULL, OPT_LICENSE},
        {"category", required_argument, NULL, OPT_CATEGORY},
        {"tags", required_argument, NULL, OPT_TAGS},
        {"description", required_argument, NULL, OPT_DESCRIPTION},
        {"accession", required_argument, NULL, OPT_ACCESSION},
        {"capture-method", required_argument, NULL, OPT_CAPTURE},
        {"parent", required_argument, NULL, OPT_PARENT},
        {"no-certificate", no_argument, NULL, OPT_NO_CERT},
        {"no-sandbox", no_argument, NULL, OPT_NO_SANDBOX},
        {"json", no_argument, NULL, OPT_JSON},
        {"no-shape-index", no_argument, NULL, OPT_NO_SHAPE_INDEX},
        {"time-limit", required_argument, NULL, OPT_TIME_LIMIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    lds_pipeline_options o;
    lds_pipeline_options_init(&o);
    lds_error err;
    lds_error_clear(&err);
    if (lds_pipeline_limits_from_env(&o, &err) != LDS_OK)
        return lds_cli_fail_error(&err);
    const char *out_dir = NULL;
    const char *parents[16];
    size_t parent_count = 0;
    int json_out = 0, certify = 1, shape_index = 1, c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'h': fputs(usage_text, stdout); return 0;
        case OPT_LODS:
            if (lds_pipeline_parse_lods(&o, optarg, &err) != LDS_OK)
                return lds_cli_usage_error("process", "%s", err.message);
            break;
        case OPT_MAX_ERROR: {
            char *end;
            errno = 0;
            o.chain.max_error = strtod(optarg, &end);
            if (end == optarg || *end || errno || !(o.chain.max_error > 0 && o.chain.max_error <= 1))
                return lds_cli_usage_error("process", "--max-error: '%s' is not a number in (0, 1]", optarg);
            break;
        }
        case OPT_SLOPPY:
            if (strcmp(optarg, "auto") == 0)
                o.chain.sloppy = LDS_MESH_SLOPPY_AUTO;
            else if (strcmp(optarg, "never") == 0)
                o.chain.sloppy = LDS_MESH_SLOPPY_NEVER;
            else if (strcmp(optarg, "allow") == 0)
                o.chain.sloppy = LDS_MESH_SLOPPY_ALLOW;
            else
                return lds_cli_usage_error("process", "--sloppy: '%s' is not auto, never or allow", optarg);
            break;
        case OPT_NO_TEXTURE_LODS: o.texture_lods = 0; break;
        case OPT_NO_NORMALS: o.generate_normals = 0; break;
        case OPT_NO_DRACO: o.draco = 0; break;
        case OPT_NO_MESHOPT: o.meshopt = 0; break;
        case OPT_POSITION_BITS:
            if ((rc = parse_bits(optarg, &o.quantization.position_bits, "--position-bits")))
                return rc;
            break;
        case OPT_NORMAL_BITS:
            if ((rc = parse_bits(optarg, &o.quantization.normal_bits, "--normal-bits")))
                return rc;
            break;
        case OPT_UV_BITS:
            if ((rc = parse_bits(optarg, &o.quantization.uv_bits, "--uv-bits")))
                return rc;
            break;
        case OPT_TITLE: o.title = optarg; break;
        case OPT_OWNER: o.owner = optarg; break;
        case OPT_LICENSE: o.license = optarg; break;
        case OPT_CATEGORY: o.category = optarg; break;
        case OPT_TAGS: o.tags = optarg; break;
        case OPT_DESCRIPTION: o.description = optarg; break;
        case OPT_ACCESSION: o.accession = optarg; break;
        case OPT_CAPTURE: o.capture_method = optarg; break;
        case OPT_PARENT:
            if (parent_count == 16)
                return lds_cli_usage_error("process", "at most 16 --parent certificates");
            parents[parent_count++] = optarg;
            break;
        case OPT_NO_CERT: certify = 0; break;
        case OPT_NO_SANDBOX: o.use_sandbox = 0; break;
        case OPT_JSON: json_out = 1; break;
        case OPT_NO_SHAPE_INDEX: shape_index = 0; break;
        case OPT_TIME_LIMIT: {
            uint64_t ms;
            if (lds_duration_parse(optarg, "s", &ms) != LDS_OK || ms == 0)
                return lds_cli_usage_error("process", "--time-limit '%s': expected a duration such as 90, 90s or 10m",
                                           optarg);
            o.job_seconds = (unsigned)((ms + 999) / 1000);
            budget.from_option = 1;
            break;
        }
        default: return lds_cli_usage_error("process", "unknown option");
        }
    }
    if (optind >= argc)
        return lds_cli_usage_error("process", "no model file given");
    if (out_dir == NULL)
        return lds_cli_usage_error("process", "no output directory given (-o DIR)");
    const char *const *files = (const char *const *)argv + optind;
    size_t file_count = (size_t)(argc - optind);
    for (size_t i = 0; i < file_count; i++) {
        struct stat st;
        if (stat(files[i], &st) != 0)
            return lds_cli_fail(files[i], "%s", strerror(errno));
        if (!S_ISREG(st.st_mode))
            return lds_cli_fail(files[i], "not a regular file");
    }
    o.parent_paths = parents;
    o.parent_count = parent_count;
    if (lds_cli_is_tty()) {
        o.progress = show_progress;
        o.progress_ctx = (void *)lds_path_basename(files[0]);
    }

    lds_notary *notary = NULL;
    if (certify) {
        if (lds_notary_open(lds_home_dir(), &notary, &err) != LDS_OK)
            return lds_cli_fail_error(&err);
        o.certify = certify_offline;
        o.certify_ctx = notary;
    }
    local_shapes shapes = {0};
    if (shape_index) {
        snprintf(shapes.path, sizeof(shapes.path), "%s/shapes.jsonl", lds_home_dir());
        if (realpath(out_dir, shapes.output) == NULL) /* not there yet: as given */
            snprintf(shapes.output, sizeof(shapes.output), "%s", out_dir);
        o.similar = similar_offline;
        o.similar_ctx = &shapes;
    }
    json_t *manifest = NULL;
    budget.file = files[0];
    budget.ms = (uint64_t)o.job_seconds * 1000;
    if (budget.ms && lds_watchdog_start(budget.ms, budget_expired, NULL, &budget.watchdog, &err) != LDS_OK) {
        lds_notary_close(notary);
        return lds_cli_fail_error(&err);
    }
    lds_status st = lds_pipeline_run(&o, files, file_count, out_dir, &manifest, &err);
    lds_watchdog_hold(budget.watchdog); /* finished in time: the shape index is written whole */
    lds_notary_close(notary);
    if (st == LDS_OK && shape_index)
        local_shapes_add(&shapes, &o, files[0], out_dir, manifest);
    lds_watchdog_stop(budget.watchdog);
    budget.watchdog = NULL;
    if (st != LDS_OK) {
        if (o.progress)
            fputc('\n', stderr);
        return lds_cli_fail_error(&err);
    }
    if (json_out) {
        char *text = json_dumps(manifest, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
    } else {
        print_summary(manifest, out_dir);
    }
    json_decref(manifest);
    return 0;
}
