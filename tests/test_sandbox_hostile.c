/* test_sandbox_hostile.c: the hostile set through lds_sandbox_import_file (issue 5): every file of
 * assimp-testmodels' invalid/ folders, truncations and byte flips of real files, lying headers,
 * NaN coordinates, indices out of range, empty and random files, a zip bomb inside a 3MF. Each
 * must end in an error (or, for a mutated file that still makes sense, a valid model), never a
 * signal to this process, and every error must name the file. Mutated files are generated here,
 * at test time. */
#include <dirent.h>
#include <sys/stat.h>

#include "sandbox.h"
#include "testlib.h"

static lds_sandbox_limits limits;
static const char *tmp;
static int parsed, refused, crashed;

/* must_fail: 1 the file must be refused, 0 either outcome is fine. */
static void try_file(const char *path, int must_fail)
{
    lds_mesh_model *model = NULL;
    lds_error err;
    lds_error_clear(&err);
    lds_status st = lds_sandbox_import_file(path, &limits, 1, &model, &err);
    const char *base = lds_path_basename(path);
    if (st == LDS_OK) {
        parsed++;
        LDS_CHECK(model != NULL);
        if (must_fail) {
            fprintf(stderr, "%s: parsed, but it should have been refused\n", path);
            lds_test_failures++;
        }
        lds_mesh_model_destroy(model);
        return;
    }
    refused++;
    LDS_CHECK(model == NULL);
    if (st == LDS_ECRASH) {
        crashed++;
        fprintf(stderr, "  %s\n", err.message);
    }
    if (strstr(err.message, base) == NULL) {
        fprintf(stderr, "%s: the error does not name the file: %s: %s\n", path, lds_status_name(st), err.message);
        lds_test_failures++;
    }
}

static void write_file(const char *name, const void *data, size_t size, char *path, size_t path_size)
{
    snprintf(path, path_size, "%s/%s", tmp, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (size && fwrite(data, 1, size, f) != size)) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void try_bytes(const char *name, const void *data, size_t size, int must_fail)
{
    char path[2048];
    write_file(name, data, size, path, sizeof(path));
    try_file(path, must_fail);
    remove(path);
}

static void walk_invalid(const char *dir, int inside_invalid)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        int invalid = inside_invalid || strcmp(e->d_name, "invalid") == 0;
        if (S_ISDIR(sb.st_mode))
            walk_invalid(path, invalid);
        else if (inside_invalid && strcmp(e->d_name, "readme.txt") != 0)
            /* malformed2.obj only names a missing material: a model with a warning is right. */
            try_file(path, strcmp(e->d_name, "malformed2.obj") != 0);
    }
    closedir(d);
}

/* Every truncation at a few dozen points, and byte flips at pseudo-random offsets. */
static void mutate(const char *source)
{
    unsigned char *data;
    size_t size;
    lds_error err;
    if (lds_file_read(source, 1 << 24, &data, &size, &err) != LDS_OK || size == 0) {
        fprintf(stderr, "skipping %s: %s\n", source, err.message);
        return;
    }
    const char *base = lds_path_basename(source);
    char name[512];
    const size_t cuts = 24;
    for (size_t i = 0; i < cuts; i++) {
        size_t n = size * i / cuts;
        snprintf(name, sizeof(name), "cut%zu-%s", n, base);
        try_bytes(name, data, n, 0);
    }
    uint32_t seed = 12345;
    unsigned char *copy = malloc(size);
    for (int round = 0; round < 24; round++) {
        memcpy(copy, data, size);
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            copy[(seed >> 8) % size] ^= (unsigned char)(1u << ((seed >> 4) & 7));
        }
        snprintf(name, sizeof(name), "flip%d-%s", round, base);
        try_bytes(name, copy, size, 0);
    }
    free(copy);
    free(data);
}

static void make_3mf_bomb(void)
{
    int rc = lds_test_run(NULL,
                          "cd '%s' && python3 -c \""
                          "import zipfile\n"
                          "z = zipfile.ZipFile('bomb.3mf', 'w', zipfile.ZIP_DEFLATED)\n"
                          "z.writestr('[Content_Types].xml', '<?xml version=\\\"1.0\\\"?><Types xmlns=\\\"http://schemas.openxmlformats.org/package/2006/content-types\\\"><Default Extension=\\\"model\\\" ContentType=\\\"application/vnd.ms-package.3dmanufacturing-3dmodel+xml\\\"/></Types>')\n"
                          "z.writestr('_rels/.rels', '<?xml version=\\\"1.0\\\"?><Relationships xmlns=\\\"http://schemas.openxmlformats.org/package/2006/relationships\\\"><Relationship Target=\\\"/3D/3dmodel.model\\\" Id=\\\"rel0\\\" Type=\\\"http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel\\\"/></Relationships>')\n"
                          "f = z.open('3D/3dmodel.model', 'w', force_zip64=True)\n"
                          "f.write(b'<?xml version=\\\"1.0\\\"?><model unit=\\\"millimeter\\\"><resources><object id=\\\"1\\\"><mesh><vertices>')\n"
                          "chunk = b'<vertex x=\\\"0\\\" y=\\\"0\\\" z=\\\"0\\\"/>' * 32768\n"
                          "[f.write(chunk) for i in range(1400)]\n"
                          "f.close()\n"
                          "z.close()\n\"",
                          tmp);
    if (rc != 0) {
        fprintf(stderr, "cannot build bomb.3mf (python3 missing?)\n");
        return;
    }
    char path[2048];
    snprintf(path, sizeof(path), "%s/bomb.3mf", tmp);
    struct stat sb;
    stat(path, &sb);
    fprintf(stderr, "bomb.3mf: %lld bytes zipped\n", (long long)sb.st_size);
    try_file(path, 1);
}

int main(void)
{
    tmp = lds_test_tmpdir("sandbox_hostile");
    memset(&limits, 0, sizeof(limits));
    limits.wall_seconds = 20;
    limits.memory_bytes = 1024ull << 20;

    /* Written here: lying headers, bad numbers, bad indices, nothing at all. */
    static const char ply_huge[] = "ply\nformat binary_little_endian 1.0\nelement vertex 2000000000\n"
                                   "property float x\nproperty float y\nproperty float z\nend_header\n"
                                   "\0\0\0\0\0\0\0\0\0\0\0\0";
    try_bytes("huge.ply", ply_huge, sizeof(ply_huge) - 1, 1);
    static const char ply_faces[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                                    "property float z\nelement face 2000000000\nproperty list uchar int vertex_indices\n"
                                    "end_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n";
    try_bytes("hugefaces.ply", ply_faces, sizeof(ply_faces) - 1, 1);
    static const char ply_nan[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                                  "property float z\nelement face 1\nproperty list uchar int vertex_indices\n"
                                  "end_header\nnan 0 0\n1 inf 0\n0 1 0\n3 0 1 2\n";
    try_bytes("nan.ply", ply_nan, sizeof(ply_nan) - 1, 1);
    static const char obj_nan[] = "v nan 0 0\nv 1 0 0\nv 0 1 -inf\nf 1 2 3\n";
    try_bytes("nan.obj", obj_nan, sizeof(obj_nan) - 1, 1);
    static const char ply_index[] = "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\n"
                                    "property float z\nelement face 1\nproperty list uchar int vertex_indices\n"
                                    "end_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 99\n";
    try_bytes("index.ply", ply_index, sizeof(ply_index) - 1, 1);
    static const char obj_index[] = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4000000000\n";
    try_bytes("index.obj", obj_index, sizeof(obj_index) - 1, 1);
    static const char *const extensions[] = {"ply", "stl", "obj", "glb", "gltf", "fbx", "3ds", "dae", "3mf", "off",
                                             "blend", "x", "md5mesh", "lwo", "ifc", "ase", "ms3d"};
    uint32_t seed = 99;
    unsigned char random_bytes[4096];
    for (size_t i = 0; i < sizeof(random_bytes); i++) {
        seed = seed * 1664525u + 1013904223u;
        random_bytes[i] = (unsigned char)(seed >> 24);
    }
    for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "empty.%s", extensions[i]);
        try_bytes(name, "", 0, 1);
        snprintf(name, sizeof(name), "random.%s", extensions[i]);
        try_bytes(name, random_bytes, sizeof(random_bytes), 1);
    }
    make_3mf_bomb();

    /* assimp-testmodels: invalid/ folders, and mutations of a few real files. */
    struct stat sb;
    if (stat(LDS_ASSIMP_MODELS, &sb) == 0) {
        walk_invalid(LDS_ASSIMP_MODELS, 0);
        static const char *const sources[] = {"PLY/cube.ply", "PLY/cube_binary.ply", "STL/Spider_ascii.stl",
                                              "OBJ/box.obj", "glTF2/BoxTextured-glTF-Binary/BoxTextured.glb",
                                              "3DS/fels.3ds", "OFF/Cube.off", "Collada/duck.dae"};
        for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", LDS_ASSIMP_MODELS, sources[i]);
            if (stat(path, &sb) == 0)
                mutate(path);
            else
                fprintf(stderr, "not found: %s\n", path);
        }
    } else {
        fprintf(stderr, "assimp-testmodels not installed: only the generated files ran\n");
    }
    fprintf(stderr, "hostile set: %d parsed, %d refused (%d parser crashes contained)\n", parsed, refused, crashed);
    return lds_test_result();
}
